"""Use cases: record analysts' labels, watch drift, and mirror the on-disk model store into the
database. Retraining from the labels is training's part (training/retraining.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.antifraud.bundle import ReportModel
from tierwatch.antifraud.drift import DRIFT_FEATURES, DriftReport, compare
from tierwatch.antifraud.features import DENSE, Prepared, prepare
from tierwatch.antifraud.linear_model import LinearReportModel
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.models import AnalystLabel, ModelVersion
from tierwatch.antifraud.reputation import ReputationSource
from tierwatch.antifraud.schemas import LabelIn
from tierwatch.core.db import UnitOfWork


def record_label(
    uow: UnitOfWork,
    report_id: str,
    is_scam: bool,
    analyst: str,
    scam_type: str | None = None,
    ai_technique: str | None = None,
    note: str = "",
) -> int:
    """Store an analyst's verdict on a report; the latest verdict per report is the one used."""
    data = LabelIn(report_id=report_id, is_scam=is_scam, analyst=analyst, scam_type=scam_type, ai_technique=ai_technique, note=note)
    with uow:
        label = AnalystLabel(**data.model_dump())
        uow.session.add(label)
        uow.session.flush()
        label_id = label.id
        uow.commit()
    return label_id


def latest_labels(session: Session) -> list[AnalystLabel]:
    newest = (
        sa.select(AnalystLabel.report_id, sa.func.max(AnalystLabel.id).label("id"))
        .group_by(AnalystLabel.report_id)
        .subquery()
    )
    return list(session.scalars(sa.select(AnalystLabel).join(newest, AnalystLabel.id == newest.c.id).order_by(AnalystLabel.id)))


def sync_model_versions(session: Session, store: ModelStore, decisions: dict[str, dict] | None = None) -> None:
    """Mirror the model store's index (registry.json: versions, checksums, summaries, active
    flags) into the database."""
    index = store.index()
    rows = {r.version: r for r in session.scalars(sa.select(ModelVersion))}
    for row in rows.values():
        row.active = False
    session.flush()  # clear flags first: the partial unique index allows one active per use
    for version, entry in index["versions"].items():
        found = rows.get(version)
        if found is None:
            meta = store.meta(version)
            found = ModelVersion(
                version=version,
                use=entry["use"],
                data_fingerprint=str(meta.get("data_fingerprint", ""))[:64],
                params=meta.get("params", {}),
                checksums=entry["checksums"],
                evaluation=entry.get("summary", {}),
                decision=(decisions or {}).get(version, meta.get("decision", {})),
            )
            session.add(found)
        found.evaluation = entry.get("summary", {})
        found.active = index["active"].get(entry["use"]) == version
    session.flush()


def drift_report(
    model: ReportModel,
    version: str,
    reports: list[Any],
    reputation: ReputationSource | None = None,
    threshold: float = 0.25,
) -> DriftReport:
    """PSI of scam scores and key features of recent reports against the model's validation-time
    reference; ``report.alert`` is true when any PSI exceeds ``threshold``."""
    prepared = [p for p in map(_prepare_quietly, reports) if p is not None]
    if not prepared:
        return compare({}, {}, threshold, version, 0)
    X = model.featurizer.transform(prepared, reputation)
    dense = model.featurizer.all_dense(prepared, reputation)
    current = {"scam_probability": model.heads["scam"].proba(X)}
    for name in DRIFT_FEATURES:
        current[name] = dense[:, DENSE.index(name)]
    return compare(model.reference, current, threshold, version, len(prepared))


def linear_drift_report(model: LinearReportModel, version: str, reports: list[Any], threshold: float = 0.25) -> DriftReport:
    """The linear kind's drift: PSI of the calibrated score and of what the texts carry (length,
    cue counts, links, money requests) against the validation-time reference stored with it."""
    texts = [p.text for p in map(_prepare_quietly, reports) if p is not None]
    if not texts:
        return compare({}, {}, threshold, version, 0)
    return compare(model.reference, model.drift_values(texts), threshold, version, len(texts))


def _prepare_quietly(report: Any) -> Prepared | None:
    try:
        p = prepare(report)
    except Exception:
        return None
    return p if isinstance(p, Prepared) else None
