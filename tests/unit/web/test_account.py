"""Signing in and out, and changing one's password, on the registry's accounts (argon2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tierwatch.registry import accounts
from tierwatch.registry.models import AuditEntry, User
from tierwatch.registry.security_log import recent
from tests.unit.registry.factories import PASSWORD
from tests.unit.web.conftest import csrf_token, sign_in

NEW_PASSWORD = "lychee season in Zengcheng"


def test_sign_in_leads_each_role_to_its_own_start(app, world):
    for email, start in (("a@example.cn", "/company/"), ("regulator@example.cn", "/regulator/"),
                         ("analyst@example.cn", "/analyst/"), ("admin@example.cn", "/regulator/"),
                         ("partner@example.cn", "/account/")):
        client = app.test_client()
        response = sign_in(client, email)
        assert (response.status_code, response.headers["Location"]) == (303, start), email
        assert client.get(start).status_code == 200


def test_sign_in_returns_to_the_page_asked_for_but_only_on_this_site(client, world):
    to = sign_in(client, "a@example.cn", query_string={"next": "/account/password"})
    assert to.headers["Location"] == "/account/password"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})
        assert sign_in(client, "a@example.cn", query_string={"next": evil}).headers["Location"] == "/"


def test_a_wrong_password_is_401_in_chinese_and_logged_without_the_address(client, container, world):
    response = sign_in(client, "regulator@example.cn", password="not the password")
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and "电子邮箱或密码错误" in html
    assert 'value="regulator@example.cn"' in html  # kept, so only the password is typed again
    assert "not the password" not in html
    with container.uow() as uow:
        [event] = recent(uow.session, datetime.now(UTC) - timedelta(minutes=5), kind="signin_failed")
        assert event.actor.startswith("email:") and "regulator" not in event.actor
    assert client.get("/account/").status_code == 302


def test_an_empty_form_names_the_missing_fields(client):
    response = client.post("/account/signin", data={"csrf_token": csrf_token(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.count("此项必填") >= 2
    assert 'aria-invalid="true"' in html and 'aria-describedby="email-error"' in html


def test_sign_out_ends_the_session(client, world):
    sign_in(client, "analyst@example.cn")
    response = client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert "您已退出登录" in client.get("/").get_data(as_text=True)
    assert client.get("/analyst/").status_code == 302


def _change(client, current, new, again=None):
    return client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account/password"), "current_password": current,
        "new_password": new, "new_password_again": new if again is None else again})


def test_changing_the_password_checks_the_current_one_and_the_rules(client, container, world):
    sign_in(client, "regulator@example.cn")
    wrong = _change(client, "not my password", NEW_PASSWORD)
    assert wrong.status_code == 422 and "这不是您的当前密码" in wrong.get_data(as_text=True)
    weak = _change(client, PASSWORD, "password1234")
    assert weak.status_code == 422 and "已泄露密码" in weak.get_data(as_text=True)
    short = _change(client, PASSWORD, "短密码")
    assert "请至少使用 12 个字符" in short.get_data(as_text=True)
    mine = _change(client, PASSWORD, "regulator@example.cn")
    assert "不要使用您的电子邮箱或姓名" in mine.get_data(as_text=True)
    typo = _change(client, PASSWORD, NEW_PASSWORD, again=NEW_PASSWORD + "!")
    assert "两次输入的新密码不一致" in typo.get_data(as_text=True)
    with container.uow() as uow:
        assert accounts.authenticate(uow, "regulator@example.cn", PASSWORD) is not None  # unchanged
        [event] = recent(uow.session, datetime.now(UTC) - timedelta(minutes=5), kind="password_change_failed")
        assert event.count == 1


def test_a_changed_password_ends_every_other_session(app, container, world):
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, "regulator@example.cn")
    sign_in(elsewhere, "regulator@example.cn")
    stolen = elsewhere.get_cookie("__Host-tw_session").value
    response = _change(here, PASSWORD, NEW_PASSWORD)
    assert (response.status_code, response.headers["Location"]) == (303, "/account/")
    assert "密码已修改" in here.get("/account/").get_data(as_text=True)  # this session goes on
    assert elsewhere.get("/regulator/").status_code == 302  # the other one is over
    thief = app.test_client()
    thief.set_cookie("__Host-tw_session", stolen)
    assert thief.get("/regulator/").status_code == 302  # and so is a copied cookie
    with container.uow() as uow:
        assert accounts.authenticate(uow, "regulator@example.cn", PASSWORD) is None
        assert accounts.authenticate(uow, "regulator@example.cn", NEW_PASSWORD) is not None
        user = uow.session.get(User, world.regulator.user_id)
        entry = uow.session.query(AuditEntry).filter_by(action="user.password_change").one()
        assert entry.entity_id == str(user.id) and NEW_PASSWORD not in str(entry.changes)


def test_the_account_page_says_who_you_are_and_what_you_may_do(client, world):
    sign_in(client, "a@example.cn")
    html = client.get("/account/").get_data(as_text=True)
    assert "企业用户" in html and "深圳市腾讯计算机系统有限公司" in html and "办理备案" in html
    assert "年" in html and "月" in html  # the creation date, as a date in Chinese
