"""Near-duplicate families of training texts (MinHash LSH from ``datasketch``).

A bank's debit notice with another amount, one scam script regenerated with another name: such
texts are one family. The split keeps a family together, so no family straddles train and test
and held-out figures are not inflated by memorised templates.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from tierwatch.antifraud.training.datasets import key_core as core

SHINGLE = 4  # characters
MIN_CHARS = 8  # shorter texts: their exact key only (four-character shingles say too little)


def shingles(text: str) -> set[bytes]:
    c = core(text)
    return {c[i : i + SHINGLE].encode("utf-8") for i in range(max(1, len(c) - SHINGLE + 1))}


def families(texts: list[str], threshold: float = 0.5, num_perm: int = 64, seed: int = 1) -> np.ndarray:
    """Family label of each text: texts whose shingle sets have Jaccard similarity >= threshold
    are joined (candidates from LSH, each pair checked on the exact sets), transitively."""
    from datasketch import MinHash, MinHashLSH

    sets = [shingles(t) for t in texts]
    long = [i for i, t in enumerate(texts) if len(core(t)) >= MIN_CHARS]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = MinHash.bulk([sets[i] for i in long], num_perm=num_perm, seed=seed)
    with lsh.insertion_session() as session:
        for i, m in zip(long, hashes):
            session.insert(i, m, check_duplication=False)
    rows, cols = [], []
    for i, m in zip(long, hashes):
        for j in lsh.query(m):
            if j > i and _jaccard(sets[i], sets[j]) >= threshold:
                rows.append(i)
                cols.append(j)
    first: dict[str, int] = {}
    for i, t in enumerate(texts):  # short texts (and any text) with the same core: one family
        j = first.setdefault(core(t), i)
        if j != i:
            rows.append(j)
            cols.append(i)
    n = len(texts)
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / max(len(a | b), 1)
