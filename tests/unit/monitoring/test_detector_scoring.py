"""With a trained detector active, the worker's store scores through it (not the rules)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.messages import ScamReport
from tierwatch.monitoring.scoring import DetectorScorer, load_scorer
from tierwatch.monitoring.store import persist, prepare
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
        stored, new = persist(uow.session, [prepare(r, when) for r in reports], scorer,
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
