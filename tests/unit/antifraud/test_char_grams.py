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
    with pytest.raises(ValueError, match="twice"):
        CharGrams([5, 5], [1.0, 1.0])
    with pytest.raises(ValueError):
        CharGrams.from_json({"kind": "other"})


def test_carries_a_fitted_scikit_learn_vectorizer_column_for_column():
    """from_vectorizer: the baseline's own vocabulary (cut to max_features by scikit-learn's rule,
    not ours) and idf, so the served character model is the baseline's fit."""
    ref = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=1, sublinear_tf=True, max_features=60)
    ref.fit(TEXTS)
    ours, order = CharGrams.from_vectorizer(ref)
    assert ours.n_features == 60
    unseen = ["完全不同的一句话 zzz", "Free prize, call now", *TEXTS]
    assert np.allclose(ours.transform(unseen).toarray(), ref.transform(unseen)[:, order].toarray())


def test_keys_sharing_a_slot_all_keep_their_column():
    """Linear probing: a vocabulary whose keys share hash slots keeps every key (none dropped)."""
    from tierwatch.antifraud.char_grams import _slot, gram_key

    rng = np.random.default_rng(0)  # 100,000 random Han 3-grams: about a thousand share a slot
    cps = rng.integers(0x4E00, 0x9FA5, size=(100_000, 3))
    key = np.unique(np.array([gram_key("".join(map(chr, c))) for c in cps.tolist()], dtype=np.uint64))
    assert len(np.unique(_slot(key))) < len(key)  # there are clashes to resolve
    cg = CharGrams(key, np.ones(len(key)))
    assert (cg.columns(key) == np.arange(len(key))).all()
    absent = np.array([gram_key("zq"), gram_key("qz"), gram_key("一丁丂")], dtype=np.uint64)
    assert (cg.columns(absent) == -1).all()
