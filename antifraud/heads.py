"""One XGBoost model per question ("head"), with its calibration and decision thresholds.

Binary heads are calibrated with isotonic regression on the validation split (stored as its
breakpoints); multi-class heads with a single softmax temperature. Both are plain numbers in
JSON. Thresholds are chosen on the validation split and stored beside the calibration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import xgboost as xgb
from scipy.optimize import minimize_scalar
from sklearn.isotonic import IsotonicRegression

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


def fit_booster(
    X: sp.csr_matrix,
    y: np.ndarray,
    n_classes: int,
    params: dict,
    valid: tuple[sp.csr_matrix, np.ndarray] | None = None,
) -> xgb.Booster:
    p = dict(params)
    rounds = p.pop("n_estimators")
    if n_classes > 2:
        p.update(objective="multi:softprob", num_class=n_classes, eval_metric="mlogloss")
    else:
        p.update(objective="binary:logistic", eval_metric="logloss")
    dtrain = xgb.DMatrix(X, label=y, nthread=p.get("nthread", 2))
    evals, stop = [], None
    if valid is not None and len(valid[1]) and len(np.unique(valid[1])) > 1:
        evals = [(xgb.DMatrix(valid[0], label=valid[1], nthread=p.get("nthread", 2)), "valid")]
        stop = 30
    return xgb.train(p, dtrain, rounds, evals=evals, early_stopping_rounds=stop, verbose_eval=False)


def trim_to_best(booster: xgb.Booster) -> xgb.Booster:
    """Keep the trees up to the early-stopping best round, so saved files carry no dead weight."""
    best = getattr(booster, "best_iteration", None)
    if best is None or best + 1 >= booster.num_boosted_rounds():
        return booster
    return booster[: best + 1]


def isotonic(margin: np.ndarray, y: np.ndarray) -> dict:
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margin, y)
    return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}


def temperature(margin: np.ndarray, y: np.ndarray) -> dict:
    if len(y) == 0:
        return {"method": "temperature", "temperature": 1.0}

    def nll(t: float) -> float:
        p = softmax(margin / t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))

    res = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
    return {"method": "temperature", "temperature": float(res.x)}


def threshold_for_fpr(p: np.ndarray, y: np.ndarray, max_fpr: float) -> float:
    """Lowest threshold whose false-positive rate on (p, y) is at most max_fpr."""
    neg = np.sort(p[y == 0])
    if len(neg) == 0:
        return 0.5
    allowed = int(np.floor(max_fpr * len(neg)))
    # scores strictly above the (allowed+1)-th highest negative are flagged
    cut = neg[len(neg) - allowed - 1]
    return float(np.nextafter(cut, 1.0))


def threshold_for_precision(p: np.ndarray, y: np.ndarray, min_precision: float) -> float:
    order = np.argsort(-p)
    tp = np.cumsum(y[order] == 1)
    precision = tp / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= min_precision)
    if len(ok) == 0:
        return 1.0
    return float(p[order][ok[-1]])


def threshold_for_f1(p: np.ndarray, y: np.ndarray) -> float:
    best, best_t = -1.0, 0.5
    for t in np.unique(np.round(p, 4)):
        pred = p >= t
        tp = np.sum(pred & (y == 1))
        f1 = 2 * tp / max(pred.sum() + (y == 1).sum(), 1)
        if f1 > best:
            best, best_t = f1, float(t)
    return best_t
