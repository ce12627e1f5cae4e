from __future__ import annotations

import sqlalchemy as sa

from tierwatch.registry.events import SignupRequested
from tierwatch.registry.models import Application, AuditEntry, Company, User
from tests.unit.registry.factories import BAIDU, PASSWORD, full_fields


def _count(container, model):
    with container.uow() as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(model))


def _file(client, headers, **fields):
    resp = client.post("/api/v1/applications", json=full_fields(**fields), headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def test_filing_walk_through_the_api(client, tokens):
    app_id = _file(client, tokens["a"])
    assert client.post(f"/api/v1/applications/{app_id}/submit", headers=tokens["a"]).json["status"] == "submitted"
    assert client.post(f"/api/v1/applications/{app_id}/start-review", headers=tokens["regulator"]).status_code == 200
    resp = client.post(f"/api/v1/applications/{app_id}/return", json={}, headers=tokens["regulator"])
    assert resp.status_code == 422 and resp.json["errors"][0]["field"] == "reason"
    resp = client.post(f"/api/v1/applications/{app_id}/approve", headers=tokens["regulator"])
    assert resp.json["status"] == "approved" and resp.json["filing_number"].startswith("粤AI备-")

    resp = client.post(f"/api/v1/applications/{app_id}/amend", json={"change_note": "增加语音功能"}, headers=tokens["a"])
    assert resp.status_code == 201 and resp.json["latest_version"]["number"] == 2
    resp = client.patch(f"/api/v1/applications/{app_id}", json={"capabilities": ["text_generation", "voice_cloning"]},
                        headers=tokens["a"])
    assert resp.json["latest_version"]["fields"]["capabilities"] == ["text_generation", "voice_cloning"]
    assert resp.json["effective_version_number"] == 1
    old = client.get(f"/api/v1/applications/{app_id}/versions/1", headers=tokens["a"]).json
    assert old["fields"]["capabilities"] == ["text_generation"]
    trail = client.get(f"/api/v1/applications/{app_id}/audit", headers=tokens["a"]).json["items"]
    assert [e["action"] for e in trail][:2] == ["application.update", "application.amend"]
    assert client.get("/api/v1/audit/verify", headers=tokens["regulator"]).json["ok"] is True


def test_company_cannot_read_or_change_another_companys_application(client, tokens):
    app_id = _file(client, tokens["a"])
    for method, path, body in (
        ("get", f"/api/v1/applications/{app_id}", None),
        ("patch", f"/api/v1/applications/{app_id}", {"name": "劫持"}),
        ("post", f"/api/v1/applications/{app_id}/submit", None),
        ("post", f"/api/v1/applications/{app_id}/amend", {"change_note": "xx"}),
        ("get", f"/api/v1/applications/{app_id}/versions/1", None),
        ("get", f"/api/v1/applications/{app_id}/audit", None),
    ):
        resp = getattr(client, method)(path, json=body, headers=tokens["b"])
        assert resp.status_code == 404, (method, path, resp.status_code)
    assert client.get("/api/v1/applications", headers=tokens["b"]).json["total"] == 0
    assert client.get("/api/v1/applications", headers=tokens["regulator"]).json["total"] == 1
    assert client.get(f"/api/v1/applications/{app_id}", headers=tokens["a"]).json["name"] == "粤智客服助手"


def test_unknown_codes_give_field_errors_and_store_nothing(client, tokens, container):
    before = _count(container, Application), _count(container, AuditEntry)
    resp = client.post("/api/v1/applications", headers=tokens["a"], json=full_fields(
        domain="astrology", capabilities=["text_generation", "mind_reading"], monthly_active_users=-5,
        colour="blue"))
    assert resp.status_code == 422
    fields = {e["field"]: e["message"] for e in resp.json["errors"]}
    assert set(fields) == {"domain", "capabilities", "monthly_active_users", "colour"}
    assert "unknown code 'mind_reading'" in fields["capabilities"]
    assert fields["colour"] == "unknown field"
    assert (_count(container, Application), _count(container, AuditEntry)) == before


def test_invalid_self_registration_is_refused_whole(client, container):
    before = _count(container, Company), _count(container, User)
    resp = client.post("/api/v1/auth/register", json={
        "company": {"name": "广州某某科技有限公司", "credit_code": "91440101MA59UC1B0X"},
        "user": {"email": "not-an-email", "name": "张三", "password": "short"}})
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.json["errors"]}
    assert fields == {"company.credit_code", "user.email", "user.password"}
    assert "check digit" in next(e["message"] for e in resp.json["errors"] if e["field"] == "company.credit_code")
    assert (_count(container, Company), _count(container, User)) == before


def test_self_registration_then_token_login(client, container):
    sent: list[SignupRequested] = []
    container.handlers[SignupRequested] = (lambda _uow, event: sent.append(event),)
    resp = client.post("/api/v1/auth/register", json={
        "company": {"name": "北京百度网讯科技有限公司", "credit_code": BAIDU, "province": "北京市"},
        "user": {"email": "ops@baidu.example", "name": "李四", "password": PASSWORD}})
    assert resp.status_code == 202, resp.json
    # An address with an account gets the very same answer (nothing tells the two apart).
    known = client.post("/api/v1/auth/register", json={
        "company": {"name": "另一家公司", "credit_code": "91440101MA59UC1B0L"},
        "user": {"email": "a@example.cn", "name": "王五", "password": PASSWORD}})
    assert (known.status_code, known.json) == (resp.status_code, resp.json)
    assert [(m.email, m.token is not None) for m in sent] == [("ops@baidu.example", True), ("a@example.cn", False)]
    assert client.post("/api/v1/auth/register/confirm", json={"token": "guessed"}).status_code == 404
    resp = client.post("/api/v1/auth/register/confirm", json={"token": sent[0].token})
    assert resp.status_code == 201, resp.json
    assert client.post("/api/v1/auth/register/confirm", json={"token": sent[0].token}).status_code == 404  # once
    token = resp.json["token"]["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["role"] == "company" and me["company_id"] == resp.json["company"]["id"]
    # the same credit code cannot register twice
    again = client.post("/api/v1/auth/register", json={
        "company": {"name": "另一家", "credit_code": BAIDU}, "user": {"email": "x@y.cn", "name": "王五", "password": PASSWORD}})
    assert again.status_code == 422 and again.json["errors"][0]["field"] == "company.credit_code"
    wrong = client.post("/api/v1/auth/tokens", json={"email": "ops@baidu.example", "password": "wrong password"})
    assert wrong.status_code == 401
    ok = client.post("/api/v1/auth/tokens", json={"email": "ops@baidu.example", "password": PASSWORD, "name": "ci"})
    assert ok.status_code == 201 and ok.json["token"].startswith("tw_")


def test_auth_is_required_and_roles_checked(client, tokens):
    assert client.get("/api/v1/applications").status_code == 401
    assert client.get("/api/v1/applications", headers={"Authorization": "Bearer tw_forged"}).status_code == 401
    assert client.get("/api/v1/audit", headers=tokens["a"]).status_code == 403
    app_id = _file(client, tokens["a"])
    client.post(f"/api/v1/applications/{app_id}/submit", headers=tokens["a"])
    resp = client.post(f"/api/v1/applications/{app_id}/start-review", headers=tokens["a"])
    assert resp.status_code == 403
    resp = client.post(f"/api/v1/applications/{app_id}/approve", headers=tokens["regulator"])
    assert resp.status_code == 409  # not under review yet
    assert client.post("/api/v1/applications", json=full_fields(), headers=tokens["analyst"]).status_code == 403


def test_revoked_token_stops_working(client, tokens):
    mine = client.get("/api/v1/auth/tokens", headers=tokens["a"]).json["items"]
    assert len(mine) == 1 and "token" not in mine[0]
    assert client.delete(f"/api/v1/auth/tokens/{mine[0]['id']}", headers=tokens["a"]).status_code == 200
    assert client.get("/api/v1/me", headers=tokens["a"]).status_code == 401


def test_session_cookie_does_not_authenticate_the_api(client, container, world):
    from tierwatch.web.auth import login_user

    app = client.application
    with app.test_request_context("/"):
        from flask import session

        with container.uow() as uow:
            login_user(uow.session.get(User, world.a.user_id))
        cookie_session = dict(session)
    with client.session_transaction() as sess:
        sess.update(cookie_session)
    assert client.get("/api/v1/me").status_code == 401


def test_only_an_unsubmitted_draft_can_be_deleted(client, tokens, container):
    draft = _file(client, tokens["a"])
    submitted = _file(client, tokens["a"], name="已提交")
    client.post(f"/api/v1/applications/{submitted}/submit", headers=tokens["a"])
    assert client.delete(f"/api/v1/applications/{draft}", headers=tokens["b"]).status_code == 404
    assert client.delete(f"/api/v1/applications/{submitted}", headers=tokens["a"]).status_code == 409
    assert client.delete(f"/api/v1/applications/{draft}", headers=tokens["a"]).status_code == 204
    assert client.get(f"/api/v1/applications/{draft}", headers=tokens["a"]).status_code == 404
    with container.uow() as uow:
        from tierwatch.registry import audit

        assert audit.list_entries(uow, entity="application", entity_id=draft)[0].action == "application.delete"
        assert audit.verify_chain(uow).ok
