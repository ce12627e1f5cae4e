"""Score reports and incidents in batches with the active models.

One bad item never fails a batch: it comes back as ``Rejected(reason)`` in its place.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from tierwatch.antifraud.bundle import ReportModel, report_from_files
from tierwatch.antifraud.explain import contributions, top_contributions
from tierwatch.antifraud.features import Prepared, prepare
from tierwatch.antifraud.heads import set_threads
from tierwatch.antifraud.incidents import IncidentModel, PreparedIncident, prepare_incident
from tierwatch.antifraud.linear_model import KIND as LINEAR, LinearReportModel, history_reasons
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.reputation import ReputationSource
from tierwatch.antifraud.results import Contribution, IncidentSeverity, Rejected, Score
from tierwatch.antifraud.saabas import PathTable
from tierwatch.core.clock import utcnow

__all__ = ["Contribution", "Detector", "IncidentSeverity", "Rejected", "Score"]

CHUNK = 2500  # reports per worker chunk in large batches


class Detector:
    def __init__(
        self,
        report_model: ReportModel | LinearReportModel | None,
        report_version: str = "",
        incident_model: IncidentModel | None = None,
        incident_version: str = "",
    ):
        self.report_model = report_model
        self.report_version = report_version
        self.incident_model = incident_model
        self.incident_version = incident_version
        # The scam head's decision paths, tabulated once: explanations from leaf indices.
        self._scam_paths = PathTable(report_model.heads["scam"].booster) if isinstance(report_model, ReportModel) else None

    @property
    def version(self) -> str:
        return self.report_version

    @classmethod
    def load_active(cls, models_dir: Path) -> Detector | None:
        """The active report and incident models, or None when neither use has one yet.
        A model that fails its checksum raises ModelStoreError: that is never silently skipped."""
        store = ModelStore(models_dir)
        report_v, incident_v = store.active("report"), store.active("incident")
        if not report_v and not incident_v:
            return None
        return cls.load(models_dir, report_v, incident_v)

    @classmethod
    def load(cls, models_dir: Path, report_version: str | None, incident_version: str | None = None) -> Detector:
        store = ModelStore(models_dir)
        report: ReportModel | LinearReportModel | None = None
        if report_version:
            files = store.load_files(report_version)
            if store.kind(report_version) == LINEAR:
                report = LinearReportModel.from_files(files)
            else:
                report = report_from_files(files)
        incident = IncidentModel.from_files(store.load_files(incident_version)) if incident_version else None
        return cls(report, report_version or "", incident, incident_version or "")

    # --- reports -----------------------------------------------------------------------------
    def score_batch(
        self,
        reports: list[dict],
        reputation: ReputationSource | None = None,
        *,
        explain: bool = True,
        top_k: int = 5,
    ) -> list[Score | Rejected]:
        if self.report_model is None:
            return [Rejected("no active report model") for _ in reports]
        source = _Guarded(reputation) if reputation else None
        if isinstance(self.report_model, LinearReportModel):
            if len(reports) < 2 * CHUNK:
                return self._score_linear(reports, source, explain, top_k)
            # two threads on chunks: numpy hashing and the sparse products release the GIL
            chunks = [reports[i : i + CHUNK] for i in range(0, len(reports), CHUNK)]
            with ThreadPoolExecutor(2) as pool:
                parts = pool.map(lambda c: self._score_linear(c, source, explain, top_k), chunks)
                return [r for part in parts for r in part]
        if len(reports) < 2 * CHUNK:
            return self._score_reports(reports, source, explain, top_k, threads=None)
        # Two workers on chunks: while one runs Python validation (holding the GIL) the other
        # runs numpy and XGBoost (which release it), so both cores stay busy.
        chunks = [reports[i : i + CHUNK] for i in range(0, len(reports), CHUNK)]
        for head in self.report_model.heads.values():
            set_threads(head.booster, 1, 0)  # set once here: workers must not call set_param
        with ThreadPoolExecutor(2) as pool:
            parts = pool.map(lambda c: self._score_reports(c, source, explain, top_k, threads=0), chunks)
            return [r for part in parts for r in part]

    def _score_linear(self, reports: list[dict], reputation: _Guarded | None, explain: bool, top_k: int) -> list[Any]:
        model, version = self.report_model, self.report_version
        assert isinstance(model, LinearReportModel)
        results, ok_idx, items = _validate(reports, prepare, Prepared, version)
        if not items:
            return results
        s = model.score_texts([p.text for p in items], explain=explain)
        reasons = model.explain(s, top_k) if explain else None
        for row, (i, item, p) in enumerate(zip(ok_idx, items, s.probability.tolist())):
            why = reasons[row] if reasons is not None else []
            if explain and reputation is not None and item.identifiers:
                stats = reputation.lookup(list(item.identifiers), item.reported_at or utcnow())
                why = why + history_reasons(item.identifiers, stats)
            # the linear kind does not judge AI techniques (no real data label them): None
            results[i] = Score(p, s.is_scam[row], s.scam_type[row], s.scam_type_probability[row], None, why, version, item.notes)
        return results

    def _score_reports(
        self, reports: list[dict], reputation: _Guarded | None, explain: bool, top_k: int, threads: int | None
    ) -> list[Any]:
        model, version = self.report_model, self.report_version
        assert model is not None
        results, ok_idx, items = _validate(reports, prepare, Prepared, version)
        if not items:
            return results
        X = model.featurizer.transform(items, reputation, parallel=threads is None)
        scam = model.heads["scam"]
        p_scam = scam.proba(X, threads)
        p_type = model.heads["scam_type"].proba(X, threads)
        tech = model.heads["ai_technique"]
        p_tech = tech.proba(X, threads)
        none_col = tech.classes.index("none")
        any_ai = 1.0 - p_tech[:, none_col]
        masked = p_tech.copy()
        masked[:, none_col] = -1.0
        tech_pick = np.where(any_ai >= tech.thresholds.get("any_ai", 0.5), masked.argmax(axis=1), none_col)
        reasons = None
        if explain:
            assert self._scam_paths is not None
            reasons = top_contributions(self._scam_paths.contributions(X, threads or 1), X,
                                              model.featurizer.feature_names, top_k)
        threshold = scam.thresholds["operating"]
        type_classes = model.heads["scam_type"].classes
        # plain Python lists first: per-element numpy access would dominate this loop
        type_idx = p_type.argmax(axis=1)
        type_p = p_type[np.arange(len(items)), type_idx].tolist()
        type_names = [type_classes[t] for t in type_idx.tolist()]
        tech_names = [tech.classes[t] for t in tech_pick.tolist()]
        flags = (p_scam >= threshold).tolist()
        for row, (i, item, p) in enumerate(zip(ok_idx, items, p_scam.tolist())):
            results[i] = Score(
                p,
                flags[row],
                type_names[row],
                type_p[row],
                tech_names[row],
                reasons[row] if reasons is not None else [],
                version,
                item.notes,
            )
        return results

    # --- incidents ---------------------------------------------------------------------------
    def score_incidents(self, incidents: list[dict], *, top_k: int = 5) -> list[IncidentSeverity | Rejected]:
        if self.incident_model is None:
            return [Rejected("no active incident model") for _ in incidents]
        model, version = self.incident_model, self.incident_version
        results, ok_idx, items = _validate(incidents, prepare_incident, PreparedIncident, version)
        if not items:
            return results
        X = model.featurizer.transform(items)
        proba = model.head.proba(X)
        # contributions of the predicted class only: the words say why *this* level
        picked = proba.argmax(axis=1)
        contrib = contributions(model.head.booster, X)[np.arange(len(items)), picked]
        reasons = top_contributions(contrib, X, model.featurizer.feature_names, top_k)
        for row, (i, item) in enumerate(zip(ok_idx, items)):
            k = int(picked[row])
            results[i] = IncidentSeverity(
                severity=model.head.classes[k],
                probability=float(proba[row, k]),
                probabilities={c: round(float(p), 4) for c, p in zip(model.head.classes, proba[row])},
                explanation=reasons[row],
                model_version=version,
                notes=item.notes,
            )
        return results


def _validate(items: list[Any], prepare_fn: Any, ok_type: type, version: str) -> tuple[list[Any], list[int], list[Any]]:
    """Results with a Rejected in place of every item that fails validation, plus the
    positions and prepared forms of the others."""
    results: list[Any] = [None] * len(items)
    ok_idx, prepared = [], []
    for i, item in enumerate(items):
        try:
            p = prepare_fn(item)
        except Exception as exc:  # a malformed item must not take the batch down
            p = f"invalid item: {type(exc).__name__}: {str(exc)[:200]}"
        if isinstance(p, ok_type):
            ok_idx.append(i)
            prepared.append(p)
        else:
            results[i] = Rejected(p, version)
    return results, ok_idx, prepared


class _Guarded:
    """A reputation source whose failure for one report leaves that report's reputation
    features missing instead of failing the batch, and which is called by one thread at a
    time (a database session is not thread-safe)."""

    def __init__(self, inner: ReputationSource):
        self.inner = inner
        self._lock = threading.Lock()

    def lookup(self, identifiers: list[str], before: Any) -> dict:
        try:
            with self._lock:
                return self.inner.lookup(identifiers, before)
        except Exception:
            return {}
