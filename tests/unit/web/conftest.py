"""The web app over a copy of the registry test world (SQLite, embedded bus and search)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, session
from flask.testing import FlaskClient

from tierwatch.registry import accounts
from tierwatch.registry.models import User
from tests.unit.registry.factories import PASSWORD, _template, container, world  # noqa: F401


@pytest.fixture
def app(container):  # noqa: F811
    from tierwatch.web import create_app

    return create_app({"TESTING": True}, container)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(container, world):  # noqa: F811
    """A bearer header per world user: admin, regulator, analyst, a, b, partner."""
    out = {}
    with container.uow() as uow:
        for key in ("admin", "regulator", "analyst", "a", "b", "partner"):
            user = uow.session.get(User, getattr(world, key).user_id)
            out[key] = {"Authorization": f"Bearer {accounts.issue_token(uow, user)[1]}"}
        uow.commit()
    return out


def csrf_token(client: FlaskClient, path: str = "/account/signin") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'type="hidden" name="csrf_token" value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **kw: Any) -> Any:
    """Through the real sign-in form (argon2, CSRF token)."""
    return client.post("/account/signin", data={"csrf_token": csrf_token(client), "email": email,
                                                 "password": password}, **kw)


def session_of(app: Flask, container: Any, user_id: int) -> dict[str, Any]:
    """The session a sign-in would give ``user_id``, without the argon2 cost (for tables of
    requests: the sign-in itself is tested through the form)."""
    from tierwatch.web.auth import login_user

    with app.test_request_context("/"):
        with container.uow() as uow:
            login_user(uow.session.get(User, user_id))
        return dict(session)
