"""Measures of a detector on served-path scores (plain arrays in, JSON-ready dicts out)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from tierwatch.antifraud.training import datasets
from tierwatch.antifraud.training.datasets import Example
from tierwatch.antifraud.training.evaluate import reliability as equal_width_reliability

OTHER = "other"


def pr_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(average_precision_score(y, p)) if 0 < y.sum() < len(y) else None


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None


def rate(flags: np.ndarray) -> dict:
    return {"n": int(len(flags)), "flagged": int(np.sum(flags)), "rate": float(np.mean(flags)) if len(flags) else None}


def binary(y: np.ndarray, p: np.ndarray, flags: np.ndarray) -> dict:
    tp = int(np.sum(flags & (y == 1)))
    return {
        "n": int(len(y)), "scams": int(y.sum()), "pr_auc": pr_auc(y, p), "roc_auc": roc_auc(y, p),
        "recall": tp / max(int(y.sum()), 1), "precision": tp / max(int(flags.sum()), 1),
        "false_positive_rate": float(np.mean(flags[y == 0])) if (y == 0).any() else None,
    }


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """Equal-width bins (mean predicted vs observed) and the expected calibration error, as the
    XGBoost evaluation reports them; the top decile (the 10% highest scores) gets its own ECE
    over 10 equal-count bins inside it."""
    top = np.argsort(-p, kind="stable")[: max(1, len(p) // 10)]
    top_ece = sum(len(q) / len(top) * abs(p[q].mean() - y[q].mean()) for q in np.array_split(top, 10) if len(q))
    return {
        **equal_width_reliability(y, p, bins), "top_decile_ece": float(top_ece), "top_decile_n": int(len(top)),
        "top_decile_distinct_scores": int(len(np.unique(p[top]))),
        "distinct_scores": int(len(np.unique(p))), "brier": float(np.mean((p - y) ** 2)),
    }


def fpr_by_kind(examples: list[Example], flags: np.ndarray) -> dict[str, dict]:
    """False-positive rate per source, per source and subset, per look-alike category, and over
    all real legitimate Chinese SMS."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        if e.is_scam:
            continue
        keys = [f"source:{e.source}", f"source:{e.source}:{e.subset}"]
        if e.source in (datasets.CN_HAM, datasets.MUDOU):
            keys.append("real_legitimate_sms")
            keys += [f"lookalike:{c}" for c in e.tags.get("lookalike", [])]
            if e.tags.get("lookalike"):
                keys.append("lookalike:any")
        for k in keys:
            groups.setdefault(k, []).append(i)
    return {k: rate(flags[np.array(v)]) for k, v in sorted(groups.items())}


def type_f1(true: list[str], pred: list[str], classes: list[str]) -> dict:
    """Macro-F1 over the known types; a prediction outside them ("other") counts as wrong."""
    if not true:
        return {"macro_f1": None, "n": 0}
    f1 = f1_score(true, pred, labels=classes, average=None, zero_division=0)
    return {"macro_f1": float(np.mean(f1)), "per_class": {c: float(v) for c, v in zip(classes, f1)}, "n": len(true),
            "named_other": float(np.mean([p == OTHER for p in pred]))}


def flip_rate(flag_sets: list[np.ndarray]) -> dict:
    """Share of reports whose decision is not the same under every pinned value."""
    stack = np.vstack(flag_sets)
    flipped = stack.any(axis=0) & ~stack.all(axis=0)
    return {"n": int(stack.shape[1]), "variants": int(stack.shape[0]), "flipped": int(flipped.sum()), "rate": float(flipped.mean())}
