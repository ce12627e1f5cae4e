"""The baseline's character n-grams, computed with numpy: the same columns and values as
scikit-learn's char_wb TF-IDF (sublinear tf, smooth idf, L2 norm)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from tierwatch.antifraud.char_grams import CharGrams, keys

TEXTS = [
    "您的验证码是 4821，五分钟内有效",
    "我是你领导，明天来我办公室，先转两万块到这个账户",
    "【中通快递】您的包裹已放在门口，请及时取件",
    "Your parcel is waiting, call us now!  Free  prize",
    "您的验证码是 9932，请勿告诉他人",
    "领导让你先转账，明天来办公室",
    "free prize waiting for you, call now",
]


def _key(gram: str) -> int:
    c = [ord(ch) for ch in gram]
    if len(c) == 1:
        return c[0] | (3 << 62)
    if len(c) == 2:
        return (c[0] << 21 | c[1]) | (1 << 63)
    return c[0] << 42 | c[1] << 21 | c[2]


def test_same_vocabulary_and_values_as_scikit_learn_char_wb():
    ours = CharGrams.fit(TEXTS, min_df=2)
    ref = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    A = ref.fit_transform(TEXTS)
    assert sorted(int(k) for k in ours.vocabulary) == sorted(_key(g) for g in ref.vocabulary_)
    col = {int(k): j for j, k in enumerate(ours.vocabulary)}
    perm = [col[_key(g)] for g in ref.get_feature_names_out()]
    B = ours.transform(TEXTS)[:, perm]
    assert np.allclose(B.toarray(), A.toarray())
    unseen = ["完全不同的一句话 zzz"] + TEXTS[:2]
    assert np.allclose(ours.transform(unseen)[:, perm].toarray(), ref.transform(unseen).toarray())


def test_n_grams_stay_inside_words_and_texts():
    doc, key = keys(["ab cd", "ef"])
    grams = {(int(d), int(k)) for d, k in zip(doc, key)}
    assert (0, _key("b c")) not in grams and (0, _key("ab ")) in grams and (0, _key(" cd")) in grams
    assert not any(k == _key("d") and d == 1 for d, k in grams) and (1, _key(" ef")) in grams


def test_json_round_trip_and_slot_clash_refused():
    cg = CharGrams.fit(TEXTS)
    back = CharGrams.from_json(cg.to_json())
    assert np.allclose(back.transform(TEXTS).toarray(), cg.transform(TEXTS).toarray())
    with pytest.raises(ValueError, match="slot"):
        CharGrams([5, 5], [1.0, 1.0])
    with pytest.raises(ValueError):
        CharGrams.from_json({"kind": "other"})
