"""API tokens: they expire, minting one needs the password (or an administrator), revoking a
token revokes what it minted, and a token's scope limits what it may do."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.unit.registry.factories import PASSWORD
from tierwatch.core.clock import utcnow
from tierwatch.registry.models import ApiToken, SecurityEvent


def _mint(client, headers=None, **body):
    return client.post("/api/v1/auth/tokens", json=body, headers=headers or {})


def test_tokens_expire_by_default_and_at_most_in_a_year(client):
    made = _mint(client, email="a@example.cn", password=PASSWORD)
    assert made.status_code == 201
    expires = made.json["expires_at"]
    assert expires is not None
    from datetime import datetime

    left = datetime.fromisoformat(expires) - utcnow()
    assert timedelta(days=89) < left <= timedelta(days=90)
    too_long = _mint(client, email="a@example.cn", password=PASSWORD, days=3650)
    assert too_long.status_code == 422 and too_long.json["errors"][0]["field"] == "days"


def test_a_token_cannot_mint_a_token_without_the_password(client, tokens):
    refused = _mint(client, tokens["a"], name="child", days=365)
    assert refused.status_code == 403 and "password" in refused.json["message"]
    with_password = _mint(client, tokens["a"], email="a@example.cn", password=PASSWORD, name="ok")
    assert with_password.status_code == 201 and with_password.json["parent_id"] is None
    wrong = _mint(client, email="a@example.cn", password="wrong password!!")
    assert wrong.status_code == 401


def test_revoking_a_token_revokes_what_it_minted_down_the_line(client, tokens, container):
    child = _mint(client, tokens["admin"], name="child")
    assert child.status_code == 201
    child_header = {"Authorization": f"Bearer {child.json['token']}"}
    grandchild = _mint(client, child_header, name="grandchild")
    assert grandchild.json["parent_id"] == child.json["id"]
    grandchild_header = {"Authorization": f"Bearer {grandchild.json['token']}"}
    assert client.get("/api/v1/me", headers=grandchild_header).status_code == 200
    mine = client.get("/api/v1/auth/tokens", headers=tokens["admin"]).json["items"]
    parent_id = child.json["parent_id"]
    assert parent_id in {t["id"] for t in mine}
    assert client.delete(f"/api/v1/auth/tokens/{parent_id}", headers=child_header).status_code == 200
    for header in (tokens["admin"], child_header, grandchild_header):
        assert client.get("/api/v1/me", headers=header).status_code == 401
    with container.uow() as uow:
        revoked = uow.session.scalars(sa.select(ApiToken.revoked_at).where(
            ApiToken.id.in_([parent_id, child.json["id"], grandchild.json["id"]]))).all()
    assert len(revoked) == 3 and all(revoked)


def test_a_read_token_only_reads_and_a_report_token_only_reports(client):
    read = _mint(client, email="a@example.cn", password=PASSWORD, scope="read").json["token"]
    report = _mint(client, email="a@example.cn", password=PASSWORD, scope="report").json["token"]
    as_read = {"Authorization": f"Bearer {read}"}
    as_report = {"Authorization": f"Bearer {report}"}
    assert client.get("/api/v1/applications", headers=as_read).status_code == 200
    filed = client.post("/api/v1/applications", json={"name": "只读"}, headers=as_read)
    assert filed.status_code == 403 and "read" in filed.json["message"]
    assert client.get("/api/v1/applications", headers=as_report).status_code == 403
    incident = {"app_name": "某智能客服", "occurred_at": "2026-03-01T08:00:00+08:00", "incident_type": "data_leak",
                "severity": "high", "affected_users": 10, "description": "对话记录被泄露"}
    sent = client.post("/api/v1/reports/incident", json=incident, headers=as_report)
    assert sent.status_code in (202, 503)  # allowed through; the embedded bus accepts it


def test_failed_sign_ins_and_refusals_are_in_the_security_log(client, tokens, container):
    for _ in range(3):
        _mint(client, email="a@example.cn", password="not the password")
    client.get("/api/v1/audit", headers=tokens["a"])  # a company user: 403
    client.get("/api/v1/me", headers={"Authorization": "Bearer tw_forged"})
    with container.uow() as uow:
        rows = uow.session.execute(sa.select(SecurityEvent.kind, SecurityEvent.actor, SecurityEvent.count)).all()
    counts = {}
    for kind, actor, count in rows:
        counts[kind] = counts.get(kind, 0) + count
        assert "@" not in actor  # the e-mail tried is kept only as a keyed hash
    assert counts == {"signin_failed": 3, "forbidden": 1, "bad_token": 1}
