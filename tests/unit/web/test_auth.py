from __future__ import annotations

import pytest

from tierwatch.registry.models import User
from tierwatch.web.auth import current_user, login_user, logout_user, request_uow, require_role


@pytest.fixture
def client(container):
    from tierwatch.web import create_app

    app = create_app({"TESTING": True}, container)

    @app.post("/test-login/<int:user_id>")
    def _login(user_id: int):
        login_user(request_uow().session.get(User, user_id))
        return "ok"

    @app.post("/test-logout")
    def _logout():
        logout_user()
        return "ok"

    @app.get("/test-regulator-page")
    @require_role("regulator", "admin")
    def _page():
        return current_user().email

    return app.test_client()


def test_session_login_guards_pages_by_role(client, world):
    assert client.get("/test-regulator-page").status_code == 401
    client.post(f"/test-login/{world.a.user_id}")
    assert client.get("/test-regulator-page").status_code == 403
    client.post(f"/test-login/{world.regulator.user_id}")
    page = client.get("/test-regulator-page")
    assert page.status_code == 200 and page.get_data(as_text=True) == "regulator@example.cn"
    client.post("/test-logout")
    assert client.get("/test-regulator-page").status_code == 401
