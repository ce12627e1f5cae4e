"""Fitting a head: the XGBoost booster, its calibration and its decision thresholds, all chosen
on the validation split (antifraud/heads.py applies them at scoring time)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import xgboost as xgb
from scipy.optimize import minimize_scalar
from sklearn.isotonic import IsotonicRegression

from tierwatch.antifraud.heads import softmax


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
