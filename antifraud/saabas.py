"""Saabas feature contributions of a tree ensemble from leaf indices.

The same numbers as XGBoost's ``predict(pred_contribs=True, approx_contribs=True)``: along the path
to each tree's leaf, every split credits its feature with the change in the node's expected value
(cover-weighted mean of the leaves below). The paths depend only on the model, so they are
tabulated once at load; scoring then needs XGBoost's cheap leaf prediction and one sparse sum.
Measured on the shipped detector (150 trees, depth 6, 2,211 features): ~0.12 ms per report with
XGBoost's own routine, which fills a dense row per tree in C++, against ~0.03 ms here.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import scipy.sparse as sp
import xgboost as xgb


class PathTable:
    """Per tree and leaf: the (feature, expected-value change) of each split on its path."""

    def __init__(self, booster: xgb.Booster):
        trees = [json.loads(t) for t in booster.get_dump(dump_format="json", with_stats=True)]
        self.booster = booster
        self.n_features = booster.num_features()
        self.n_trees = len(trees)
        paths: list[list[tuple[int, float]]] = []
        max_node = 0
        leaf_rows: list[dict[int, int]] = []
        for tree in trees:
            rows: dict[int, int] = {}
            _expected(tree)
            for leaf_id, path in _paths(tree, []):
                rows[leaf_id] = len(paths)
                paths.append(path)
                max_node = max(max_node, leaf_id)
            leaf_rows.append(rows)
        depth = max((len(p) for p in paths), default=0) or 1
        # Padding: feature -1 with a zero change, dropped before the sum.
        self.features = np.full((len(paths), depth), -1, dtype=np.int64)
        self.changes = np.zeros((len(paths), depth), dtype=np.float32)
        for i, path in enumerate(paths):
            for j, (feature, change) in enumerate(path):
                self.features[i, j], self.changes[i, j] = feature, change
        self.lookup = np.zeros((self.n_trees, max_node + 1), dtype=np.int64)
        for t, rows in enumerate(leaf_rows):
            for leaf_id, row in rows.items():
                self.lookup[t, leaf_id] = row

    def contributions(self, X: sp.csr_matrix, threads: int = 1) -> np.ndarray:
        """(n reports, n features) log-odds contributions, bias left out (as ``contributions``)."""
        n = X.shape[0]
        if n == 0:
            return np.zeros((0, self.n_features), dtype=np.float32)
        leaves = self.booster.predict(xgb.DMatrix(X, nthread=threads), pred_leaf=True).astype(np.int64)
        rows = self.lookup[np.arange(self.n_trees), leaves.reshape(n, self.n_trees)]  # (n, trees)
        features, changes = self.features[rows], self.changes[rows]  # (n, trees, depth)
        keep = features >= 0
        report = np.broadcast_to(np.arange(n)[:, None, None], features.shape)[keep]
        summed = sp.coo_matrix((changes[keep], (report, features[keep])), shape=(n, self.n_features))
        return summed.toarray()


def _feature(split: str) -> int:
    return int(split[1:])  # dumps name features "f<index>" when the booster has no names


def _expected(node: dict[str, Any]) -> float:
    if "leaf" in node:
        node["expected"] = float(node["leaf"])
    else:
        total = sum(float(c["cover"]) for c in node["children"])
        node["expected"] = sum(float(c["cover"]) * _expected(c) for c in node["children"]) / total
    return float(node["expected"])


def _paths(node: dict[str, Any], path: list[tuple[int, float]]) -> list[tuple[int, list[tuple[int, float]]]]:
    if "leaf" in node:
        return [(int(node["nodeid"]), path)]
    out = []
    feature = _feature(node["split"])
    for child in node["children"]:
        out += _paths(child, [*path, (feature, child["expected"] - node["expected"])])
    return out
