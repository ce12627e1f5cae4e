"""Normalised text -> hashed n-gram occurrences, vectorised over a batch with numpy.

The linear detector's text side (``content_features``). Same 64-bit hash family and batch
layout as ``text.py``, changed where that version let a model learn a corpus instead of a scam:

- punctuation, symbols and emoji are separators, not characters: no n-gram carries "！" or "）",
  so punctuation style (full-width vs half-width, "!!!") says nothing;
- Han runs give character 2- to 6-grams (no 1-grams: a lone 我 or 了 is not evidence); the
  2-3-grams are the general vocabulary, the 4-6-grams only ever match lexicon words;
- digit runs never reach the hasher: ``normalise`` rewrites them (and x / * masks) as length
  classes ("zzd4", "zzmobile", "zzcard"), URLs as "zzurl", e-mail addresses as "zzmail".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tierwatch.antifraud.text import (  # the same hash family, batch layout and helpers
    _BASE, _SALT_WORD, N_BUCKETS, _bucket, _cat, _mix, encode_batch, word_hashes,
    ngram_text as span_text, unique, unique_inverse,
)

CHAR_SIZES = (2, 3, 4, 5, 6)

_SEP, _LATIN, _HAN = 0, 1, 2
# text.py's salts for 1-3-grams, and new ones for the longer lexicon words
_SALT_CHAR = {1: 0x9E37, 2: 0x7F4A, 3: 0x1CE4, 4: 0x2A51, 5: 0x6C3B, 6: 0x47D9}

# --- normalisation -------------------------------------------------------------------------------
_URL = re.compile(r"(?:https?://|www\.)[^\s\x00\u3000-\u303f\uff01-\uff0f\u4e00-\u9fff]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:cn|com|net|org|top|xyz|vip|cc|me|co|io|app|shop)(?:/[^\s\x00\u4e00-\u9fff]*)?", re.I)
_MAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.A)
# digit runs, with the separators people put inside numbers, and masks standing for digits
_NUM = re.compile(r"(?<![a-z])(?:\d[\d\- ]*\d|\d|x{3,}|\*{3,})(?![a-z])")


def _num_class(m: re.Match) -> str:
    n = sum(1 for c in m.group(0) if c.isdigit() or c in "x*")
    if n <= 3:
        return " zzd1 "
    if n <= 6:
        return " zzd4 "
    if n == 11:
        return " zzmobile "
    if 16 <= n <= 19:
        return " zzcard "
    return " zzd7 " if n <= 10 else " zzd12 "


def normalise(text: str) -> str:
    """Width and case folded (NFKC), links and numbers replaced by their kind."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    if "@" in text:
        text = _MAIL.sub(" zzmail ", text)
    if "." in text or "/" in text:
        text = _URL.sub(" zzurl ", text)
    return _NUM.sub(_num_class, text)


_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]+")
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _half_width(m: re.Match) -> str:
    return m.group().translate(_HALF_WIDTH)


def normalise_batch(texts: list[str]) -> list[str]:
    """``normalise`` of every text, done over the texts joined by NUL (which no pattern
    crosses), the link pattern only over the texts that can hold a link: the same result at a
    fraction of the per-call cost."""
    if not texts or any("\x00" in t for t in texts):
        return [normalise(t) for t in texts]
    # Full-width forms first (NFKC maps each to its ASCII twin, so the result is NFKC's), then
    # NFKC only for the few texts still not normalised: NFKC over everything costs three times more.
    joined = _FULL_WIDTH.sub(_half_width, "\x00".join(texts))
    if not unicodedata.is_normalized("NFKC", joined):
        joined = "\x00".join(t if unicodedata.is_normalized("NFKC", t) else unicodedata.normalize("NFKC", t)
                            for t in joined.split("\x00"))
    joined = joined.lower()
    if "@" in joined:
        joined = _MAIL.sub(" zzmail ", joined)
    parts = joined.split("\x00")
    linked = [i for i, t in enumerate(parts) if "." in t or "/" in t]
    if linked:
        links = _URL.sub(" zzurl ", "\x00".join(parts[i] for i in linked)).split("\x00")
        if len(links) != len(linked):
            return [normalise(t) for t in texts]
        for i, t in zip(linked, links):
            parts[i] = t
    out = _NUM.sub(_num_class, "\x00".join(parts)).split("\x00")
    return out if len(out) == len(texts) else [normalise(t) for t in texts]


@dataclass(frozen=True)
class HashedBatch:
    doc: np.ndarray  # document of each occurrence
    bucket: np.ndarray  # hash bucket
    start: np.ndarray  # first character in ``chars``
    size: np.ndarray  # characters (char n-grams) or -1/-2 (word uni/bigram)
    stop: np.ndarray
    chars: np.ndarray


def _classes(cp: np.ndarray) -> np.ndarray:
    cls = np.full(cp.shape, _SEP, dtype=np.int8)
    cls[((cp >= 0x61) & (cp <= 0x7A)) | ((cp >= 0x30) & (cp <= 0x39))] = _LATIN
    han = ((cp >= 0x3400) & (cp <= 0x9FFF)) | ((cp >= 0xF900) & (cp <= 0xFAFF)) | ((cp >= 0x20000) & (cp <= 0x3134F))
    cls[han] = _HAN
    return cls


def ngrams(cp: np.ndarray, sizes: tuple[int, ...] = CHAR_SIZES) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(size, start, length, bucket): Han n-grams of each size, then Latin words (-1) and word
    bigrams (-2)."""
    cls = _classes(cp)
    han = cls == _HAN
    c64 = cp.astype(np.uint64)
    ok, h = han, c64
    if 1 in sizes:
        idx = np.flatnonzero(han)
        yield 1, idx, np.ones(len(idx), dtype=np.int64), _bucket(c64[idx], _SALT_CHAR[1])
    for size in range(2, max(sizes, default=1) + 1):
        if len(h) < 2:
            break
        ok = ok[:-1] & han[size - 1 :]
        h = h[:-1] * _BASE + c64[size - 1 :]
        if size in sizes:
            idx = np.flatnonzero(ok)
            yield size, idx, np.full(len(idx), size), _bucket(h[idx], _SALT_CHAR[size])
    w_start, w_stop, hw = word_hashes(cp, cls == _LATIN)
    if len(w_start) == 0:
        return
    yield -1, w_start, w_stop - w_start, _bucket(hw, _SALT_WORD[1])
    if len(w_start) > 1:
        # a bigram only inside one document, and only across separators, not across Han text:
        # no NUL and no Han character between the end of one word and the start of the next
        nul_at, han_at = np.flatnonzero(cp == 0), np.flatnonzero(han)
        gap_start, gap_stop = w_stop[:-1], w_start[1:]
        no_nul = np.searchsorted(nul_at, gap_start) == np.searchsorted(nul_at, gap_stop)
        no_han = np.searchsorted(han_at, gap_start) == np.searchsorted(han_at, gap_stop)
        pair = np.flatnonzero(no_nul & no_han)
        hb = _mix(hw[pair]) * _BASE + hw[pair + 1]
        yield -2, w_start[pair], w_stop[pair + 1] - w_start[pair], _bucket(hb, _SALT_WORD[2])


def hash_batch(texts: list[str], sizes: tuple[int, ...] = CHAR_SIZES) -> HashedBatch:
    """Every occurrence (training: selection and naming). ``texts`` are already normalised."""
    cp, starts = encode_batch(texts)
    parts = list(ngrams(cp, sizes))
    start = _cat([p[1] for p in parts])
    return HashedBatch(
        doc=np.searchsorted(starts, start, side="right") - 1,
        bucket=_cat([p[3] for p in parts]),
        start=start,
        size=_cat([np.full(len(p[1]), p[0]) for p in parts]),
        stop=start + _cat([np.broadcast_to(p[2], p[1].shape) for p in parts]),
        chars=cp,
    )


def lookup(texts: list[str], tables: list[np.ndarray], sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per table: (document, column) of each occurrence whose bucket the table maps to a column
    (>= 0). One hashing pass serves every table."""
    cp, starts = encode_batch(texts)
    pos: list[list[np.ndarray]] = [[] for _ in tables]
    cols: list[list[np.ndarray]] = [[] for _ in tables]
    for _, start, _, bucket in ngrams(cp, sizes):
        for t, table in enumerate(tables):
            col = table[bucket]
            keep = col >= 0
            pos[t].append(start[keep])
            cols[t].append(col[keep])
    out = []
    for t in range(len(tables)):
        p = _cat(pos[t])
        out.append((np.searchsorted(starts, p, side="right") - 1, _cat(cols[t])))
    return out


def phrase_bucket(phrase: str) -> int:
    """The bucket a normalised phrase (Han 2-6 characters, or one Latin word) hashes to."""
    cp, _ = encode_batch([phrase])
    for size, start, _, bucket in ngrams(cp, (len(phrase),) if not phrase.isascii() else ()):
        if (size == len(phrase) and start[0] == 0 and len(start) == 1) or (size == -1 and len(start) == 1):
            return int(bucket[0])
    raise ValueError(f"phrase {phrase!r} is not one n-gram")


def unique_inverse_counts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct values, index of each element's value, count of each value)."""
    values, inverse = unique_inverse(a)
    return values, inverse, np.bincount(inverse, minlength=len(values))
