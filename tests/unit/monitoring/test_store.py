"""Storing batches on SQLite: idempotent by report_id, totals, campaigns, reputation, privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.monitoring.indexing import report_document
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.bulk import insert_rows
from tierwatch.monitoring.messages import IncidentReport, ScamReport
from tierwatch.monitoring.models import Campaign, KnownIdentifier, Report, ReportContact, ReportIdentifier
from tierwatch.monitoring.reputation import DbReputation
from tierwatch.monitoring.scoring import RuleScorer
from tierwatch.monitoring.store import persist, prepare
from tests.bulk_update import check_update_rows
from tests.keyring import new_report_keys

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
KEYS = new_report_keys()


@pytest.fixture
def uow(migrated_sqlite):
    engine = make_engine(migrated_sqlite)
    factory = make_session_factory(engine)
    yield lambda: UnitOfWork(factory)
    engine.dispose()


def scam(n: int, text: str, minutes: int = 0, **kw) -> ScamReport:
    return ScamReport(report_id=f"rep-{n:06d}", description=text, channel="phone",
                      reported_at=T0 + timedelta(minutes=minutes), region=kw.pop("region", "广东"), **kw)


def store(uow, reports, now=None):
    batch = [prepare(r, T0, KEYS) for r in reports]
    with uow() as u:
        stored, new = persist(u.session, batch, RuleScorer(), ApplicationLinker(lambda: []), now or T0 + timedelta(days=1))
        u.commit()
    return batch, stored, new


def count(uow, model, *where):
    with uow() as u:
        return u.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_redelivered_report_is_stored_once_with_its_first_score(uow):
    report = scam(1, "冒充公安说我涉嫌洗钱，要求转账，电话13800138000", reporter_contact={"phone": "13900000000"})
    _, first, new1 = store(uow, [report])
    _, again, new2 = store(uow, [report, report])
    assert (new1, new2) == (1, 0)
    assert count(uow, Report) == 1 and count(uow, ReportIdentifier) == 1 and count(uow, ReportContact) == 1
    assert again == first  # the stored score, not a new one
    with uow() as u:
        known = u.session.get(KnownIdentifier, ("phone", "+8613800138000"))
        assert known.report_count == 1  # totals are not double-counted on redelivery


def test_reporter_contact_stays_out_of_reports_and_documents(uow):
    batch, stored, _ = store(uow, [scam(1, "对方让我下载会议软件共享屏幕", reporter_contact={"phone": "13900000000", "name": "王某"})])
    with uow() as u:
        row = u.session.execute(sa.select(Report.__table__)).mappings().one()
        sealed = u.session.get(ReportContact, "rep-000001").sealed
    assert "13900000000" not in sealed and "王某" not in sealed  # encrypted at rest
    assert KEYS.contacts.open(sealed) == {"phone": "13900000000", "name": "王某"}
    assert "13900000000" not in repr(dict(row))
    doc = report_document({**batch[0].row, **stored["rep-000001"]}, list(batch[0].keys))
    assert "13900000000" not in repr(doc) and "王某" not in repr(doc)
    assert doc["id"] == "rep-000001" and doc["tracking_code"].startswith("TW-")


def test_shared_identifiers_form_one_campaign_and_campaigns_merge(uow):
    store(uow, [scam(1, "电话13800138000要我转账"), scam(2, "打开 evil-pay.top/login 被盗刷")])
    assert count(uow, Campaign) == 0  # nothing shared yet
    store(uow, [scam(3, "又是13800138000打来", minutes=1)])
    store(uow, [scam(4, "网址 evil-pay.top/login 一模一样", minutes=2)])
    with uow() as u:
        campaigns = u.session.execute(sa.select(Campaign.key, Campaign.report_count)).all()
    assert sorted(campaigns) == [("domain:evil-pay.top", 2), ("phone:+8613800138000", 2)]
    # one report carrying both identifiers ties the two campaigns together
    store(uow, [scam(5, "13800138000 发来 evil-pay.top/login", minutes=3)])
    with uow() as u:
        campaigns = u.session.execute(sa.select(Campaign.id, Campaign.report_count, Campaign.last_seen)).all()
        members = set(u.session.scalars(sa.select(Report.campaign_id)))
        ids = u.session.execute(sa.select(KnownIdentifier.kind, KnownIdentifier.campaign_id)
                                .where(KnownIdentifier.kind.in_(["phone", "domain"]))).all()
    assert len(campaigns) == 1 and campaigns[0][1] == 5
    assert campaigns[0][2] == T0 + timedelta(minutes=3)
    assert members == {campaigns[0][0]}
    assert {cid for _, cid in ids} == {campaigns[0][0]}


def test_service_numbers_and_app_names_do_not_link_reports(uow):
    store(uow, [scam(1, "冒充95588说卡被冻结，下载《安心贷》APP"), scam(2, "也是95588，下载《安心贷》APP")])
    assert count(uow, Campaign) == 0


def test_reputation_counts_earlier_reports_only(uow):
    store(uow, [scam(i, f"电话13800138000第{i}次", minutes=i, region=r) for i, r in ((1, "广东"), (2, "湖南"), (3, "广东"))])
    with uow() as u:
        rep = DbReputation(u.session)
        now = rep.lookup(["phone:+8613800138000", "phone:+8613900000000"], T0 + timedelta(days=1))
        past = DbReputation(u.session).lookup(["phone:+8613800138000"], T0 + timedelta(minutes=2, seconds=30))
    stats = now["phone:+8613800138000"]
    assert (stats.count, stats.regions) == (3, 2) and "phone:+8613900000000" not in now
    assert stats.first_seen == T0 + timedelta(minutes=1) and stats.last_seen == T0 + timedelta(minutes=3)
    assert past["phone:+8613800138000"].count == 2  # strictly before the given time


def test_score_and_identifiers_are_stored(uow):
    batch, stored, _ = store(uow, [scam(1, "自称公安说我涉嫌洗钱，转账到安全账户6222021234567890128", amount_lost=50000.0)])
    assert stored["rep-000001"]["is_scam"] and stored["rep-000001"]["scam_type"] == "impersonate_authority"
    assert batch[0].keys == ("bank_card:6222021234567890128",)


def test_a_batch_mixing_report_kinds_is_stored(uow):
    incident = IncidentReport(
        report_id="inc-000001", app_name="某智能客服", occurred_at=T0, incident_type="data_leak",
        severity="high", affected_users=1200, description="对话记录被泄露", reported_at=T0,
    )
    _, stored, new = store(uow, [scam(1, "冒充客服要求退款转账，电话13800138001"), incident, scam(2, "又是冒充客服")])
    assert new == 3 and set(stored) == {"rep-000001", "inc-000001", "rep-000002"}
    with uow() as u:
        inc = u.session.scalar(sa.select(Report).where(Report.report_id == "inc-000001"))
        first = u.session.scalar(sa.select(Report).where(Report.report_id == "rep-000001"))
        u.session.expunge_all()  # read as loaded
    assert (inc.kind, inc.affected_users, inc.reporter_type, inc.channel) == ("incident", 1200, None, None)
    assert (first.kind, first.reporter_type, first.incident_type) == ("scam", "citizen", None)


def test_insert_rows_pads_rows_of_different_shapes(uow):
    store(uow, [scam(1, "一条举报")])
    with uow() as u:
        insert_rows(u.session, ReportIdentifier.__table__, [
            {"report_id": "rep-000001", "kind": "qq", "value": "12345678", "region": "广东", "reported_at": T0},
            {"report_id": "rep-000001", "kind": "qq", "value": "87654321", "reported_at": T0},
        ])
        u.commit()
        regions = dict(u.session.execute(sa.select(ReportIdentifier.value, ReportIdentifier.region)
                                         .where(ReportIdentifier.kind == "qq")).all())
    assert regions == {"12345678": "广东", "87654321": None}


def test_update_rows_adds_counters_and_compares_and_sets(uow):
    with uow() as u:
        check_update_rows(u.session, "sqlite-")
