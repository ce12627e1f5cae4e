"""With a trained detector active, the worker's store scores through it (not the rules), and a
running worker follows the model store's active pointer."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tierwatch.antifraud.bundle import report_artefacts
from tierwatch.cli.model import model as model_cli
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.reputation import InMemoryReputation
from tierwatch.antifraud.training.train import TrainConfig, train_report_model
from tierwatch.core.bus.sql import SqlBus
from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.core.search.fts import FtsIndex
from tierwatch.core.settings import IntakeSettings
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.loadgen import synthetic_reports
from tierwatch.monitoring.messages import ScamReport
from tierwatch.monitoring.models import Report
from tierwatch.monitoring.scoring import ActiveModelScorer, DetectorScorer, ScoringInput, load_scorer
from tierwatch.monitoring.store import persist, prepare
from tierwatch.monitoring.worker import Worker
from tests.keyring import new_report_keys
from tests.unit.antifraud.conftest import (  # noqa: F401  (fixtures: a quickly trained model)
    _store_template,
    corpus,
    incident_model,
    models_dir,
    report_model,
)


def test_active_detector_scores_stored_reports(models_dir, migrated_sqlite):
    scorer = load_scorer(models_dir)
    assert isinstance(scorer, DetectorScorer)
    engine = make_engine(migrated_sqlite)
    factory = make_session_factory(engine)
    when = datetime(2026, 3, 1, tzinfo=UTC)
    reports = [
        ScamReport(report_id="det-00000001", channel="phone", reported_at=when,
                   description="自称公安局民警，说我涉嫌洗钱，要求把钱转到安全账户，电话13800138000"),
        ScamReport(report_id="det-00000002", channel="sms", reported_at=when,
                   description="妈妈，我明天下午回家吃饭，记得买菜"),
    ]
    with UnitOfWork(factory) as uow:
        stored, new = persist(uow.session, [prepare(r, when, new_report_keys()) for r in reports], scorer,
                              ApplicationLinker(lambda: []), when)
        uow.commit()
    engine.dispose()
    assert new == 2
    scam, ham = stored["det-00000001"], stored["det-00000002"]
    assert scam["model_version"] == scorer.version != "rules-v1"
    assert scam["scam_probability"] > ham["scam_probability"]
    assert scam["score_reasons"]  # the detector's explanation, kept with the row
    # Readable lines, Chinese first, with the signed weight in log-odds.
    assert all(re.fullmatch(r".+ / .+ \([+-]\d+\.\d\d\)", r) for r in scam["score_reasons"]), scam["score_reasons"]


@pytest.fixture
def second_model(models_dir, corpus):
    """Another real model, trained differently, stored beside the active one (not active)."""
    examples, split = corpus
    other = TrainConfig(
        seed=1, text_features={"scam": 150, "scam_type": 60, "ai_technique": 40},
        scam_params={"n_estimators": 15, "max_depth": 3, "eta": 0.4, "max_bin": 32},
        multi_params={"n_estimators": 8, "max_depth": 3, "eta": 0.4, "max_bin": 32, "multi_strategy": "multi_output_tree"},
    )
    model = train_report_model(examples, split, other, progress=False)
    return ModelStore(models_dir).save("report", report_artefacts(model), {"data_fingerprint": "5ec0d1"})


def _versions(engine, prefix: str) -> list[str | None]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(Report.model_version).where(Report.report_id.startswith(prefix))).scalars())


def _wait_for(engine, prefix: str, n: int, timeout: float = 60.0) -> list[str | None]:
    deadline = time.monotonic() + timeout
    while len(found := _versions(engine, prefix)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_running_worker_switches_to_a_newly_activated_model_between_batches(
    models_dir, second_model, migrated_sqlite, tmp_path, monkeypatch
):
    first = ModelStore(models_dir).active("report")
    scorer = ActiveModelScorer(models_dir, check_every=0.2)
    assert scorer.version == first
    engine = make_engine(migrated_sqlite)
    bus, search = SqlBus(engine, partitions=1, session_timeout=2.0), FtsIndex(tmp_path / "search.db")
    settings = IntakeSettings(batch_size=100, poll_timeout=0.05, max_backoff=0.2)
    stop = threading.Event()
    worker = Worker(bus, search, lambda: UnitOfWork(make_session_factory(engine)), scorer,
                    ApplicationLinker(lambda: []), settings, stop=stop,
                    report_keys=new_report_keys())
    runner = threading.Thread(target=worker.run, daemon=True)
    bus.ensure_topics([settings.scam_topic])

    def publish(prefix: str) -> None:
        bus.publish_many(settings.scam_topic, [(r["report_id"], json.dumps(r, ensure_ascii=False).encode())
                                               for r in synthetic_reports(30, seed=5, prefix=prefix)])

    runner.start()
    try:
        publish("swap-a")
        assert _wait_for(engine, "swap-a", 30) == [first] * 30
        # the operator's command, against the worker's own database
        monkeypatch.setenv("TIERWATCH_DATABASE_URL", migrated_sqlite)
        out = CliRunner().invoke(model_cli, ["activate", second_model, "--models-dir", str(models_dir)])
        assert out.exit_code == 0, out.output
        time.sleep(0.3)  # past the scorer's check interval
        publish("swap-b")
        assert _wait_for(engine, "swap-b", 30) == [second_model] * 30
        assert scorer.version == second_model
    finally:
        stop.set()
        runner.join(timeout=30)
        search.close()
        engine.dispose()
    assert not runner.is_alive()


def test_the_scorer_follows_the_store_from_rules_to_a_model_and_keeps_it_when_the_next_fails_to_load(
    models_dir, second_model, tmp_path
):
    empty = tmp_path / "fresh-models"
    empty.mkdir()
    scorer = ActiveModelScorer(empty, check_every=0.0)
    report = [ScoringInput("r-1", "scam", "自称公安说我涉嫌洗钱，让我转账到安全账户", "phone", None, None, "广东",
                           datetime(2026, 3, 1, tzinfo=UTC), ())]
    reputation = InMemoryReputation.from_reports([])
    assert scorer.score_batch(report, reputation)[0].model_version == "rules-v1"

    shutil.copytree(models_dir, empty, dirs_exist_ok=True)  # a first model becomes active
    first = ModelStore(empty).active("report")
    assert scorer.score_batch(report, reputation)[0].model_version == first

    store = ModelStore(empty)
    store.activate(second_model)
    (store.folder(second_model) / "scam.ubj").write_bytes(b"tampered")  # will fail its checksum
    assert scorer.score_batch(report, reputation)[0].model_version == first
