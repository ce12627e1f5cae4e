"""Headers and CSP, cookies, session fixation, CSRF, rate limits."""

from __future__ import annotations

import re

import pytest

from tierwatch.bootstrap import build
from tierwatch.core.settings import load_settings
from tierwatch.web import create_app
from tests.unit.registry.factories import PASSWORD
from tests.unit.web.conftest import csrf_token, sign_in

PAGES = ["/", "/report", "/account/signin", "/api/v1/docs"]


@pytest.mark.parametrize("path", [*PAGES, "/api/v1/openapi.json", "/api/v1/nowhere", "/no/such/page"])
def test_every_response_carries_the_csp_and_hardening_headers(client, path):
    headers = client.get(path).headers
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"  # no 'unsafe-inline'
    assert csp["img-src"] == "'self' data:" and csp["font-src"] == "'self'" and csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'self'" and csp["base-uri"] == "'none'"
    assert "http" not in headers["Content-Security-Policy"]  # no other origin, anywhere
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_hsts_over_https_and_static_files_may_be_cached(client):
    assert client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"] == "max-age=31536000"
    response = client.get("/static/site.css")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_pages_have_no_inline_script_or_style_and_nothing_from_elsewhere(app, client, container, world):
    from tests.unit.web.conftest import session_of

    pages = list(PAGES)
    with client.session_transaction() as sess:
        sess.update(session_of(app, container, world.admin.user_id))
    pages += ["/regulator/", "/analyst/", "/account/", "/account/password"]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, path
        assert "<style" not in html and " style=" not in html, path
        assert re.search(r"\son[a-z]+=", html) is None, path  # no onclick= and the like
        assert re.search(r"""(src|href)=["']?(https?:)?//""", html) is None, path  # nothing from another host


def test_the_session_cookie_is_host_only_secure_httponly_lax(client, world):
    cookie = sign_in(client, "regulator@example.cn").headers["Set-Cookie"]
    assert cookie.startswith("__Host-tw_session=")
    for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in cookie
    assert "Domain=" not in cookie


def test_secure_cookies_can_be_turned_off_for_a_plain_http_run(container, tmp_path):
    settings = load_settings(data_dir=tmp_path, database_url=container.settings.database_url,
                             secret_key="k" * 32, secure_cookies=False)
    client = create_app({"TESTING": True}, build(settings)).test_client()
    cookie = sign_in(client, "regulator@example.cn").headers["Set-Cookie"]
    assert cookie.startswith("tw_session=") and "Secure" not in cookie and "HttpOnly" in cookie
    assert "Secure" not in client.get("/lang/en").headers["Set-Cookie"]


def test_signing_in_starts_a_fresh_session(client, world):
    before = csrf_token(client)
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker before sign-in"
    assert sign_in(client, "regulator@example.cn").status_code == 303
    with client.session_transaction() as sess:
        assert "planted" not in sess
    assert csrf_token(client, "/account/password") != before
    # The pre-sign-in form token no longer works.
    assert client.post("/account/signout", data={"csrf_token": before}).status_code == 400


def test_every_form_needs_its_csrf_token(client, world):
    refused = client.post("/account/signin", data={"email": "regulator@example.cn", "password": PASSWORD})
    assert refused.status_code == 400 and "表单已过期" in refused.get_data(as_text=True)
    sign_in(client, "regulator@example.cn")
    assert client.post("/account/signout").status_code == 400
    assert client.get("/account/").status_code == 200  # still signed in


def test_the_api_needs_no_csrf_token(client, tokens):
    assert client.post("/api/v1/reports/scam", json={}).status_code == 422  # not 400


def test_sign_in_is_rate_limited_per_address(container, world):
    client = create_app({"TESTING": True, "SIGNIN_LIMIT": "3 per minute"}, container).test_client()
    statuses = [sign_in(client, "regulator@example.cn", password="wrong password!").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    last = sign_in(client, "regulator@example.cn")  # the right password does not get through either
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
    assert "尝试次数过多" in last.get_data(as_text=True)
    other = client.post("/account/signin", environ_base={"REMOTE_ADDR": "10.0.0.9"},
                        data={"csrf_token": csrf_token(client), "email": "regulator@example.cn", "password": PASSWORD})
    assert other.status_code == 303  # another address has its own budget


def test_public_forms_are_limited_for_visitors_with_a_json_429_on_the_api(container, tokens):
    client = create_app({"TESTING": True, "PUBLIC_FORM_LIMIT": "2 per minute"}, container).test_client()
    assert [client.post("/api/v1/reports/scam", json={}).status_code for _ in range(3)] == [422, 422, 429]
    refused = client.post("/api/v1/reports/scam", json={})
    assert refused.get_json()["error"] == "too_many_requests" and "Retry-After" in refused.headers
    # A signed-in partner feed is accountable by its account and not limited per address.
    assert [client.post("/api/v1/reports/scam", json={}, headers=tokens["partner"]).status_code
            for _ in range(3)] == [422, 422, 422]


def test_anonymous_reports_that_are_accepted_count_against_the_limit_per_address(container):
    client = create_app({"TESTING": True, "PUBLIC_FORM_LIMIT": "2 per minute"}, container).test_client()
    body = {"description": "冒充客服说要注销百万保障，让我共享屏幕", "channel": "phone"}
    here, there = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}
    statuses = [client.post("/api/v1/reports/scam", json=body, environ_base=here).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]  # valid reports spend the budget as much as invalid ones
    assert client.post("/api/v1/reports/scam", json=body, environ_base=there).status_code == 202


def test_each_app_has_its_own_limiter(container):
    unlimited = create_app({"TESTING": True, "RATELIMIT_ENABLED": False}, container)
    limited = create_app({"TESTING": True, "PUBLIC_FORM_LIMIT": "1 per minute"}, container)
    assert unlimited.extensions["tierwatch_limiter"] is not limited.extensions["tierwatch_limiter"]
    client = limited.test_client()
    assert [client.post("/api/v1/reports/scam", json={}).status_code for _ in range(2)] == [422, 429]
