"""One XGBoost model per question ("head"), with its calibration and decision thresholds.

Binary heads are calibrated with isotonic regression on the validation split (stored as its
breakpoints); multi-class heads with a single softmax temperature. Both are plain numbers in
JSON. Thresholds are chosen on the validation split and stored beside the calibration; fitting
all of these is training's part (training/fitting.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import xgboost as xgb

EPS = 1e-4
SMALL_BATCH = 256


@dataclass
class Head:
    name: str
    booster: xgb.Booster
    classes: list[str]  # ["not_scam", "scam"] for a binary head
    calibration: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2

    def margins(self, X: sp.csr_matrix, threads: int | None = None) -> np.ndarray:
        """Raw scores. ``threads``: None picks by batch size, 0 keeps the booster's setting (for
        concurrent callers, as inplace_predict is thread-safe but set_param is not)."""
        # one thread for small batches: on a busy machine a second OpenMP thread that is not
        # scheduled makes a single-report call wait a whole time slice
        set_threads(self.booster, threads, X.shape[0])
        return np.asarray(self.booster.inplace_predict(X, predict_type="margin"))

    def proba(self, X: sp.csr_matrix, threads: int | None = None) -> np.ndarray:
        """Calibrated P(positive) for a binary head, else an (n, classes) matrix."""
        return self.calibrate(self.margins(X, threads))

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        if self.binary:
            cal = self.calibration
            if not cal:
                return 1.0 / (1.0 + np.exp(-margin))
            p = np.interp(margin, cal["x"], cal["y"])
            return np.clip(p, EPS, 1 - EPS)
        return softmax(margin / self.calibration.get("temperature", 1.0))

    def meta(self) -> dict:
        return {
            "name": self.name,
            "classes": self.classes,
            "calibration": self.calibration,
            "thresholds": self.thresholds,
        }


def set_threads(booster: xgb.Booster, threads: int | None, rows: int) -> int:
    """Apply a thread count (see Head.margins) and return the one in force (0: unchanged)."""
    if threads is None:
        threads = 1 if rows < SMALL_BATCH else 2
    if threads:
        booster.set_param({"nthread": threads})
    return threads


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
