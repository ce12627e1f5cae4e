"""The trained report model, and its conversion to and from the bytes the model store keeps
(JSON and XGBoost UBJSON only)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import xgboost as xgb

from tierwatch.antifraud.features import Featurizer
from tierwatch.antifraud.heads import Head

HEADS = ("scam", "scam_type", "ai_technique")


@dataclass
class ReportModel:
    featurizer: Featurizer
    heads: dict[str, Head]
    reference: dict = field(default_factory=dict)  # distributions for drift monitoring


def report_artefacts(model: ReportModel) -> dict[str, bytes]:
    files = {
        "featurizer.json": _json(model.featurizer.to_json()),
        "heads.json": _json({name: head.meta() for name, head in model.heads.items()}),
        "reference.json": _json(model.reference),
    }
    for name in HEADS:
        files[f"{name}.ubj"] = bytes(model.heads[name].booster.save_raw("ubj"))
    return files


def report_from_files(files: dict[str, bytes], nthread: int = 2) -> ReportModel:
    metas = json.loads(files["heads.json"])
    heads = {}
    for name in HEADS:
        booster = xgb.Booster()
        booster.load_model(bytearray(files[f"{name}.ubj"]))
        booster.set_param({"nthread": nthread})
        meta = metas[name]
        heads[name] = Head(name, booster, meta["classes"], meta["calibration"], meta["thresholds"])
    featurizer = Featurizer.from_json(json.loads(files["featurizer.json"]))
    return ReportModel(featurizer, heads, json.loads(files["reference.json"]))


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
