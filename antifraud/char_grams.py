"""Character 1-3-grams inside words, sublinear tf-idf, L2 norm: the TF-IDF + LR baseline's
features (scikit-learn's ``char_wb`` analyser over lower-cased text), computed over a batch
with numpy so the served linear model can carry them beside its content features.

Each word (a whitespace-separated run) is padded with one space on either side and cut into
its 1-, 2- and 3-grams; an n-gram never crosses words or texts. An n-gram is one 64-bit key
(code points are below 2^21): a 3-gram's three code points, a 2-gram's two with the top bit
set, a 1-gram's one with the two top bits set. The vocabulary is a sorted key list; a
multiplicative hash into a table of 2^22 slots finds a key's column, with linear probing for
the few keys that share a slot (so every key of a vocabulary keeps its column: the served
model can carry the baseline's fitted vectorizer exactly, ``from_vectorizer``).
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from tierwatch.antifraud.text import encode_batch

TABLE_BITS = 22
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK = (1 << TABLE_BITS) - 1
_TOP, _TOP2 = np.uint64(1 << 63), np.uint64(3 << 62)
_SPACE = re.compile(r"\s+")


def padded(texts: list[str]) -> list[str]:
    """Lower-cased, each word between spaces, words apart by NUL (which no n-gram crosses)."""
    return [" " + _SPACE.sub(" \x00 ", t.lower().strip()) + " " for t in texts]


def keys(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(document, key) of every n-gram occurrence."""
    doc, key, _, _, _ = occurrences(texts)
    return doc, key


def occurrences(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(document, key, start, size) of every n-gram occurrence, and the code points of the padded
    batch the starts index (explanations attribute each n-gram to the characters it covers)."""
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
    p1, p2, p3 = np.flatnonzero(ok), np.flatnonzero(ok2), np.flatnonzero(ok3)
    pos = np.concatenate([p1, p2, p3])
    size = np.concatenate([np.full(len(p1), 1), np.full(len(p2), 2), np.full(len(p3), 3)])
    key = np.concatenate([k1[ok], k2[ok2], k3[ok3]])
    return doc_of[pos], key, pos, size, cp


def gram_key(gram: str) -> int:
    """The key of one n-gram (1 to 3 characters), as ``keys`` computes it."""
    c = [ord(ch) for ch in gram]
    if len(c) == 3:
        return c[0] << 42 | c[1] << 21 | c[2]
    if len(c) == 2:
        return (c[0] << 21 | c[1]) | 1 << 63
    if len(c) == 1:
        return c[0] | 3 << 62
    raise ValueError(f"not a 1-3-gram: {gram!r}")


def _slot(key: np.ndarray) -> np.ndarray:
    return ((key * _GOLDEN) >> np.uint64(64 - TABLE_BITS)).astype(np.int64)


class CharGrams:
    def __init__(self, vocabulary: list[int] | np.ndarray, idf: list[float] | np.ndarray):
        self.vocabulary = np.asarray(vocabulary, dtype=np.uint64)
        self.idf = np.asarray(idf, dtype=np.float64)
        if len(np.unique(self.vocabulary)) != len(self.vocabulary):
            raise ValueError("character n-gram vocabulary holds a key twice")
        self._table = np.full(1 << TABLE_BITS, -1, dtype=np.int32)
        # linear probing, placed in vocabulary order (deterministic): a key whose slot is taken
        # goes to the next free one
        todo, slot = np.arange(len(self.vocabulary)), _slot(self.vocabulary)
        while len(todo):
            free = np.flatnonzero(self._table[slot] < 0)
            _, first = np.unique(slot[free], return_index=True)
            placed = free[first]
            self._table[slot[placed]] = todo[placed].astype(np.int32)
            rest = np.ones(len(todo), dtype=bool)
            rest[placed] = False
            todo, slot = todo[rest], (slot[rest] + 1) & _MASK

    @property
    def n_features(self) -> int:
        return len(self.vocabulary)

    @classmethod
    def from_vectorizer(cls, vectorizer) -> tuple[CharGrams, np.ndarray]:
        """The n-grams of a fitted scikit-learn ``TfidfVectorizer(analyzer="char_wb",
        ngram_range=(1, 3), sublinear_tf=True)`` (the baseline's), and ``order``: our column j is
        its column ``order[j]`` (so its weights are ``coef[..., order]``)."""
        names = vectorizer.get_feature_names_out()
        key = np.array([gram_key(g) for g in names], dtype=np.uint64)
        order = np.argsort(key, kind="stable")
        return cls(key[order], np.asarray(vectorizer.idf_, dtype=np.float64)[order]), order

    def columns(self, key: np.ndarray) -> np.ndarray:
        """Column of each key (-1: not in the vocabulary)."""
        slot = _slot(key)
        col = self._table[slot]
        out = np.full(len(key), -1, dtype=np.int32)
        idx = np.flatnonzero(col >= 0)
        while len(idx):
            c = self._table[slot[idx]]
            hit = self.vocabulary[c] == key[idx]
            out[idx[hit]] = c[hit]
            idx = idx[~hit]
            slot[idx] = (slot[idx] + 1) & _MASK
            idx = idx[self._table[slot[idx]] >= 0]  # an empty slot ends the probe: not in the vocabulary
        return out

    @classmethod
    def fit(cls, texts: list[str], max_features: int = 100_000, min_df: int = 2) -> CharGrams:
        doc, key = keys(texts)
        pairs = np.unique(np.stack([doc.astype(np.uint64), key]), axis=1) if len(key) else np.zeros((2, 0), np.uint64)
        vocab, df = np.unique(pairs[1], return_counts=True)
        keep = df >= min_df
        vocab, df = vocab[keep], df[keep]
        order = np.lexsort((vocab, -df))  # most frequent first; ties by key, so fitting is reproducible
        vocab, df = vocab[order], df[order]
        vocab, df = vocab[:max_features], df[:max_features]
        order = np.argsort(vocab)
        n = len(texts)
        return cls(vocab[order], np.log((1 + n) / (1 + df[order])) + 1.0)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        doc, key = keys(texts)
        col = self.columns(key)
        hit = col >= 0
        return self._matrix(doc[hit], col[hit], len(texts))

    def transform_hits(self, texts: list[str]) -> tuple[sp.csr_matrix, tuple[np.ndarray, ...]]:
        """``transform`` and the occurrences it counted: (document, column, start, size) of each
        n-gram in the vocabulary and the padded batch's code points (``occurrences``), so an
        explanation does not hash the texts again."""
        doc, key, pos, size, cp = occurrences(texts)
        col = self.columns(key)
        hit = col >= 0
        doc, col = doc[hit], col[hit]
        return self._matrix(doc, col, len(texts)), (doc, col, pos[hit], size[hit], cp)

    def _matrix(self, doc: np.ndarray, col: np.ndarray, n: int) -> sp.csr_matrix:
        m = self.n_features
        cell, count = np.unique(doc * m + col, return_counts=True)
        values = (1.0 + np.log(count)) * self.idf[cell % m]
        row = cell // m
        norms = np.sqrt(np.bincount(row, weights=values * values, minlength=n))
        values = values / np.where(norms > 0, norms, 1.0)[row]
        indptr = np.searchsorted(cell, np.arange(n + 1, dtype=np.int64) * m)
        return sp.csr_matrix((values, (cell % m).astype(np.int32), indptr), shape=(n, m))

    def to_json(self) -> dict:
        return {"kind": "char-grams/1", "vocabulary": [int(k) for k in self.vocabulary], "idf": self.idf.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> CharGrams:
        if d.get("kind") != "char-grams/1":
            raise ValueError("not a character n-gram featurizer")
        return cls(d["vocabulary"], d["idf"])

