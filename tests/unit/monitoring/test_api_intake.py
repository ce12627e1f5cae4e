"""Intake API on the embedded bus: 202 only once the report is on the bus, 422 with field errors."""

from __future__ import annotations


import pytest
import sqlalchemy as sa

from tierwatch.core.bus.sql import BusRecord
from tierwatch.monitoring.messages import parse_report
from tierwatch.web import create_app

SCAM = {"description": "冒充客服说要注销百万保障，让我共享屏幕", "channel": "phone",
        "identifiers": {"phones": ["400-820-8820"]}, "region": "广东",
        "reporter_contact": {"phone": "13900000000"}}
INCIDENT = {"app_name": "粤智客服助手", "occurred_at": "2026-03-01T08:00:00+08:00", "incident_type": "outage",
            "severity": "medium", "affected_users": 10000, "description": "服务中断两小时"}


@pytest.fixture
def client(container):
    return create_app({"TESTING": True}, container).test_client()


@pytest.fixture
def tokens(container, world):
    from tierwatch.registry import accounts
    from tierwatch.registry.models import User

    with container.uow() as uow:
        out = {k: {"Authorization": f"Bearer {accounts.issue_token(uow, uow.session.get(User, getattr(world, k).user_id))[1]}"}
               for k in ("a", "regulator")}
        uow.commit()
    return out


def published(container, topic):
    with container.uow() as uow:
        rows = uow.session.execute(sa.select(BusRecord.key, BusRecord.value).where(BusRecord.topic == topic)).all()
    return [(key, parse_report(value)) for key, value in rows]


def test_anonymous_scam_report_is_accepted_with_a_tracking_code(client, container):
    resp = client.post("/api/v1/reports/scam", json={**SCAM, "reporter_type": "partner_feed"})
    assert resp.status_code == 202
    body = resp.get_json()
    assert body["tracking_code"].startswith("TW-")
    [(key, report)] = published(container, "reports.scam")
    assert key == body["report_id"] == report.report_id
    assert report.reporter_type.value == "citizen" and report.source == "web"  # anonymous cannot claim a feed
    assert report.reporter_contact.phone == "13900000000"


def test_producer_chosen_report_id_is_kept(client, container):
    resp = client.post("/api/v1/reports/scam", json={**SCAM, "report_id": "partner-77-000123"})
    assert resp.get_json()["report_id"] == "partner-77-000123"


def test_invalid_report_gets_field_level_422(client, container):
    resp = client.post("/api/v1/reports/scam", json={**SCAM, "channel": "pigeon", "amount_lost": "lots"})
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} == {"channel", "amount_lost"}
    assert published(container, "reports.scam") == []
    assert client.post("/api/v1/reports/scam", data="[]", content_type="application/json").status_code == 422


def test_incident_needs_a_company_or_regulator_token(client, container, tokens):
    assert client.post("/api/v1/reports/incident", json=INCIDENT).status_code == 401
    resp = client.post("/api/v1/reports/incident", json=INCIDENT, headers=tokens["a"])
    assert resp.status_code == 202
    [(_, report)] = published(container, "reports.incident")
    assert report.company == "深圳市腾讯计算机系统有限公司"  # from the token, not the body


def test_bulk_is_all_or_nothing(client, container, tokens):
    items = [{**SCAM, "kind": "scam"}, {**INCIDENT, "kind": "incident"}, {**SCAM, "kind": "scam", "channel": "x"}]
    resp = client.post("/api/v1/reports/bulk", json={"reports": items}, headers=tokens["regulator"])
    assert resp.status_code == 422
    assert [e["field"] for e in resp.get_json()["errors"]] == ["reports.2.channel"]
    assert published(container, "reports.scam") == []
    resp = client.post("/api/v1/reports/bulk", json={"reports": items[:2]}, headers=tokens["regulator"])
    assert resp.status_code == 202 and resp.get_json()["accepted"] == 2
    assert len(published(container, "reports.scam")) == 1 and len(published(container, "reports.incident")) == 1
    assert client.post("/api/v1/reports/bulk", json={"reports": items[:1]}).status_code == 401


def test_broker_failure_is_503_not_202(client, container, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(container.bus, "publish", down)
    resp = client.post("/api/v1/reports/scam", json=SCAM)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"


KEY = "5f0c7c1e-6a39-4c8e-9d0e-2b7a1f4e8c11"


def stored_reports(container) -> dict[str, int]:
    """Run a worker over the embedded bus until idle; report_id -> rows stored."""
    import threading

    from tierwatch.monitoring.models import Report as ReportRow
    from tierwatch.worker import build_worker

    build_worker(container, threading.Event()).run(exit_when_idle=0.5)
    with container.uow() as uow:
        rows = uow.session.execute(sa.select(ReportRow.report_id, sa.func.count()).group_by(ReportRow.report_id))
        return dict(rows.all())


def test_a_retry_with_the_same_idempotency_key_is_the_same_single_report(client, container):
    first = client.post("/api/v1/reports/scam", json=SCAM, headers={"Idempotency-Key": KEY})
    again = client.post("/api/v1/reports/scam", json={**SCAM, "description": SCAM["description"] + "（重试）"},
                        headers={"Idempotency-Key": KEY})
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()  # same report_id, same tracking code
    assert len(published(container, "reports.scam")) == 2  # both reached the bus, as after a timeout
    other = client.post("/api/v1/reports/scam", json=SCAM, headers={"Idempotency-Key": KEY[::-1]}).get_json()
    assert other["report_id"] != first.get_json()["report_id"]
    assert stored_reports(container) == {first.get_json()["report_id"]: 1, other["report_id"]: 1}


def test_idempotency_keys_are_scoped_by_sender_and_endpoint(client, container, tokens):
    anonymous = client.post("/api/v1/reports/scam", json=SCAM, headers={"Idempotency-Key": KEY}).get_json()
    signed_in = client.post("/api/v1/reports/scam", json=SCAM,
                            headers={"Idempotency-Key": KEY, **tokens["regulator"]}).get_json()
    incident = client.post("/api/v1/reports/incident", json=INCIDENT,
                           headers={"Idempotency-Key": KEY, **tokens["regulator"]}).get_json()
    assert len({anonymous["report_id"], signed_in["report_id"], incident["report_id"]}) == 3


def test_a_client_report_id_wins_over_the_key(client):
    body = client.post("/api/v1/reports/scam", json={**SCAM, "report_id": "partner-77-000124"},
                       headers={"Idempotency-Key": KEY}).get_json()
    assert body["report_id"] == "partner-77-000124"


def test_a_malformed_idempotency_key_is_a_field_level_422(client, container):
    resp = client.post("/api/v1/reports/scam", json=SCAM, headers={"Idempotency-Key": "abc"})
    assert resp.status_code == 422
    assert [e["field"] for e in resp.get_json()["errors"]] == ["Idempotency-Key"]
    assert published(container, "reports.scam") == []


def test_a_bulk_retry_with_the_same_key_repeats_every_receipt(client, container, tokens):
    items = [{**SCAM, "kind": "scam"}, {**SCAM, "kind": "scam", "region": "广西"}, {**INCIDENT, "kind": "incident"}]
    headers = {"Idempotency-Key": KEY, **tokens["regulator"]}
    first = client.post("/api/v1/reports/bulk", json={"reports": items}, headers=headers).get_json()
    again = client.post("/api/v1/reports/bulk", json={"reports": items}, headers=headers).get_json()
    assert first == again and len({r["report_id"] for r in first["receipts"]}) == 3
    bad = client.post("/api/v1/reports/bulk", json={"reports": items},
                      headers={**headers, "Idempotency-Key": "short"}).get_json()
    assert bad["errors"] == [{"field": "Idempotency-Key", "message": bad["errors"][0]["message"]}]
    assert sorted(stored_reports(container).values()) == [1, 1, 1]


def test_the_form_token_path_gives_the_api_key_path_the_same_report_id():
    from tierwatch.monitoring.intake import build_report

    data = {k: v for k, v in SCAM.items() if k != "reporter_contact"}
    token = "Zk3pX9qLr2Vt8mWc1Hs0Ng"  # what a form's hidden field would carry
    first = build_report("scam", data, idempotency_key=token, reporter_type="citizen", source="web")
    again = build_report("scam", data, idempotency_key=token, reporter_type="citizen", source="web")
    assert first.report_id == again.report_id and first.report_id.startswith("ik-")


def _token(container, world, key):
    from tierwatch.registry import accounts
    from tierwatch.registry.models import User

    with container.uow() as uow:
        plain = accounts.issue_token(uow, uow.session.get(User, getattr(world, key).user_id))[1]
        uow.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_only_a_partner_feed_account_reports_as_a_partner_feed(client, container, world, tokens):
    from tierwatch.core.actors import Actor
    from tierwatch.registry import accounts
    from tierwatch.registry.schemas import UserIn
    from tests.unit.registry.factories import PASSWORD

    claim = {**SCAM, "reporter_type": "partner_feed", "source": "中国移动反诈"}
    assert client.post("/api/v1/reports/scam", json=claim, headers=tokens["a"]).status_code == 202
    with container.uow() as uow:
        accounts.create_user(uow, Actor.system("test"), UserIn(
            email="feed@bank.example.cn", name="某银行反诈推送", password=PASSWORD, role="partner"))
        uow.commit()
    from tierwatch.registry.models import User

    with container.uow() as uow:
        feed = uow.session.scalars(sa.select(User).where(User.email == "feed@bank.example.cn")).one()
        plain = accounts.issue_token(uow, feed)[1]
        uow.commit()
    assert client.post("/api/v1/reports/scam", json=claim, headers={"Authorization": f"Bearer {plain}"}).status_code == 202
    by_company, by_feed = sorted((r for _, r in published(container, "reports.scam")),
                                 key=lambda r: r.reporter_type.value)
    assert (by_company.reporter_type.value, by_company.source) == ("company", "深圳市腾讯计算机系统有限公司")
    assert (by_feed.reporter_type.value, by_feed.source) == ("partner_feed", "某银行反诈推送")


def test_incidents_in_bulk_need_the_same_roles_as_alone(client, container, world):
    analyst = _token(container, world, "analyst")
    assert client.post("/api/v1/reports/incident", json=INCIDENT, headers=analyst).status_code == 403
    bulk = client.post("/api/v1/reports/bulk", json={"reports": [{**INCIDENT, "kind": "incident"}]}, headers=analyst)
    assert bulk.status_code == 403
    assert published(container, "reports.incident") == []


def test_a_company_cannot_file_an_incident_under_another_companys_filing(client, container, world, tokens):
    from tierwatch.registry.models import Application

    with container.uow() as uow:
        uow.session.add(Application(company_id=world.company_b, name="华为应用", status="approved",
                                    filing_number="粤AI备-2026-000777"))
        uow.commit()
    theirs = client.post("/api/v1/reports/incident", json={**INCIDENT, "filing_number": "粤AI备-2026-000777"},
                         headers=tokens["a"])
    assert theirs.status_code == 422 and theirs.get_json()["errors"][0]["field"] == "filing_number"
    assert published(container, "reports.incident") == []
    b = _token(container, world, "b")
    assert client.post("/api/v1/reports/incident", json={**INCIDENT, "filing_number": "粤AI备-2026-000777"},
                       headers=b).status_code == 202
