"""Character 1-3-grams inside words, sublinear tf-idf, L2 norm: the TF-IDF + LR baseline's
features (scikit-learn's ``char_wb`` analyser over lower-cased text), computed over a batch
with numpy so the served linear model can carry them beside its content features.

Each word (a whitespace-separated run) is padded with one space on either side and cut into
its 1-, 2- and 3-grams; an n-gram never crosses words or texts. An n-gram is one 64-bit key
(code points are below 2^21): a 3-gram's three code points, a 2-gram's two with the top bit
set, a 1-gram's one with the two top bits set. The vocabulary is a sorted key list; a
multiplicative hash into a table of 2^22 slots finds a key's column in one random access
(fitting drops the rarer of two keys that share a slot).
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from tierwatch.antifraud.text import encode_batch

TABLE_BITS = 22
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TOP, _TOP2 = np.uint64(1 << 63), np.uint64(3 << 62)
_SPACE = re.compile(r"\s+")


def padded(texts: list[str]) -> list[str]:
    """Lower-cased, each word between spaces, words apart by NUL (which no n-gram crosses)."""
    return [" " + _SPACE.sub(" \x00 ", t.lower().strip()) + " " for t in texts]


def keys(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(document, key) of every n-gram occurrence."""
    text = padded(texts)
    cp, _ = encode_batch(text)
    # the document of every code point (each text and its NUL separator), looked up by position
    doc_of = np.repeat(np.arange(len(text)), np.fromiter((len(t) + 1 for t in text), dtype=np.int64, count=len(text)))
    c = cp.astype(np.uint64)
    ok = cp != 0
    ok2 = ok[:-1] & ok[1:]
    ok3 = ok2[:-1] & ok[2:]
    k1 = c | _TOP2
    k2 = ((c[:-1] << np.uint64(21)) | c[1:]) | _TOP
    k3 = (c[:-2] << np.uint64(42)) | (c[1:-1] << np.uint64(21)) | c[2:]
    pos = np.concatenate([np.flatnonzero(ok), np.flatnonzero(ok2), np.flatnonzero(ok3)])
    key = np.concatenate([k1[ok], k2[ok2], k3[ok3]])
    return doc_of[pos], key


def _slot(key: np.ndarray) -> np.ndarray:
    return ((key * _GOLDEN) >> np.uint64(64 - TABLE_BITS)).astype(np.int64)


class CharGrams:
    def __init__(self, vocabulary: list[int] | np.ndarray, idf: list[float] | np.ndarray):
        self.vocabulary = np.asarray(vocabulary, dtype=np.uint64)
        self.idf = np.asarray(idf, dtype=np.float64)
        slots = _slot(self.vocabulary)
        if len(np.unique(slots)) != len(slots):
            raise ValueError("character n-gram vocabulary has keys sharing a slot")
        self._table = np.full(1 << TABLE_BITS, -1, dtype=np.int32)
        self._table[slots] = np.arange(len(slots), dtype=np.int32)

    @property
    def n_features(self) -> int:
        return len(self.vocabulary)

    @classmethod
    def fit(cls, texts: list[str], max_features: int = 100_000, min_df: int = 2) -> CharGrams:
        doc, key = keys(texts)
        pairs = np.unique(np.stack([doc.astype(np.uint64), key]), axis=1) if len(key) else np.zeros((2, 0), np.uint64)
        vocab, df = np.unique(pairs[1], return_counts=True)
        keep = df >= min_df
        vocab, df = vocab[keep], df[keep]
        order = np.lexsort((vocab, -df))  # most frequent first; ties by key, so fitting is reproducible
        vocab, df = vocab[order], df[order]
        _, first = np.unique(_slot(vocab), return_index=True)  # the more frequent key keeps a shared slot
        chosen = np.sort(first)[:max_features]
        vocab, df = vocab[chosen], df[chosen]
        order = np.argsort(vocab)
        n = len(texts)
        return cls(vocab[order], np.log((1 + n) / (1 + df[order])) + 1.0)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        doc, key = keys(texts)
        col = self._table[_slot(key)]
        hit = col >= 0
        hit[hit] = self.vocabulary[col[hit]] == key[hit]
        m = self.n_features
        cell, count = np.unique(doc[hit] * m + col[hit], return_counts=True)
        values = (1.0 + np.log(count)) * self.idf[cell % m]
        row = cell // m
        norms = np.sqrt(np.bincount(row, weights=values * values, minlength=len(texts)))
        values = values / np.where(norms > 0, norms, 1.0)[row]
        indptr = np.searchsorted(cell, np.arange(len(texts) + 1, dtype=np.int64) * m)
        return sp.csr_matrix((values, (cell % m).astype(np.int32), indptr), shape=(len(texts), m))

    def to_json(self) -> dict:
        return {"kind": "char-grams/1", "vocabulary": [int(k) for k in self.vocabulary], "idf": self.idf.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> CharGrams:
        if d.get("kind") != "char-grams/1":
            raise ValueError("not a character n-gram featurizer")
        return cls(d["vocabulary"], d["idf"])

