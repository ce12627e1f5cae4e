"""Text to hashed n-grams, vectorised over a whole batch with numpy.

Chinese is read as character 1-3-grams, English (and other Latin-script text) as word 1-2-grams;
a mixed text gets both, each from its own script runs. The hash is our own 64-bit mix, so it is
the same in every process (Python's ``hash`` is salted per process) and nothing needs pickling.
Per-report Python work is one ``len`` and one join; the rest runs in numpy, which is what makes
tens of thousands of reports a second possible on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

HASH_BITS = 22
N_BUCKETS = 1 << HASH_BITS
MAX_WORD_CHARS = 16
CHAR_NGRAMS = (1, 2, 3)
WORD_NGRAMS = (1, 2)

_SEP, _LATIN, _CHARISH = 0, 1, 2
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_BASE = np.uint64(1_000_003)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SALT_CHAR = {1: 0x9E37, 2: 0x7F4A, 3: 0x1CE4}
_SALT_WORD = {1: 0x5BD1, 2: 0xE995}


@dataclass(frozen=True)
class HashedBatch:
    """Every n-gram occurrence of a batch: which document, which bucket, and where it came from."""

    doc: np.ndarray  # int64, document index per occurrence
    bucket: np.ndarray  # int64, hash bucket per occurrence
    start: np.ndarray  # int64, position of the first character in ``chars``
    stop: np.ndarray  # int64, one past the last character
    chars: np.ndarray  # uint32 code points of the normalised, joined batch
    n_cjk: np.ndarray  # per document: CJK characters
    n_words: np.ndarray  # per document: Latin-script words (digit runs included)
    is_word: np.ndarray  # bool per occurrence: a word n-gram (else a character n-gram)


def _mix(h: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: spreads nearby polynomial values over all buckets
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def normalise_codepoints(cp: np.ndarray) -> np.ndarray:
    """Full-width ASCII to half-width, upper to lower case, every digit to '0'."""
    cp = cp.copy()
    full = (cp >= 0xFF01) & (cp <= 0xFF5E)
    cp[full] -= 0xFEE0
    cp[cp == 0x3000] = 0x20
    upper = (cp >= 0x41) & (cp <= 0x5A)
    cp[upper] += 32
    cp[(cp >= 0x30) & (cp <= 0x39)] = 0x30
    return cp


def _classes(cp: np.ndarray) -> np.ndarray:
    cls = np.full(cp.shape, _CHARISH, dtype=np.int8)
    cls[((cp >= 0x61) & (cp <= 0x7A)) | (cp == 0x30)] = _LATIN
    cls[(cp <= 0x20) | ((cp >= 0x7F) & (cp <= 0xA0)) | (cp == 0x200B) | (cp == 0xFEFF)] = _SEP
    return cls


def _is_cjk(cp: np.ndarray) -> np.ndarray:
    return (
        ((cp >= 0x3400) & (cp <= 0x9FFF))
        | ((cp >= 0xF900) & (cp <= 0xFAFF))
        | ((cp >= 0x20000) & (cp <= 0x3134F))
    )


def encode_batch(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Join texts with NUL separators; return code points and each document's start offset."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    joined = "\x00".join(texts) + "\x00"
    # "replace" turns a lone surrogate into one '?', so offsets stay aligned with len()
    cp = np.frombuffer(joined.encode("utf-32-le", errors="replace"), dtype=np.uint32)
    starts = np.zeros(len(texts), dtype=np.int64)
    if len(texts) > 1:
        starts[1:] = np.cumsum(lengths + 1)[:-1]
    return cp, starts


def hash_batch(texts: list[str]) -> HashedBatch:
    """Every n-gram occurrence of a batch (training: feature selection and naming)."""
    raw, starts = encode_batch(texts)
    cp = normalise_codepoints(raw)
    cls = _classes(cp)
    n_docs = len(texts)
    doc_of = np.zeros(len(cp), dtype=np.int64)
    if n_docs > 1:
        doc_of[starts[1:]] = 1
    doc_of = np.cumsum(doc_of)
    parts = list(_ngrams(cp, cls))
    start = _cat([p[1] for p in parts])
    stop = start + _cat([np.broadcast_to(p[2], p[1].shape) for p in parts])
    words = [p[1] for p in parts if p[0] == "w1"]
    return HashedBatch(
        doc=doc_of[start],
        bucket=_cat([p[3] for p in parts]),
        start=start,
        stop=stop,
        chars=raw,
        n_cjk=np.bincount(doc_of[_is_cjk(cp)], minlength=n_docs),
        n_words=np.bincount(doc_of[words[0]], minlength=n_docs) if words else np.zeros(n_docs, dtype=np.int64),
        is_word=_cat([np.full(len(p[1]), p[0][0] == "w") for p in parts]).astype(bool),
    )


def lookup_batch(texts: list[str], table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(document, column) of every n-gram occurrence whose bucket ``table`` maps to a column
    (scoring: only the selected n-grams are kept, before anything is concatenated)."""
    raw, starts = encode_batch(texts)
    cp = normalise_codepoints(raw)
    positions, columns = [], []
    for _, start, _, bucket in _ngrams(cp, _classes(cp)):
        col = table[bucket]
        keep = col >= 0
        positions.append(start[keep])
        columns.append(col[keep])
    pos = _cat(positions)
    return np.searchsorted(starts, pos, side="right") - 1, _cat(columns)


def _ngrams(cp: np.ndarray, cls: np.ndarray) -> Iterator[tuple[str, np.ndarray, Any, np.ndarray]]:
    """(kind, start, length, bucket) per n-gram kind: c1..c3 characters, w1/w2 words."""
    # each character size extends the previous one by a character: hashes and masks are reused
    charish = cls == _CHARISH
    c64 = cp.astype(np.uint64)
    ok, h = charish, c64
    for size in range(1, max(CHAR_NGRAMS) + 1):
        if size > 1:
            if len(h) < 2:
                break
            ok = ok[:-1] & charish[size - 1 :]
            h = h[:-1] * _BASE + c64[size - 1 :]
        if size in CHAR_NGRAMS:
            idx = np.flatnonzero(ok)
            yield f"c{size}", idx, size, _bucket(h[idx], _SALT_CHAR[size])
    yield from _word_ngrams(cp, cls)


def word_hashes(cp: np.ndarray, latin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, stops, hashes) of the runs of characters where ``latin`` holds: each word's first
    MAX_WORD_CHARS code points folded into one uint64 (both detectors' word features)."""
    edges = np.diff(np.concatenate(([0], latin.astype(np.int8), [0])))
    w_start, w_stop = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    length = np.minimum(w_stop - w_start, MAX_WORD_CHARS)
    c64 = np.concatenate((cp, np.zeros(MAX_WORD_CHARS, dtype=np.uint32))).astype(np.uint64)
    h = np.zeros(len(w_start), dtype=np.uint64)
    for k in range(MAX_WORD_CHARS):
        live = length > k
        if not live.any():
            break
        h[live] = h[live] * _BASE + c64[w_start[live] + k]
    return w_start, w_stop, h


def _word_ngrams(cp: np.ndarray, cls: np.ndarray) -> Iterator[tuple[str, np.ndarray, Any, np.ndarray]]:
    w_start, w_stop, h = word_hashes(cp, cls == _LATIN)
    if len(w_start) == 0:
        return
    yield "w1", w_start, w_stop - w_start, _bucket(h, _SALT_WORD[1])
    if 2 in WORD_NGRAMS and len(w_start) > 1:
        # neighbouring words form a bigram only inside one document (NUL ends a document)
        pair = np.flatnonzero(~_nul_between(cp, w_stop[:-1], w_start[1:]))
        hb = _mix(h[pair]) * _BASE + h[pair + 1]
        yield "w2", w_start[pair], w_stop[pair + 1] - w_start[pair], _bucket(hb, _SALT_WORD[2])


def _nul_between(cp: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    nul_count = np.concatenate(([0], np.cumsum(cp == 0)))
    return (nul_count[right] - nul_count[left]) > 0


def _bucket(h: np.ndarray, salt: int) -> np.ndarray:
    # Fibonacci hashing: one multiply, keep the top bits (the well-mixed ones)
    mixed = (h ^ np.uint64(salt * 0x9E3779B1)) * _GOLDEN
    return (mixed >> np.uint64(64 - HASH_BITS)).astype(np.int64)


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    if not arrays:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(arrays).astype(np.int64, copy=False)


def unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values. np.unique's hash path (numpy 2.x) is many times slower on the
    millions of int64 keys a batch produces; a sort is not."""
    a = np.sort(a)
    if len(a) == 0:
        return a
    return a[np.concatenate(([True], a[1:] != a[:-1]))]


def unique_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, index of each element's value in them), via one stable argsort."""
    order = np.argsort(a, kind="stable")
    sa = a[order]
    starts = np.concatenate(([True], sa[1:] != sa[:-1])) if len(a) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(a), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return sa[starts], inverse


def first_index(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, position of the first occurrence of each)."""
    order = np.argsort(a, kind="stable")
    sa = a[order]
    starts = np.concatenate(([True], sa[1:] != sa[:-1])) if len(a) else np.zeros(0, dtype=bool)
    return sa[starts], order[starts]


def ngram_text(batch: HashedBatch, i: int) -> str:
    """The original characters behind occurrence ``i`` (for naming features in explanations)."""
    seg = batch.chars[batch.start[i] : batch.stop[i]]
    return seg.astype("<u4").tobytes().decode("utf-32-le", errors="replace")
