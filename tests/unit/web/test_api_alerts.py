"""The alerting JSON API on the embedded default: the queue, an alert in detail, the triage
journey (acknowledge, comment, escalate with a tier review, resolve with labels), bulk actions,
silences, subscriptions, webhooks, run records; roles; every action audited; errors as JSON 4xx
with the field at fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tierwatch.antifraud.models import AnalystLabel
from tierwatch.monitoring.alerts.catalog import RuleCatalog
from tierwatch.monitoring.alerts.cycle import CycleContext, run_cycle
from tierwatch.monitoring.alerts.models import AlertSilence
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA
from tierwatch.monitoring.models import Report
from tierwatch.registry.models import AuditEntry
from tests.contract.alert_harness import rule
from tests.unit.monitoring.test_linking import approved_app
from tests.unit.registry.factories import activate_shipped_rules

NOW = datetime.now(UTC).replace(second=0, microsecond=0)  # actions are stamped with the real clock
PHONES = ["+8613800000001", "+8613800000002", "+8613800000003"]
BURST_TEXT = """
id: api-burst
type: frequency
severity: high
filter: {match: {kind: scam}}
group_by: ident_phone
window: 1h
threshold: 2
schedule: {every: 1m, buffer: 0}
summary_fields: [region]
"""
BURST = rule(BURST_TEXT)


@pytest.fixture
def alerts(container, world, tmp_path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Three open alerts, one per phone number; the first linked to a registered application."""
    activate_shipped_rules(container)
    app_id, _ = approved_app(container, world, "安心贷")
    docs = []
    with container.uow() as uow:
        for i, phone in enumerate(PHONES):
            for j in range(2 + i):
                rid = f"r-{i}-{j}"
                at = NOW - timedelta(minutes=10 + j)
                uow.session.add(Report(report_id=rid, tracking_code=f"TW-API{i}{j:05d}", kind="scam",
                                       schema_version=1, description=f"冒充客服 {phone}", reported_at=at,
                                       received_at=at, region="深圳", application_id=app_id if i == 0 else None))
                docs.append({"id": rid, "kind": "scam", "reported_at": at, "ident_phone": [phone], "region": "深圳",
                             "identifiers": [f"phone:{phone}"],
                             **({"application_id": str(app_id), "tier": "medium"} if i == 0 else {})})
        uow.commit()
    container.search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
    container.search.bulk_index(REPORTS_INDEX, docs)
    with container.session_factory() as session:
        run_cycle(session, [BURST], NOW, CycleContext(container.search, evaluator="test"))
        session.commit()
    rules_dir = tmp_path / "alert-rules"
    rules_dir.mkdir()
    (rules_dir / "api-burst.yaml").write_text("schema_version: 1\ntitle: {zh: 测试规则, en: Test rule}\n"
                                              "owner: fraud-desk\ngroup: test\n" + BURST_TEXT.strip() + "\n")
    container.__dict__["alert_rules"] = RuleCatalog(rules_dir)  # as TIERWATCH_ALERT_RULES_DIR would
    client_ids: dict[str, int] = {}
    with container.uow() as uow:
        from tierwatch.monitoring.alerts.models import Alert

        for a in uow.session.scalars(sa.select(Alert)):
            client_ids[a.group_key] = a.id
    client_ids["app"] = app_id
    return client_ids


def audit_actions(container, entity: str = "alert") -> list[str]:  # type: ignore[no-untyped-def]
    with container.uow() as uow:
        return list(uow.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity == entity)
                                        .order_by(AuditEntry.id)))


def test_the_queue_filters_sorts_and_hides_alerts_from_companies(client, tokens, alerts, container) -> None:  # type: ignore[no-untyped-def]
    listed = client.get("/api/v1/alerts?state=open&sort=-report_count", headers=tokens["analyst"]).json
    assert listed["total"] == 3
    assert [a["key"] for a in listed["items"]] == list(reversed(PHONES))  # 4, 3, 2 reports
    assert client.get("/api/v1/alerts?severity=low", headers=tokens["regulator"]).json["total"] == 0
    assert client.get("/api/v1/alerts", headers=tokens["a"]).status_code == 403  # companies: never
    assert client.get("/api/v1/alerts").status_code == 401
    detail = client.get(f"/api/v1/alerts/{alerts[PHONES[0]]}", headers=tokens["regulator"]).json
    assert detail["key"] == PHONES[0]  # analysts and regulators see identifiers in full
    assert {r["report_id"] for r in detail["reports"]} == {"r-0-0", "r-0-1"}
    assert [e["action"] for e in detail["events"]] == ["opened"]
    assert detail["summary"]["zh"].startswith("1 小时内 2 份举报涉及 +8613800000001")
    assert detail["application_ids"] == [str(alerts["app"])]
    from tierwatch import alerting

    # the alerts index follows the database (3 alerts; and the application's 3 registry events relayed)
    assert alerting.dispatch_outbox(container).sent == 3 + 3
    found = client.get(f"/api/v1/alerts?q={PHONES[1].replace('+', '%2B')}", headers=tokens["analyst"]).json
    assert [a["key"] for a in found["items"]] == [PHONES[1]]  # text search over titles and summaries

    def keys(q: str, **more: str) -> list[str]:
        listed = client.get("/api/v1/alerts", query_string={"q": q, **more}, headers=tokens["analyst"]).json
        return sorted(a["key"] for a in listed["items"])

    # what an analyst types, as the console's search box takes it (monitoring.alerts.text_search)
    assert keys("138 0000 0002") == [PHONES[1]] and keys("安心贷") == [PHONES[0]]
    assert keys("api-burst") == PHONES and keys("api-burst", severity="low") == [] and keys("13999999999") == []
    bad = client.get("/api/v1/alerts?state=asleep&sort=colour", headers=tokens["analyst"])
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]} == {"state", "sort"}


def test_an_analyst_triages_an_alert_from_acknowledgement_to_verdict(client, tokens, alerts, container) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/alerts/{alerts[PHONES[0]]}"
    h = tokens["analyst"]
    assert client.post(f"{url}/acknowledge", headers=h, json={}).json["state"] == "acknowledged"
    assert client.post(f"{url}/acknowledge", headers=h, json={}).status_code == 409  # once
    assert client.post(f"{url}/comments", headers=h, json={"comment": "已联系运营商核实"}).status_code == 201
    escalated = client.post(f"{url}/escalate", headers=h, json={"tier_review": True, "reason": "应用被大规模冒用"}).json
    assert escalated["state"] == "escalated" and escalated["tier_review_id"]
    review = client.get(f"/api/v1/tier-reviews/{escalated['tier_review_id']}", headers=tokens["regulator"]).json
    assert (review["application_id"], review["raised_from_alert_id"], review["status"]) == (alerts["app"], alerts[PHONES[0]], "open")
    assert client.get("/api/v1/tier-reviews", headers=tokens["a"]).status_code == 403
    decision = {"decision": "keep", "comment": "经复核，冒用不影响该应用本身的风险等级，维持原等级"}
    assert client.post(f"/api/v1/tier-reviews/{review['id']}/decision", headers=h, json=decision).status_code == 403
    decided = client.post(f"/api/v1/tier-reviews/{review['id']}/decision", headers=tokens["regulator"], json=decision)
    assert decided.status_code == 200 and decided.json["decision"] == "keep"
    resolved = client.post(f"{url}/resolve", headers=h, json={"scam_type": "fake_customer_service"}).json
    assert (resolved["state"], resolved["verdict"]) == ("resolved", "resolved")
    with container.uow() as uow:  # the verdict labelled the alert's scam reports for retraining
        labels = [(x.report_id, x.is_scam, x.scam_type)
                  for x in uow.session.scalars(sa.select(AnalystLabel).order_by(AnalystLabel.report_id))]
    assert labels == [
        ("r-0-0", True, "fake_customer_service"), ("r-0-1", True, "fake_customer_service")]
    assert audit_actions(container) == ["alert.acknowledge", "alert.comment", "alert.escalate", "alert.resolve"]
    events = [e["action"] for e in client.get(url, headers=h).json["events"]]
    assert events == ["opened", "acknowledged", "commented", "escalated", "resolved"]
    reopened = client.post(f"{url}/reopen", headers=h, json={"reason": "同一号码再次出现新的受害人"})
    assert reopened.json["state"] == "open" and reopened.json["reopen_count"] == 1


def test_a_regulator_reads_but_does_not_triage(client, tokens, alerts) -> None:  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/alerts/{alerts[PHONES[1]]}/acknowledge", headers=tokens["regulator"], json={})
    assert resp.status_code == 403 and resp.json["error"] == "forbidden"


def test_false_positive_mutes_the_key_and_the_next_match_is_held_back(client, tokens, alerts, container) -> None:  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/alerts/{alerts[PHONES[1]]}/false-positive", headers=tokens["analyst"],
                       json={"reason": "运营商官方号码", "mute_days": 3})
    assert resp.json["verdict"] == "false_positive"
    with container.uow() as uow:
        [silence] = uow.session.scalars(sa.select(AlertSilence))
        assert (silence.rule_id, silence.group_key) == ("api-burst", PHONES[1])
        silence_id = silence.id
        labels = {(x.report_id, x.is_scam) for x in uow.session.scalars(sa.select(AnalystLabel))}
    assert labels == {("r-1-0", False), ("r-1-1", False), ("r-1-2", False)}
    after_the_mute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    with container.session_factory() as session:
        run_cycle(session, [BURST], after_the_mute, CycleContext(container.search))
        session.commit()
    held = client.get(f"/api/v1/alerts/{alerts[PHONES[1]]}", headers=tokens["analyst"]).json["held_back"]
    # (a window end before the mute, if the clock passed one, was held back by the re-alert window)
    assert [(h["count"], h["silence_id"]) for h in held if h["reason"] == "silence"] == [(1, silence_id)]
    assert {h["reason"] for h in held} <= {"silence", "realert"}
    assert client.get("/api/v1/alerts?state=open", headers=tokens["analyst"]).json["total"] == 2  # no new alert


def test_bulk_acknowledge_reports_what_it_could_not_do(client, tokens, alerts, container, world) -> None:  # type: ignore[no-untyped-def]
    client.post(f"/api/v1/alerts/{alerts[PHONES[2]]}/resolve", headers=tokens["analyst"], json={"label_reports": "leave"})
    ids = [alerts[p] for p in PHONES] + [999]
    resp = client.post("/api/v1/alerts/bulk", headers=tokens["analyst"], json={"ids": ids, "action": "acknowledge"})
    assert resp.json["done"] == [alerts[PHONES[0]], alerts[PHONES[1]]]
    assert set(resp.json["refused"]) == {str(alerts[PHONES[2]]), "999"}
    assert audit_actions(container).count("alert.acknowledge") == 2  # one entry per alert
    assigned = client.post("/api/v1/alerts/bulk", headers=tokens["analyst"], json={
        "ids": [alerts[PHONES[0]], alerts[PHONES[1]]], "action": "assign", "assignee_id": world.analyst.user_id})
    assert assigned.json == {"done": [alerts[PHONES[0]], alerts[PHONES[1]]], "refused": {}}
    mine = client.get(f"/api/v1/alerts?assignee_id={world.analyst.user_id}", headers=tokens["analyst"]).json
    assert mine["total"] == 2


def test_errors_are_json_with_the_field_at_fault(client, tokens, alerts) -> None:  # type: ignore[no-untyped-def]
    h = tokens["analyst"]
    url = f"/api/v1/alerts/{alerts[PHONES[0]]}"
    cases: list[tuple[Any, int, set[str]]] = [
        (client.post(f"{url}/acknowledge", headers=h, json={"colour": "red"}), 422, {"colour"}),
        (client.post(f"{url}/false-positive", headers=h, json={}), 422, {"reason"}),
        (client.post(f"{url}/comments", headers=h, json={"comment": "  "}), 422, {"comment"}),
        (client.post(f"{url}/assign", headers=h, json={"assignee_id": 424242}), 422, {"assignee_id"}),
        (client.post(f"{url}/resolve", headers=h, json={"label_reports": "maybe"}), 422, {"label_reports"}),
        (client.post(f"{url}/resolve", headers=h, json={"scam_type": "space_pirates"}), 422, {"scam_type"}),
        (client.post("/api/v1/alerts/bulk", headers=h, json={"ids": [], "action": "delete"}), 422, {"ids", "action"}),
        (client.post(f"{url}/acknowledge", headers={**h, "Content-Type": "application/json"}, data="{oops"), 422, {"(body)"}),
    ]
    for resp, status, fields in cases:
        assert resp.status_code == status, resp.json
        assert {e["field"] for e in resp.json["errors"]} == fields
    assert client.post(f"{url}/snooze", headers=h, json={}).json["error"] == "not_found"
    assert client.get("/api/v1/alerts/424242", headers=h).status_code == 404
    missing = client.get("/api/v1/no-such-thing", headers=h)
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    wrong = client.delete(f"{url}", headers=h)
    assert wrong.status_code == 405 and wrong.is_json


def test_silences_are_bounded_owned_and_audited(client, tokens, alerts, container) -> None:  # type: ignore[no-untyped-def]
    h = tokens["analyst"]
    bad = client.post("/api/v1/alert-silences", headers=h, json={"rule_id": "no-such-rule", "reason": "x",
                                                               "duration": "31d"})
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]} == {"rule_id", "expires_at"}
    assert client.post("/api/v1/alert-silences", headers=h, json={"reason": "x", "duration": "2 hours"}).status_code == 422
    made = client.post("/api/v1/alert-silences", headers=h, json={"rule_id": "api-burst", "group_key": PHONES[2],
                                                                "reason": "已与运营商确认，停机处理中", "duration": "2h"})
    assert made.status_code == 201 and made.json["owner"] == "analyst@example.cn"
    assert [s["id"] for s in client.get("/api/v1/alert-silences", headers=tokens["regulator"]).json["items"]] == [made.json["id"]]
    assert client.post("/api/v1/alert-silences", headers=tokens["regulator"], json={
        "rule_id": "api-burst", "reason": "x", "duration": "1h"}).status_code == 403
    lifted = client.delete(f"/api/v1/alert-silences/{made.json['id']}", headers=h)
    assert lifted.json["revoked_by"] == "analyst@example.cn"
    assert client.delete(f"/api/v1/alert-silences/{made.json['id']}", headers=h).status_code == 409
    assert audit_actions(container, "alert_silence") == ["alert.silence", "alert.silence_lift"]


def test_subscriptions_and_webhooks_are_each_users_own(client, tokens, alerts) -> None:  # type: ignore[no-untyped-def]
    h = tokens["analyst"]
    hook = client.post("/api/v1/alert-webhooks", headers=h, json={"name": "值班群", "url": "https://hooks.example.cn/tw"})
    assert hook.status_code == 201 and len(hook.json["secret"]) == 64
    assert "secret" not in client.get("/api/v1/alert-webhooks", headers=h).json["items"][0]  # shown once
    assert client.post("/api/v1/alert-webhooks", headers=h, json={"name": "x", "url": "ftp://x/y"}).status_code == 422
    sub = client.post("/api/v1/alert-subscriptions", headers=h, json={
        "channel": "webhook", "endpoint_id": hook.json["id"], "min_severity": "high", "rule_groups": ["test"]})
    assert sub.status_code == 201
    stolen = client.post("/api/v1/alert-subscriptions", headers=tokens["regulator"], json={
        "channel": "webhook", "endpoint_id": hook.json["id"]})
    assert stolen.status_code == 422 and stolen.json["errors"][0]["field"] == "endpoint_id"
    assert client.get("/api/v1/alert-subscriptions", headers=tokens["regulator"]).json["items"] == []
    assert client.post("/api/v1/alert-subscriptions", headers=tokens["a"], json={"channel": "email"}).status_code == 403
    rotated = client.post(f"/api/v1/alert-webhooks/{hook.json['id']}/rotate", headers=h).json
    assert rotated["secret"] != hook.json["secret"] and rotated["secret_version"] == 2


def test_run_records_and_rules_are_listed(client, tokens, alerts) -> None:  # type: ignore[no-untyped-def]
    runs = client.get("/api/v1/alert-runs?rule_id=api-burst", headers=tokens["regulator"]).json["items"]
    assert [(r["rule_id"], r["matches"], r["opened"], r["error"]) for r in runs] == [("api-burst", 3, 3, None)]
    rules = client.get("/api/v1/alert-rules", headers=tokens["analyst"]).json
    assert [r["id"] for r in rules["items"]] == ["api-burst"] and rules["errors"] == []
