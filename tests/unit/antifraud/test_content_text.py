"""Normalisation and hashing of the linear detector's text features (antifraud.content_text)."""

from __future__ import annotations

import numpy as np
import pytest

from tierwatch.antifraud.content_features import EN_PRONOUNS, nameable, stop_only
from tierwatch.antifraud.content_text import hash_batch, normalise, normalise_batch, phrase_bucket, span_text


def test_width_and_case_fold():
    assert normalise("ＡＢＣ　ｄｅｆ") == "abc def"


@pytest.mark.parametrize(("text", "token"), [
    ("点击 http://abc.example.cn/x?id=1 领取", "zzurl"),
    ("访问 www.abc.com 了解", "zzurl"),
    ("联系 13800138000", "zzmobile"),
    ("卡号 6222 0212 3456 7890 123", "zzcard"),
    ("验证码 123456", "zzd4"),
    ("验证码 xxxxxx", "zzd4"),  # a mask reads as the digits it hides, whatever the class
    ("发到 abc@qq.com", "zzmail"),
])
def test_links_numbers_and_masks_become_their_kind(text, token):
    out = normalise(text)
    assert token in out.split()
    assert not any(ch.isdigit() for ch in out.replace(token, ""))


def test_masked_and_real_digits_normalise_alike():
    assert normalise("尾号1234的卡") == normalise("尾号xxxx的卡") == normalise("尾号****的卡")


def test_batch_normalisation_equals_one_by_one():
    texts = ["ＡＢＣ，你好", "点击 http://a.cn/x 领取\n下一行", "abc.com/path 然后", "", "13800138000", "a@b.cn 和 c@d.cn",
             "ｅ\u0301 ａ\u0308 ①② ﬁ ｶﾞ ㈱ Ｗｗｗ．ＡＢＣ．ｃｏｍ／ｘ 全角　空格", "一二三。４５６７８９０１２３",
             "含\x00空字符的文本 http://x.cn/1"]
    assert normalise_batch(texts) == [normalise(t) for t in texts]
    assert normalise_batch(texts[:-1]) == [normalise(t) for t in texts[:-1]]


def test_punctuation_separates_and_never_enters_an_ngram():
    batch = hash_batch([normalise("快递！！到了）请签收")], (2, 3))
    spans = {span_text(batch, i) for i in range(len(batch.start))}
    assert "快递" in spans and "请签收" in spans
    assert not any(ch in s for s in spans for ch in "!！)）")
    assert "递到" not in spans  # not across the exclamation marks


def test_no_single_characters_by_default():
    batch = hash_batch([normalise("我了")])
    assert set(np.asarray(batch.size).tolist()) <= {2}  # only the 2-gram 我了, no 1-grams


def test_phrase_bucket_matches_the_hashed_ngram():
    batch = hash_batch([normalise("请转账到安全账户")], (2, 3, 4))
    spans = {span_text(batch, i): int(b) for i, b in enumerate(batch.bucket.tolist())}
    assert spans["安全账户"] == phrase_bucket("安全账户")
    assert spans["转账"] == phrase_bucket("转账")


def test_hash_is_stable_across_processes():
    # a fixed value: the model's columns are bucket numbers, so the hash must never change silently
    # (pinned when the linear kind was introduced; a stored model would silently break otherwise)
    assert phrase_bucket("转账") == 1049949
    assert phrase_bucket("bank") == 973387


def test_stop_only_ngrams_and_unnameable_words():
    assert stop_only("我是") and stop_only("你的") and not stop_only("转账")
    assert not nameable("i'll", False) and not nameable("your", False) and "your" in EN_PRONOUNS
    assert nameable("bank", False) and nameable("转账", True) and nameable("zzurl", False)
    assert not nameable("zzd4", False) and not nameable("转到", False)
