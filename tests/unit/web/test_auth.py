"""@allow: who may call what, on pages and on the API, and what a refusal looks like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tierwatch.registry.security_log import recent
from tierwatch.web import create_app
from tierwatch.web.auth import ANYONE, SIGNED_IN, allow, require_role
from tests.unit.web.conftest import session_of
from tests.unit.web.test_access_matrix import MATRIX, all_routes


def test_allow_takes_only_known_roles():
    with pytest.raises(ValueError, match="takes roles"):
        allow("regulatr")
    with pytest.raises(ValueError):
        allow()
    view = allow("regulator", "admin")(lambda: "ok")
    assert view.allowed_roles == frozenset({"regulator", "admin"})


def test_require_role_without_roles_means_any_account():
    assert require_role()(lambda: "ok").allowed_roles == frozenset(SIGNED_IN)
    assert require_role("admin")(lambda: "ok").allowed_roles == frozenset({"admin"})


def test_a_new_undeclared_route_is_caught_by_the_matrix(container):
    app = create_app({"TESTING": True}, container)

    @app.get("/forgotten")
    def forgotten() -> str:
        return "no declaration"

    assert all_routes(app) - set(MATRIX) == {("forgotten", "GET")}
    assert getattr(app.view_functions["forgotten"], "allowed_roles", None) is None


def test_a_page_sends_visitors_to_sign_in_and_refuses_other_roles(app, client, container, world):
    response = client.get("/regulator/?tab=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/signin?next=/regulator/?tab%3D1"
    with client.session_transaction() as sess:
        sess.update(session_of(app, container, world.a.user_id))
    refused = client.get("/regulator/")
    assert refused.status_code == 403
    assert "您无权打开此页面" in refused.get_data(as_text=True)
    with container.uow() as uow:
        events = recent(uow.session, datetime.now(UTC) - timedelta(minutes=5), kind="forbidden")
        assert [(e.actor, e.route) for e in events] == [(f"company:{world.a.user_id}", "GET /regulator/")]


def test_the_api_answers_json_401_and_403(client, tokens):
    assert client.get("/api/v1/audit/verify").get_json()["error"] == "unauthorized"
    refused = client.get("/api/v1/audit/verify", headers=tokens["analyst"])
    assert refused.status_code == 403 and refused.get_json() == {
        "error": "forbidden", "message": "needs role regulator or admin"}


def test_the_api_ignores_the_session_cookie(app, client, container, world):
    with client.session_transaction() as sess:
        sess.update(session_of(app, container, world.regulator.user_id))
    assert client.get("/regulator/").status_code == 200
    assert client.get("/api/v1/audit/verify").status_code == 401  # a forged page cannot ride on it


def test_a_deactivated_account_is_signed_out_at_once(app, client, container, world):
    from tierwatch.registry.models import User

    with client.session_transaction() as sess:
        sess.update(session_of(app, container, world.regulator.user_id))
    assert client.get("/regulator/").status_code == 200
    with container.uow() as uow:
        uow.session.get(User, world.regulator.user_id).is_active = False
        uow.commit()
    assert client.get("/regulator/").status_code == 302


def test_anyone_views_need_no_account(client):
    assert ANYONE in client.application.view_functions["public.index"].allowed_roles
    assert client.get("/").status_code == 200
