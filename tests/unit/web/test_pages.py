"""The layout, the macros and the portals' landing pages, on real data."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string

from tierwatch.registry import service
from tierwatch.registry.schemas import CreateApplicationIn
from tierwatch.web.pagination import Page
from tests.unit.registry.factories import full_fields
from tests.unit.web.conftest import session_of


def _as(client, app, container, user_id) -> None:
    with client.session_transaction() as sess:
        sess.update(session_of(app, container, user_id))


def _file(container, actor, n: int, prefix: str) -> None:
    with container.uow() as uow:
        for i in range(n):
            service.create_application(uow, actor, CreateApplicationIn(**full_fields(name=f"{prefix}{i:02d}")))
        uow.commit()


def test_the_home_page_leads_to_every_public_page_and_works_on_a_phone(client):
    html = client.get("/").get_data(as_text=True)
    for path in ("/report", "/check", "/registry", "/trends", "/tips"):
        assert f'href="{path}"' in html
        assert client.get(path).status_code == 200
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    assert 'aria-current="page"' in html and "96110" in html


def test_the_menu_shows_only_what_the_user_may_open(app, client, container, world):
    assert "/company/" not in client.get("/").get_data(as_text=True)
    _as(client, app, container, world.a.user_id)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/company/"' in html and 'href="/regulator/"' not in html and 'href="/account/"' in html
    _as(client, app, container, world.admin.user_id)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/regulator/"' in html and 'href="/analyst/"' in html and 'href="/company/"' not in html


def test_a_company_sees_its_own_applications_a_page_at_a_time(app, client, container, world):
    _file(container, world.a, 23, "甲应用")
    _file(container, world.b, 2, "乙应用")
    _as(client, app, container, world.a.user_id)
    first = client.get("/company/").get_data(as_text=True)
    assert "本企业的 AI 应用（23 个）" in first and "乙应用" not in first
    assert first.count("<tr>") == 21  # header + 20
    assert "第 1 页，共 2 页" in first and 'href="/company/?page=2"' in first and 'rel="prev"' not in first
    second = client.get("/company/?page=2").get_data(as_text=True)
    assert second.count("<tr>") == 4 and 'href="/company/?page=1"' in second
    assert set(re.findall(r"甲应用\d\d", first + second)) == {f"甲应用{i:02d}" for i in range(23)}
    assert "草稿" in first  # the status, in words
    for odd in ("0", "-1", "abc", "²", "9" * 40):
        assert client.get("/company/", query_string={"page": odd}).status_code == 200
    _as(client, app, container, world.b.user_id)
    html = client.get("/company/").get_data(as_text=True)
    assert "本企业的 AI 应用（2 个）" in html and "甲应用" not in html


def test_the_regulator_console_charts_filings_by_status_with_the_numbers(app, client, container, world):
    _file(container, world.a, 3, "待审")
    with container.uow() as uow:
        service.transition(uow, world.a, service.list_applications(uow, world.a, limit=1)[0][0].id, "submit")
        uow.commit()
    _as(client, app, container, world.regulator.user_id)
    html = client.get("/regulator/").get_data(as_text=True)
    assert "登记库中共有 3 个应用。" in html
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="各状态的应用数量：具体数字见下表。">', html)
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', html))
    assert rows["草稿"] == "2" and rows["已提交"] == "1" and rows["已通过"] == "0"


def test_error_pages_are_pages_in_the_visitors_language(client):
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    wrong_method = client.post("/")
    assert wrong_method.status_code in (400, 405)  # the CSRF check answers first


def test_the_field_macro_wires_label_hint_and_error_for_screen_readers(app):
    from tierwatch.web.forms import PasswordChangeForm

    with app.test_request_context("/", method="POST", data={"new_password": "x"}):
        form = PasswordChangeForm(meta={"csrf": False})
        form.validate()
        form.pin_errors([{"field": "new_password", "message": "太短"}])
        html = render_template_string('{% from "macros/forms.html" import field, error_summary %}'
                                      "{{ error_summary(form) }}{{ field(form.new_password) }}", form=form)
    assert '<label for="new_password">新密码</label>' in html
    assert 'aria-describedby="new_password-hint new_password-error"' in html and 'aria-invalid="true"' in html
    assert '<p class="field-error" id="new_password-error">' in html and "太短" in html
    assert 'href="#current_password"' in html and 'role="alert"' in html  # the summary links to each field


def test_pin_errors_finds_the_field_of_a_model_path_and_returns_the_rest(app):
    from tierwatch.web.forms import BaseForm
    from wtforms import StringField

    class Report(BaseForm):
        FIELD_OF = {"identifiers.phones": "phones"}
        phones = StringField()
        description = StringField()

    with app.test_request_context("/"):
        form = Report(meta={"csrf": False})
        left = form.pin_errors([{"field": "identifiers.phones.2", "message": "bad number"},
                                {"field": "description", "message": "required"},
                                {"field": "report_id", "message": "taken"}])
    assert form.phones.errors == ["bad number"] and form.description.errors == ["required"]
    assert left == [{"field": "report_id", "message": "taken"}]


@pytest.mark.parametrize(("total", "number", "pages", "links"), [
    (0, 1, 1, ""), (20, 1, 1, ""), (21, 1, 2, "next"), (45, 2, 3, "prev next"), (45, 3, 3, "prev"),
])
def test_the_pagination_macro(app, total, number, pages, links):
    page = Page(list(range(min(20, total))), number, 20, total)
    assert page.pages == pages
    with app.test_request_context("/"):
        html = render_template_string('{% from "macros/tables.html" import pagination %}'
                                      '{{ pagination(page, "company.home", {"status": "draft"}) }}', page=page)
    assert " ".join(re.findall(r'rel="(prev|next)"', html)) == links
    if links:
        assert f"第 {number} 页，共 {pages} 页" in html and "status=draft" in html
    else:
        assert html.strip() == ""


def test_text_from_users_is_escaped(app):
    with app.test_request_context("/"):
        html = render_template_string('{% from "macros/tables.html" import data_table %}'
                                      '{{ data_table(caption, ["a"], [[cell]]) }}',
                                      caption="<b>x</b>", cell='<img src=x onerror="alert(1)">')
    assert "<img" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
