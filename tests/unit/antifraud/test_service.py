import numpy as np
import pydantic
import pytest
import sqlalchemy as sa

from tierwatch.antifraud.bundle import report_artefacts
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.models import AnalystLabel, ModelVersion
from tierwatch.antifraud.reputation import InMemoryReputation
from tierwatch.antifraud.service import drift_report, latest_labels, record_label, sync_model_versions
from tierwatch.antifraud.training.retraining import retrain_from_labels
from tierwatch.antifraud.training.synth.generate import generate_reports
from tierwatch.antifraud.training.train import TrainConfig, train_report_model
from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory

WORSE = TrainConfig(
    text_features={"scam": 20},
    scam_params={"n_estimators": 1, "max_depth": 1, "eta": 0.3},
    multi_params={"n_estimators": 1, "max_depth": 1, "eta": 0.3, "multi_strategy": "multi_output_tree"},
    augment=False,
)


@pytest.fixture
def uow(migrated_sqlite):
    engine = make_engine(migrated_sqlite)
    yield UnitOfWork(make_session_factory(engine))
    engine.dispose()


@pytest.fixture
def labelled(uow):
    """60 analyst verdicts on synthetic reports, and the store that returns those reports."""
    examples = generate_reports(60, seed=99)
    store = {}
    for i, e in enumerate(examples):
        rid = f"r-{i}"
        store[rid] = e.report
        record_label(uow, rid, bool(e.is_scam), "analyst-1", e.scam_type, e.ai_technique)
    return lambda ids: {rid: store[rid] for rid in ids if rid in store}


def test_labels_are_validated_and_the_latest_verdict_wins(uow):
    record_label(uow, "r-1", True, "alice", "phishing")
    record_label(uow, "r-1", False, "bob", note="genuine bank notice")
    with pytest.raises(pydantic.ValidationError):
        record_label(uow, "r-2", True, "alice", "not-a-type")
    with pytest.raises(pydantic.ValidationError):
        record_label(uow, "", True, "alice")
    with uow:
        rows = latest_labels(uow.session)
        assert [(r.report_id, r.is_scam, r.analyst) for r in rows] == [("r-1", False, "bob")]
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(AnalystLabel)) == 2


def test_too_few_labels_trains_nothing(uow, models_dir):
    record_label(uow, "r-1", True, "alice", "phishing")
    result = retrain_from_labels(uow, models_dir, lambda ids: {}, synthetic=200)
    assert not result.promoted and result.candidate is None and "need" in result.reason


def test_a_worse_retrained_model_is_not_promoted(uow, models_dir, labelled):
    store = ModelStore(models_dir)
    active = store.active("report")
    result = retrain_from_labels(uow, models_dir, labelled, synthetic=800, seed=5, config=WORSE)
    assert result.candidate and not result.promoted
    assert result.candidate_metrics["pr_auc"] < result.active_metrics["pr_auc"]
    assert store.active("report") == active  # unchanged
    with uow:
        row = uow.session.scalar(sa.select(ModelVersion).where(ModelVersion.version == result.candidate))
        assert row is not None and row.decision["promoted"] is False and not row.active


def test_a_better_retrained_model_is_promoted(uow, models_dir, labelled, corpus, tiny_config):
    store = ModelStore(models_dir)
    examples, split = corpus
    weak = train_report_model(examples, split, WORSE, progress=False)
    weak_version = store.save("report", report_artefacts(weak), {"data_fingerprint": "000000"})
    store.activate(weak_version)
    result = retrain_from_labels(uow, models_dir, labelled, synthetic=800, seed=5, config=tiny_config)
    assert result.promoted, result.reason
    assert store.active("report") == result.candidate
    with uow:
        active = uow.session.scalars(sa.select(ModelVersion).where(ModelVersion.active)).all()
        assert {(r.use, r.version) for r in active} == {("report", result.candidate), ("incident", store.active("incident"))}


def test_sync_keeps_one_active_per_use(uow, models_dir, report_model):
    store = ModelStore(models_dir)
    other = store.save("report", report_artefacts(report_model), {"data_fingerprint": "123456"})
    for version in (other, store.versions("report")[0]["version"]):
        store.activate(version)
        with uow:
            sync_model_versions(uow.session, store)
            uow.commit()
    with uow:
        rows = uow.session.scalars(sa.select(ModelVersion).where(ModelVersion.use == "report")).all()
        assert len(rows) == 2 and sum(r.active for r in rows) == 1


def test_drift_flags_a_shifted_stream_and_not_a_similar_one(report_model, corpus):
    examples, split = corpus
    reputation = InMemoryReputation.from_reports(e.report for e in examples)  # as at training
    similar = [examples[i].report for i in split.test]
    quiet = drift_report(report_model, "v", similar, reputation)
    assert not quiet.alert, quiet.to_json()
    shifted = [dict(r, amount_lost=1_000_000.0, channel="phone", identifiers={"phone": ["1", "2", "3", "4"]}) for r in similar]
    loud = drift_report(report_model, "v", shifted, reputation)
    assert loud.alert
    flagged = {i.name for i in loud.items if i.flagged}
    assert {"amount_lost_log10", "n_identifiers"} <= flagged
    assert drift_report(report_model, "v", [None, {"text": ""}]).n_reports == 0
    assert np.isfinite([i.psi for i in loud.items]).all()
