import subprocess
import sys

import numpy as np

from tierwatch.antifraud.text import hash_batch, ngram_text, unique, unique_inverse


def _grams(text: str) -> set[str]:
    batch = hash_batch([text])
    return {ngram_text(batch, i) for i in range(len(batch.bucket))}


def test_chinese_is_read_as_character_ngrams():
    grams = _grams("安全账户")
    assert {"安", "安全", "安全账", "账户"} <= grams
    assert "安全账户" not in grams  # no 4-grams


def test_english_is_read_as_words_and_word_pairs():
    grams = _grams("Send money now")
    assert {"Send", "money", "now", "Send money", "money now"} <= grams
    assert "mon" not in grams  # no character n-grams inside Latin words


def test_mixed_text_gets_both_and_digits_are_words():
    grams = _grams("加QQ好友 call 13800138000")
    assert {"QQ", "好友", "call", "13800138000"} <= grams


def test_no_ngram_crosses_a_document_boundary():
    batch = hash_batch(["你好", "世界", "hello", "world"])
    for i in range(len(batch.bucket)):
        text = ngram_text(batch, i)
        assert "\x00" not in text
        assert text not in ("好世", "hello world")


def test_same_text_same_buckets_whatever_the_batch():
    alone = hash_batch(["请把钱转到安全账户"])
    batch = hash_batch(["别的内容", "请把钱转到安全账户", "more text"])
    assert sorted(alone.bucket.tolist()) == sorted(batch.bucket[batch.doc == 1].tolist())


def test_hashing_is_the_same_in_another_process():
    code = "from antifraud.text import hash_batch; print(sorted(hash_batch(['公安局 safe account']).bucket.tolist()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123", "PATH": ""}, cwd=".")
    assert out.stdout.strip() == str(sorted(hash_batch(["公安局 safe account"]).bucket.tolist()))


def test_fullwidth_case_and_digits_are_normalised():
    a = hash_batch(["ＱＱ号１２３"]).bucket
    b = hash_batch(["qq号789"]).bucket
    assert sorted(a.tolist()) == sorted(b.tolist())


def test_empty_emoji_and_lone_surrogates_do_not_break_hashing():
    batch = hash_batch(["", "😊😊", "bad \ud800 surrogate", "x"])
    assert set(batch.doc.tolist()) <= {1, 2, 3}
    assert len(batch.n_cjk) == 4


def test_unique_helpers_match_numpy():
    a = np.array([5, 3, 5, 1, 3, 9], dtype=np.int64)
    assert unique(a).tolist() == [1, 3, 5, 9]
    values, inverse = unique_inverse(a)
    assert values[inverse].tolist() == a.tolist()


def test_scoring_lookup_keeps_exactly_the_selected_ngrams():
    from tierwatch.antifraud.text import N_BUCKETS, lookup_batch

    texts = ["请把钱转到安全账户 now", "", "safe account 安全", "😊 hello world hello"]
    full = hash_batch(texts)
    selected = np.unique(full.bucket)[::2]
    table = np.full(N_BUCKETS, -1, dtype=np.int32)
    table[selected] = np.arange(len(selected))
    doc, col = lookup_batch(texts, table)
    keep = table[full.bucket] >= 0
    expected = sorted(zip(full.doc[keep].tolist(), table[full.bucket[keep]].tolist()))
    assert sorted(zip(doc.tolist(), col.tolist())) == expected
