from __future__ import annotations

from datetime import UTC, datetime

from tierwatch.registry import supervision
from tierwatch.registry.supervision import Duty, TierDuties
from tests.unit.registry.factories import full_fields


def _approved(client, tokens):
    app_id = client.post("/api/v1/applications", json=full_fields(), headers=tokens["a"]).json["id"]
    client.post(f"/api/v1/applications/{app_id}/submit", headers=tokens["a"])
    client.post(f"/api/v1/applications/{app_id}/start-review", headers=tokens["regulator"])
    client.post(f"/api/v1/applications/{app_id}/approve", headers=tokens["regulator"])
    return app_id


def test_tasks_per_company_and_for_the_regulator(client, tokens, container):
    app_id = _approved(client, tokens)
    client.post(f"/api/v1/applications/{app_id}/amend", json={"change_note": "换用新模型", "changed_on": "2024-02-02"},
                headers=tokens["a"])
    duties = [TierDuties("cn-gd", "high", (Duty("self_assessment", every="P3M"),))]
    with container.uow() as uow:
        supervision.generate_due_tasks(uow, datetime(2026, 8, 1, tzinfo=UTC), lambda _u, _a: duties)
        uow.commit()

    mine = client.get("/api/v1/tasks", headers=tokens["a"]).json["items"]
    assert [(t["kind"], t["due_on"]) for t in mine] == [("change_filing", "2024-02-21"),
                                                      ("self_assessment", "2026-09-30")]
    assert client.get("/api/v1/tasks", headers=tokens["b"]).json["items"] == []
    assert len(client.get(f"/api/v1/tasks?application_id={app_id}", headers=tokens["regulator"]).json["items"]) == 2
    bad = client.get("/api/v1/tasks?status=late", headers=tokens["regulator"])
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "status"

    task_id = mine[1]["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/complete", json={"note": "x"}, headers=tokens["b"]).status_code == 404
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"note": "已提交季度自评估报告"}, headers=tokens["a"])
    assert done.status_code == 200 and done.json["status"] == "done"
    again = client.post(f"/api/v1/tasks/{task_id}/complete", json={}, headers=tokens["a"])
    assert again.status_code == 409
