"""Storing batches on a real PostgreSQL: the JSON-parameter bulk writes and the idempotent path.

The unit tests store on SQLite (executemany); these cover the PostgreSQL statements the worker
runs: one JSON parameter per table read back with json_to_recordset.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.monitoring.bulk import insert_rows
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.messages import IncidentReport, ScamReport
from tierwatch.monitoring.models import Campaign, KnownIdentifier, Report, ReportContact, ReportIdentifier
from tierwatch.monitoring.scoring import RuleScorer
from tierwatch.monitoring.store import persist, prepare
from tests.pg import fresh_database
from tests.bulk_update import check_update_rows
from tests.keyring import new_report_keys

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
KEYS = new_report_keys()


@pytest.fixture(scope="module")
def uow(postgres_url: str) -> Iterator:
    with fresh_database(postgres_url, "tw_store") as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        yield lambda: UnitOfWork(factory)
        engine.dispose()


def scam(n: int, text: str, minutes: int = 0, **kw) -> ScamReport:
    return ScamReport(report_id=f"pgrep-{n:06d}", description=text, channel="phone",
                      reported_at=T0 + timedelta(minutes=minutes), region=kw.pop("region", "广东"), **kw)


def store(uow, reports):
    with uow() as u:
        stored, new = persist(u.session, [prepare(r, T0, KEYS) for r in reports], RuleScorer(),
                              ApplicationLinker(list), T0 + timedelta(days=1))
        u.commit()
    return stored, new


def test_batch_is_stored_once_with_campaign_totals_and_contact_text(uow):
    a = scam(1, "冒充公安说我涉嫌洗钱，要求转账到安全账户，电话13800138000", reporter_contact={"name": "张三", "phone": "13900000000"})
    b = scam(2, "又接到13800138000的电话，说是公安局的，让我转账", minutes=5, region="湖南")
    first, new1 = store(uow, [a])
    again, new2 = store(uow, [a, b])  # a redelivered (the worker drops repeats within a batch)
    assert (new1, new2) == (1, 1)
    scored = [{k: v for k, v in found["pgrep-000001"].items() if k != "campaign_id"} for found in (first, again)]
    assert scored[0] == scored[1]  # the stored score, not a new one
    # ... and the campaign it is in now (b joined it to one): what its re-indexed document carries
    assert (first["pgrep-000001"]["campaign_id"], again["pgrep-000001"]["campaign_id"]) == (None, again["pgrep-000002"]["campaign_id"])
    with uow() as u:
        s = u.session
        known = s.get(KnownIdentifier, ("phone", "+8613800138000"))
        assert (known.report_count, known.first_seen, known.last_seen) == (2, T0, T0 + timedelta(minutes=5))
        campaign = s.get(Campaign, known.campaign_id)
        assert campaign.key == "phone:+8613800138000" and campaign.report_count == 2
        rows = s.execute(sa.select(Report.report_id, Report.campaign_id, Report.score_reasons,
                                   Report.reported_at).order_by(Report.report_id)).all()
        assert [(r.report_id, r.campaign_id) for r in rows] == [("pgrep-000001", campaign.id), ("pgrep-000002", campaign.id)]
        assert rows[0].reported_at == T0 and rows[0].score_reasons == first["pgrep-000001"]["score_reasons"]
        # The contact is encrypted at rest: nothing of it in the stored text, all of it with the key.
        text = s.execute(sa.text("SELECT sealed FROM report_contacts")).scalar_one()
        assert "13900000000" not in text and "张三" not in text and "pgrep-000001" not in text
        assert KEYS.contacts.open(s.get(ReportContact, "pgrep-000001").sealed) == {"name": "张三", "phone": "13900000000"}


def test_bulk_insert_refuses_naive_datetimes_and_returns_rows(uow):
    table = KnownIdentifier.__table__
    row = {"kind": "qq", "value": "12345678", "report_count": 1, "first_seen": T0, "last_seen": T0}
    with uow() as u, pytest.raises(ValueError, match="naive datetime"):
        insert_rows(u.session, table, [{**row, "last_seen": datetime(2026, 3, 1, 8)}], conflict=["kind", "value"])
    with uow() as u:
        back = insert_rows(u.session, table, [row], conflict=["kind", "value"],
                           update={"report_count": "{t}.report_count + excluded.report_count"},
                           returning=["kind", "value", "report_count"])
        back += insert_rows(u.session, table, [row], conflict=["kind", "value"],
                            update={"report_count": "{t}.report_count + excluded.report_count"},
                            returning=["report_count"])
        u.commit()
    assert back == [("qq", "12345678", 1), (2,)]


def _real_deadlock(url_uow) -> Exception:
    """Two sessions each lock a row, then ask for the other's: PostgreSQL aborts one of them."""
    import threading

    with url_uow() as setup:
        setup.session.execute(sa.text("CREATE TABLE IF NOT EXISTS dl_probe (id int PRIMARY KEY)"))
        setup.session.execute(sa.text("INSERT INTO dl_probe VALUES (1), (2) ON CONFLICT DO NOTHING"))
        setup.commit()
    errors: list[Exception] = []
    both_locked = threading.Barrier(2)

    def lock(first: int, second: int) -> None:
        with url_uow() as u:
            try:
                u.session.execute(sa.text("SELECT 1 FROM dl_probe WHERE id = :i FOR UPDATE"), {"i": first})
                both_locked.wait()
                u.session.execute(sa.text("SELECT 1 FROM dl_probe WHERE id = :i FOR UPDATE"), {"i": second})
                u.commit()
            except sa.exc.DBAPIError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=lock, args=pair) for pair in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(errors) == 1
    return errors[0]


def test_a_batch_that_loses_a_deadlock_is_retried_at_once(uow) -> None:
    import time

    from tierwatch.core.settings import IntakeSettings
    from tierwatch.monitoring.worker import Worker, classify_database_error

    deadlock = _real_deadlock(uow)
    assert classify_database_error(deadlock) == "race"
    assert classify_database_error(sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError())) == "outage"
    worker = Worker(None, None, uow, RuleScorer(), ApplicationLinker(lambda: []),  # type: ignore[arg-type]
                    IntakeSettings(max_backoff=5.0), report_keys=new_report_keys())
    calls = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise deadlock
        return "stored"

    assert worker._retry("database", flaky) == "stored"
    assert worker.stats.conflicts == 1 and calls[1] - calls[0] < 0.15  # no outage back-off


def test_a_batch_mixing_report_kinds_is_stored(uow) -> None:
    incident = IncidentReport(
        report_id="pgrep-inc-0001", app_name="某智能客服", occurred_at=T0, incident_type="data_leak",
        severity="high", affected_users=1200, description="对话记录被泄露", reported_at=T0,
    )
    stored, new = store(uow, [scam(101, "冒充客服要求退款转账，电话13800138001"), incident,
                              scam(102, "又是冒充客服，13800138001", minutes=1)])
    assert new == 3 and set(stored) == {"pgrep-000101", "pgrep-inc-0001", "pgrep-000102"}
    with uow() as u:
        rows = dict(u.session.execute(sa.select(Report.report_id, Report.kind)
                                      .where(Report.report_id.in_(list(stored)))).all())
        inc = u.session.scalar(sa.select(Report).where(Report.report_id == "pgrep-inc-0001"))
        scam_row = u.session.scalar(sa.select(Report).where(Report.report_id == "pgrep-000101"))
        u.session.expunge_all()  # read as loaded
    assert rows == {"pgrep-000101": "scam", "pgrep-inc-0001": "incident", "pgrep-000102": "scam"}
    assert (inc.affected_users, inc.reporter_type, inc.channel) == (1200, None, None)
    assert (scam_row.reporter_type, scam_row.incident_type) == ("citizen", None)


def test_insert_rows_pads_rows_of_different_shapes(uow) -> None:
    store(uow, [scam(201, "一条举报")])
    with uow() as u:
        insert_rows(u.session, ReportIdentifier.__table__, [
            {"report_id": "pgrep-000201", "kind": "qq", "value": "12345678", "region": "广东", "reported_at": T0},
            {"report_id": "pgrep-000201", "kind": "qq", "value": "87654321", "reported_at": T0},
        ])
        u.commit()
        regions = dict(u.session.execute(sa.select(ReportIdentifier.value, ReportIdentifier.region)
                                         .where(ReportIdentifier.report_id == "pgrep-000201")).all())
    assert regions == {"12345678": "广东", "87654321": None}


def test_update_rows_adds_counters_and_compares_and_sets(uow) -> None:
    with uow() as u:
        check_update_rows(u.session, "pg-")


def test_tables_the_evaluator_rewrites_every_minute_leave_room_on_each_page(uow) -> None:
    with uow() as u:
        options = dict(u.session.execute(sa.text(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN ('alerts', 'alert_rule_state', "
            "'alert_suppressions', 'reports')")).all())
    assert options == {"alerts": ["fillfactor=70"], "alert_rule_state": ["fillfactor=50"],
                       "alert_suppressions": ["fillfactor=70"], "reports": None}
