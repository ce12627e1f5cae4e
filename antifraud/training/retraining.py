"""Retrain the report detector on analysts' labels, promoting the candidate only when it beats
the active model on the same held-out reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score

from tierwatch.antifraud.bundle import ReportModel, report_artefacts, report_from_files
from tierwatch.antifraud.features import Prepared, prepare
from tierwatch.antifraud.linear_model import KIND as LINEAR
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.reputation import InMemoryReputation, ReputationSource
from tierwatch.antifraud.service import latest_labels, sync_model_versions
from tierwatch.antifraud.training.corpus import build_corpus, dedupe, fingerprint, split_corpus
from tierwatch.antifraud.training.datasets import Example, text_key
from tierwatch.antifraud.training.train import TrainConfig, prepare_all, train_report_model
from tierwatch.core.db import UnitOfWork

LABEL_SOURCE = "analyst_labels"
FetchReports = Callable[[list[str]], Mapping[str, dict]]


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
    active = ModelStore(models_dir).active("report")
    if active and ModelStore(models_dir).kind(active) == LINEAR:
        # the comparison below scores XGBoost models; a linear model is retrained with
        # `tierwatch model train --kind linear` and compared on its served-path evaluation
        return RetrainResult(None, False, f"active report model {active} is linear: retraining from labels covers XGBoost models only")
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
    split = split_corpus(examples, seed, near_duplicates=False)  # the XGBoost kind's split (see evaluate.load_context)
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
