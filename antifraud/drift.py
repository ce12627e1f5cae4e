"""Drift of score and feature distributions: population stability index (PSI) against the
validation-time reference stored with the model. PSI < 0.1 is stable, 0.1-0.25 a moderate
shift, above 0.25 a shift worth an alert."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DRIFT_FEATURES = ("amount_lost_log10", "n_identifiers", "rep_phone_count", "hour_local", "channel=phone")
N_BINS = 10
FLOOR = 1e-4


def reference_distribution(values: np.ndarray) -> dict:
    """Quantile edges over the known values, plus the share of missing values as its own bin."""
    values = np.asarray(values, dtype=float)
    known = values[~np.isnan(values)]
    edges = np.unique(np.quantile(known, np.linspace(0, 1, N_BINS + 1)[1:-1])) if len(known) else np.array([])
    return {"edges": edges.tolist(), "proportions": proportions(values, edges).tolist()}


def proportions(values: np.ndarray, edges: np.ndarray | list) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    edges = np.asarray(edges, dtype=float)
    missing = np.isnan(values)
    counts = np.bincount(np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1)
    counts = np.append(counts, missing.sum()).astype(float)
    return counts / max(len(values), 1)


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    r = np.maximum(np.asarray(reference, dtype=float), FLOOR)
    c = np.maximum(np.asarray(current, dtype=float), FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


@dataclass(frozen=True)
class DriftItem:
    name: str
    psi: float
    flagged: bool


@dataclass(frozen=True)
class DriftReport:
    model_version: str
    n_reports: int
    threshold: float
    items: tuple[DriftItem, ...]

    @property
    def alert(self) -> bool:
        return any(item.flagged for item in self.items)

    def to_json(self) -> dict:
        return {
            "model_version": self.model_version,
            "n_reports": self.n_reports,
            "threshold": self.threshold,
            "alert": self.alert,
            "items": [{"name": i.name, "psi": round(i.psi, 4), "flagged": i.flagged} for i in self.items],
        }


def compare(reference: dict, current: dict[str, np.ndarray], threshold: float, version: str, n: int) -> DriftReport:
    items = []
    for name, ref in reference.items():
        if name not in current:
            continue
        value = psi(np.array(ref["proportions"]), proportions(current[name], ref["edges"]))
        items.append(DriftItem(name, value, value > threshold))
    return DriftReport(version, n, threshold, tuple(items))
