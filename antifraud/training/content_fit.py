"""Fitting the linear detector's content featurizer: a jieba lexicon and the chosen n-gram columns."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np

from tierwatch.antifraud.content_features import ContentFeaturizer, nameable, stop_only
from tierwatch.antifraud.content_text import N_BUCKETS, hash_batch, phrase_bucket, span_text, unique, unique_inverse_counts
from tierwatch.antifraud.cues import CUES
def build_lexicon(texts_norm: list[str], min_df: int = 3, max_len: int = 6) -> dict[str, int]:
    """jieba words (Han, 2-6 characters) with their document frequency in the training texts."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    df: Counter = Counter()
    for t in texts_norm:
        df.update({w for w in jieba.lcut(t, HMM=False) if 2 <= len(w) <= max_len and _all_han(w)})
    return {w: c for w, c in df.items() if c >= min_df and not stop_only(w)}


def _all_han(w: str) -> bool:
    return all("\u3400" <= ch <= "\u9fff" for ch in w)


def fit(texts_norm: list[str], targets: list[tuple[np.ndarray, int]], lexicon: dict[str, int],
        min_df: int = 3, chunk: int = 4000) -> ContentFeaturizer:
    """Choose columns: per target (labels, k) the k candidates with the highest chi-squared score
    (best class vs rest). Candidates: Han 2-3-grams, lexicon words of 4-6 characters, Latin words
    and bigrams; n-grams made only of STOP characters are never candidates."""
    lex_bucket = {phrase_bucket(w): w for w in lexicon}
    long_lex = np.zeros(N_BUCKETS, dtype=bool)
    long_lex[[b for b, w in lex_bucket.items() if len(w) >= 4]] = True
    pairs, first_name = [], {}
    for start in range(0, len(texts_norm), chunk):
        batch = hash_batch(texts_norm[start : start + chunk], (2, 3, 4, 5, 6))
        keep = (batch.size <= 3) | long_lex[batch.bucket]
        doc, bucket = batch.doc[keep] + start, batch.bucket[keep]
        pairs.append(unique(doc * N_BUCKETS + bucket))
        idx = np.flatnonzero(keep)
        fb, fi = np.unique(bucket, return_index=True)
        for b, i in zip(fb.tolist(), idx[fi].tolist()):
            if b not in first_name:
                first_name[b] = span_text(batch, i)
    allp = np.concatenate(pairs)
    doc, bucket = allp // N_BUCKETS, allp % N_BUCKETS
    cand, inv, df = unique_inverse_counts(bucket)
    ok = (df >= min_df) & np.array([not stop_only(first_name[b]) for b in cand.tolist()], dtype=bool)
    chosen = [cand[_top_chi2(y, k, doc, inv, len(cand), ok)] for y, k in targets]
    buckets = unique(np.concatenate(chosen))
    names = [first_name[b] for b in buckets.tolist()]
    words = [nameable(n, n in lexicon) for n in names]
    n_docs = len(texts_norm)
    df_map = dict(zip(cand.tolist(), df.tolist()))
    idf_text = [np.log((1 + n_docs) / (1 + df_map.get(b, 0))) + 1 for b in buckets.tolist()]
    sizes = (2, 3, 4, 5, 6) if long_lex.any() else (2, 3)
    f = ContentFeaturizer(buckets.tolist(), names, words, idf_text + [1.0] * len(CUES), sizes)
    cue_df = np.asarray((f.binary(texts_norm, normalised=True)[:, f.n_text :] > 0).sum(axis=0)).ravel()
    f.idf[f.n_text :] = np.log((1 + n_docs) / (1 + cue_df)) + 1
    return f


def _top_chi2(y: np.ndarray, k: int, doc: np.ndarray, inv: np.ndarray, n_cand: int, ok: np.ndarray) -> np.ndarray:
    """Indices of the k candidates with the highest chi-squared score for any class of y (-1: unlabelled)."""
    lab = y[doc] >= 0
    n_cls = int(y.max()) + 1
    counts = np.bincount(inv[lab] * n_cls + y[doc[lab]], minlength=n_cand * n_cls).reshape(n_cand, n_cls).astype(float)
    n = float((y >= 0).sum())
    n_c = np.bincount(y[y >= 0], minlength=n_cls).astype(float)
    a = counts
    b = counts.sum(axis=1, keepdims=True) - a
    c = n_c[None, :] - a
    d = (n - n_c)[None, :] - b
    denom = np.maximum((a + b) * (c + d) * (a + c) * (b + d), 1.0)
    chi = (n * (a * d - b * c) ** 2 / denom).max(axis=1)
    chi[~ok] = 0.0
    order = np.argsort(-chi, kind="stable")[:k]
    return order[chi[order] > 0]
