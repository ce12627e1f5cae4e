"""Severity of company incident reports: type, description, affected users, application tier.

Same text hashing as reports (selected n-grams of the description) plus a few dense columns;
one multi-class XGBoost head (low / medium / high / critical), temperature-calibrated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import xgboost as xgb
from sklearn.model_selection import train_test_split

from tierwatch.antifraud.features import MAX_TEXT_CHARS, bucket_names, dense_to_csr, text_matrix
from tierwatch.antifraud.heads import Head, fit_booster, temperature, trim_to_best
from tierwatch.antifraud.synth.incidents import SEVERITY_ORDER
from tierwatch.antifraud.text import N_BUCKETS, hash_batch, lookup_batch
from tierwatch.antifraud.vocab import APP_TIERS, INCIDENT_TYPES

DENSE = [f"type={t}" for t in INCIDENT_TYPES] + [f"tier={t}" for t in APP_TIERS] + ["affected_users_log10"]
PARAMS = {"n_estimators": 80, "max_depth": 4, "eta": 0.2, "subsample": 0.9, "max_bin": 32, "tree_method": "hist", "nthread": 2}


@dataclass(frozen=True)
class PreparedIncident:
    description: str
    type: str | None
    affected_users: float | None
    app_tier: str | None
    notes: tuple[str, ...] = ()


def prepare_incident(incident: Any) -> PreparedIncident | str:
    """Validate one incident report; a string return value is the rejection reason."""
    if not isinstance(incident, dict):
        return f"incident must be a dict, got {type(incident).__name__}"
    notes = []
    text = incident.get("description")
    if text is not None and not isinstance(text, str):
        return f"description must be a string, got {type(text).__name__}"
    kind = incident.get("type")
    if kind not in INCIDENT_TYPES:
        if not (text or "").strip():
            return f"unknown incident type {str(kind)[:40]!r} and no description"
        notes.append(f"unknown incident type {str(kind)[:40]!r} ignored")
        kind = None
    text = (text or "")[:MAX_TEXT_CHARS]
    users = incident.get("affected_users")
    try:
        users = float(users) if users is not None else None
        if users is not None and (not math.isfinite(users) or users < 0):
            raise ValueError
    except (TypeError, ValueError):
        notes.append(f"affected_users {str(users)[:40]!r} ignored")
        users = None
    tier = incident.get("app_tier")
    if tier not in APP_TIERS:
        if tier is not None:
            notes.append(f"unknown app_tier {str(tier)[:40]!r} ignored")
        tier = None
    return PreparedIncident(text, kind, users, tier, tuple(notes))


class IncidentFeaturizer:
    def __init__(self, buckets: list[int], names: list[str]):
        self.buckets = np.asarray(buckets, dtype=np.int64)
        self.names = list(names)
        self._table = np.full(N_BUCKETS, -1, dtype=np.int32)
        self._table[self.buckets] = np.arange(len(self.buckets), dtype=np.int32)

    @property
    def feature_names(self) -> list[str]:
        return [f"text:{n}" for n in self.names] + DENSE

    def to_json(self) -> dict:
        return {"kind": "incident-featurizer/1", "buckets": self.buckets.tolist(), "names": self.names, "dense": DENSE}

    @classmethod
    def from_json(cls, data: dict) -> "IncidentFeaturizer":
        if data.get("kind") != "incident-featurizer/1" or data.get("dense") != DENSE:
            raise ValueError("incident featurizer file does not match this code version")
        return cls(data["buckets"], data["names"])

    def transform(self, items: list[PreparedIncident]) -> sp.csr_matrix:
        text = text_matrix(*lookup_batch([p.description for p in items], self._table), len(self.buckets), len(items))
        dense = np.full((len(items), len(DENSE)), np.nan)
        for i, p in enumerate(items):
            dense[i, : len(INCIDENT_TYPES) + len(APP_TIERS)] = 0.0
            if p.type:
                dense[i, DENSE.index(f"type={p.type}")] = 1.0
            if p.app_tier:
                dense[i, DENSE.index(f"tier={p.app_tier}")] = 1.0
            if p.affected_users is not None:
                dense[i, -1] = math.log10(1.0 + p.affected_users)
        return sp.hstack([text, dense_to_csr(dense)], format="csr")


@dataclass
class IncidentModel:
    featurizer: IncidentFeaturizer
    head: Head

    def artefacts(self) -> dict[str, bytes]:
        return {
            "featurizer.json": json.dumps(self.featurizer.to_json(), ensure_ascii=False).encode(),
            "heads.json": json.dumps({"severity": self.head.meta()}).encode(),
            "severity.ubj": bytes(self.head.booster.save_raw("ubj")),
        }

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> "IncidentModel":
        meta = json.loads(files["heads.json"])["severity"]
        booster = xgb.Booster()
        booster.load_model(bytearray(files["severity.ubj"]))
        head = Head("severity", booster, meta["classes"], meta["calibration"], meta["thresholds"])
        return cls(IncidentFeaturizer.from_json(json.loads(files["featurizer.json"])), head)


def train_incident_model(rows: list[tuple[dict, str]], seed: int = 0, n_text: int = 300) -> tuple[IncidentModel, dict]:
    """Fit on 70%, calibrate on 15%, report macro-F1 and the confusion matrix on the last 15%."""
    from sklearn.metrics import confusion_matrix, f1_score

    from tierwatch.antifraud.train import select_buckets

    prepared = [prepare_incident(r) for r, _ in rows]
    keep = [i for i, p in enumerate(prepared) if isinstance(p, PreparedIncident)]
    items = [p for p in prepared if isinstance(p, PreparedIncident)]
    y = np.array([SEVERITY_ORDER.index(rows[i][1]) for i in keep])
    idx = np.arange(len(items))
    rest, test = train_test_split(idx, test_size=0.15, stratify=y, random_state=seed)
    train, valid = train_test_split(rest, test_size=0.15 / 0.85, stratify=y[rest], random_state=seed + 1)

    batch = hash_batch([items[i].description for i in train])
    buckets = select_buckets(batch, [(y[train], n_text)], min_df=3)
    featurizer = IncidentFeaturizer(buckets.tolist(), bucket_names(batch, buckets))
    X = featurizer.transform(items)
    booster = fit_booster(X[train], y[train], len(SEVERITY_ORDER), {**PARAMS, "seed": seed}, valid=(X[valid], y[valid]))
    head = Head("severity", trim_to_best(booster), list(SEVERITY_ORDER))
    head.calibration = temperature(head.margins(X[valid]), y[valid])
    pred = head.proba(X[test]).argmax(axis=1)
    evaluation = {
        "severity_macro_f1": float(f1_score(y[test], pred, average="macro")),
        "severity_accuracy": float(np.mean(pred == y[test])),
        "confusion_matrix": confusion_matrix(y[test], pred, labels=range(4)).tolist(),
        "classes": list(SEVERITY_ORDER),
        "n_train": len(train), "n_valid": len(valid), "n_test": len(test),
        "data": "synthetic incidents (antifraud/synth/incidents.py)",
    }
    return IncidentModel(featurizer, head), evaluation
