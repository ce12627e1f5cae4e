from __future__ import annotations

import pytest

from tierwatch.antifraud.models import AnalystLabel
from tierwatch.core.clock import utcnow
from tierwatch.monitoring.models import Report


@pytest.fixture
def report_id(container) -> str:  # type: ignore[no-untyped-def]
    now = utcnow()
    with container.uow() as uow:
        uow.session.add(Report(
            report_id="r-label-1", tracking_code="TW-LABEL00001", kind="scam", schema_version=1,
            description="冒充客服要求转账到安全账户", reported_at=now, received_at=now,
        ))
        uow.commit()
    return "r-label-1"


def test_analyst_verdict_is_stored_as_label_with_caller_as_analyst(client, tokens, container, report_id):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/labels", headers=tokens["analyst"], json={
        "report_id": report_id, "is_scam": True, "scam_type": "fake_customer_service",
        "analyst": "someone-else", "note": "典型冒充客服",
    })
    assert resp.status_code == 201, resp.json
    with container.uow() as uow:
        label = uow.session.get(AnalystLabel, resp.json["id"])
        assert label.is_scam is True
        assert label.scam_type == "fake_customer_service"
        assert label.analyst != "someone-else"
    listed = client.get(f"/api/v1/labels?report_id={report_id}", headers=tokens["analyst"]).json
    assert [item["id"] for item in listed["items"]] == [resp.json["id"]]


def test_company_user_cannot_label(client, tokens, report_id):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/labels", headers=tokens["a"], json={"report_id": report_id, "is_scam": False})
    assert resp.status_code == 403


def test_unknown_report_is_404_and_nothing_stored(client, tokens, container):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/labels", headers=tokens["analyst"], json={"report_id": "nope", "is_scam": True})
    assert resp.status_code == 404
    with container.uow() as uow:
        assert uow.session.query(AnalystLabel).count() == 0


def test_unknown_scam_type_is_422_with_field(client, tokens, report_id):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/labels", headers=tokens["analyst"], json={
        "report_id": report_id, "is_scam": True, "scam_type": "space_pirates"})
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json["errors"]] == ["scam_type"]


def test_an_analyst_labels_a_report_by_the_tracking_code_pages_show(client, tokens, container, report_id):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/labels", headers=tokens["analyst"], json={
        "tracking_code": "TW-LABEL00001", "is_scam": False, "note": "正常客服来电"})
    assert resp.status_code == 201, resp.json
    assert resp.json["report_id"] == report_id and resp.json["analyst"] == "analyst@example.cn"
    with container.uow() as uow:
        assert uow.session.get(AnalystLabel, resp.json["id"]).report_id == report_id


@pytest.mark.parametrize("verdict", ["yes", "true", 1, "1", None])
def test_is_scam_must_be_a_json_boolean_as_in_intake(client, tokens, container, report_id, verdict):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/labels", headers=tokens["analyst"], json={"report_id": report_id, "is_scam": verdict})
    assert resp.status_code == 422 and [e["field"] for e in resp.json["errors"]] == ["is_scam"]
    with container.uow() as uow:
        assert uow.session.query(AnalystLabel).count() == 0


@pytest.mark.parametrize("reference", [{}, {"report_id": "r-label-1", "tracking_code": "TW-LABEL00001"},
                                       {"tracking_code": "TW-label00001"}])
def test_exactly_one_well_formed_reference_names_the_report(client, tokens, report_id, reference):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/labels", headers=tokens["analyst"], json={**reference, "is_scam": True})
    assert resp.status_code == 422 and [e["field"] for e in resp.json["errors"]] == ["tracking_code"]


def test_an_unknown_tracking_code_is_404(client, tokens, report_id):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/labels", headers=tokens["analyst"], json={"tracking_code": "TW-2222222222", "is_scam": True})
    assert resp.status_code == 404
