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

from tierwatch.antifraud.features import MAX_TEXT_CHARS, dense_to_csr, text_matrix
from tierwatch.antifraud.heads import Head
from tierwatch.antifraud.text import N_BUCKETS, lookup_batch
from tierwatch.antifraud.vocab import APP_TIERS, INCIDENT_TYPES

DENSE = [f"type={t}" for t in INCIDENT_TYPES] + [f"tier={t}" for t in APP_TIERS] + ["affected_users_log10"]


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
