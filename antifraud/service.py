"""Use cases: record analysts' labels, retrain from them (promoting only a better model), watch
drift, and mirror the on-disk model store into the database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sklearn.metrics import average_precision_score
from sqlalchemy.orm import Session

from tierwatch.antifraud.bundle import report_artefacts, report_from_files
from tierwatch.antifraud.corpus import build_corpus, dedupe, fingerprint, split_corpus
from tierwatch.antifraud.datasets import Example, text_key
from tierwatch.antifraud.drift import DRIFT_FEATURES, DriftReport, compare
from tierwatch.antifraud.features import DENSE, Prepared, prepare
from tierwatch.antifraud.models import AnalystLabel, ModelVersion
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.reputation import InMemoryReputation, ReputationSource
from tierwatch.antifraud.schemas import LabelIn
from tierwatch.antifraud.train import ReportModel, TrainConfig, prepare_all, train_report_model
from tierwatch.core.db import UnitOfWork

LABEL_SOURCE = "analyst_labels"
FetchReports = Callable[[list[str]], Mapping[str, dict]]


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


@dataclass(frozen=True)
class RetrainResult:
    candidate: str | None
    promoted: bool
    reason: str
    candidate_metrics: dict = field(default_factory=dict)
    active_metrics: dict = field(default_factory=dict)


def retrain_from_labels(
    uow: UnitOfWork,
    models_dir: Path,
    fetch_reports: FetchReports,
    *,
    data_dir: Path | None = None,
    synthetic: int = 6000,
    seed: int = 0,
    min_labels: int = 20,
    config: TrainConfig | None = None,
    progress: bool = False,
) -> RetrainResult:
    """Train a candidate on the base corpus plus analysts' labels; promote it only if its scam
    PR-AUC on the held-out split beats the active model's on the very same examples.

    ``fetch_reports`` maps report ids to report dicts (the monitoring store provides it).
    """
    with uow:
        labels = [(l.report_id, l.is_scam, l.scam_type, l.ai_technique) for l in latest_labels(uow.session)]
    reports = fetch_reports([rid for rid, *_ in labels])
    labelled = [
        Example(dict(reports[rid]), int(is_scam), scam_type if is_scam else None, tech, LABEL_SOURCE, "label")
        for rid, is_scam, scam_type, tech in labels
        if rid in reports and isinstance(reports[rid], dict) and isinstance(prepare(reports[rid]), Prepared)
    ]
    if len(labelled) < min_labels:
        return RetrainResult(None, False, f"only {len(labelled)} usable labelled reports; need {min_labels}")

    # analysts' verdicts override whatever the base corpus says about the same text
    overridden = {text_key(e.report["text"]) for e in labelled}
    base = [e for e in build_corpus(data_dir, synthetic, seed) if text_key(e.report["text"]) not in overridden]
    examples = dedupe(labelled + base)
    split = split_corpus(examples, seed)
    config = config or TrainConfig(seed=seed)
    candidate = train_report_model(examples, split, config, progress)

    test = [examples[i] for i in split.test]
    reputation = InMemoryReputation.from_reports(e.report for e in examples)
    cand = heldout_metrics(candidate, test, reputation)
    store = ModelStore(models_dir)
    active_version = store.active("report")
    act: dict = {}
    if active_version is None:
        promoted, reason = True, "no active model"
    else:
        act = heldout_metrics(report_from_files(store.load_files(active_version)), test, reputation)
        promoted = cand["pr_auc"] > act["pr_auc"]
        verb = "beats" if promoted else "does not beat"
        reason = f"candidate PR-AUC {cand['pr_auc']:.4f} {verb} active {act['pr_auc']:.4f} on {cand['n']} held-out reports"
    decision = {"promoted": promoted, "reason": reason, "candidate": cand, "active": act, "active_version": active_version, "n_labels": len(labelled)}
    meta = {
        "data_fingerprint": fingerprint(examples, repr(config.to_json())),
        "corpus": {"data_dir": str(data_dir) if data_dir else None, "synthetic": synthetic, "seed": seed, "analyst_labels": len(labelled)},
        "params": config.to_json(),
        "features": candidate.featurizer.feature_names,
        "summary": {"heldout_pr_auc": round(cand["pr_auc"], 4), "promoted": promoted},
        "decision": decision,
    }
    version = store.save("report", report_artefacts(candidate), meta)
    if promoted:
        store.activate(version)
    with uow:
        sync_model_versions(uow.session, store, {version: decision})
        uow.commit()
    return RetrainResult(version, promoted, reason, cand, act)


def heldout_metrics(model: ReportModel, test: list[Example], reputation: ReputationSource) -> dict:
    kept, prepared = prepare_all(test)
    y = np.array([e.is_scam for e in kept])
    p = model.heads["scam"].proba(model.featurizer.transform(prepared, reputation))
    out = {"n": len(kept), "pr_auc": float(average_precision_score(y, p)) if 0 < y.sum() < len(y) else 0.0}
    mine = np.array([e.source == LABEL_SOURCE for e in kept])
    if mine.any() and 0 < y[mine].sum() < mine.sum():
        out["analyst_labels_pr_auc"] = float(average_precision_score(y[mine], p[mine]))
    return out


def sync_model_versions(session: Session, store: ModelStore, decisions: dict[str, dict] | None = None) -> None:
    """Mirror the model store's index, registry.json (versions, checksums, summaries, active flags) into the database."""
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
    dense = model.featurizer.dense(prepared, reputation)
    current = {"scam_probability": model.heads["scam"].proba(X)}
    for name in DRIFT_FEATURES:
        current[name] = dense[:, DENSE.index(name)]
    return compare(model.reference, current, threshold, version, len(prepared))


def _prepare_quietly(report: Any) -> Prepared | None:
    try:
        p = prepare(report)
    except Exception:
        return None
    return p if isinstance(p, Prepared) else None
