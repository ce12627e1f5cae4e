"""Journeys through the foundation in Chromium, with a screenshot at each step:
a regulator signs in (in Chinese), switches to English, changes the password, signs out and signs
in again; a citizen visits the home page and the public pages on a phone, with and without
JavaScript; the public pages have no serious accessibility finding (axe-core)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_clean, open_context, serious_accessibility_findings
from tests.unit.registry.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.kafka, pytest.mark.elasticsearch]

NEW_PASSWORD = "Pearl River ferry at dawn"
PUBLIC_PAGES = ["/", "/report", "/check", "/registry", "/trends", "/tips", "/account/signin"]


def test_a_regulator_signs_in_switches_to_english_changes_the_password_and_signs_in_again(visit):
    page = visit.page
    page.goto("/regulator/")
    assert page.url.endswith("/account/signin?next=/regulator/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    visit.shot("sign-in-zh")

    page.get_by_label("电子邮箱").fill("regulator@example.cn")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    assert "电子邮箱或密码错误" in page.get_by_role("alert").inner_text()
    visit.shot("wrong-password")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("heading", level=1).inner_text() == "监管工作台"
    chart = page.locator("figure.chart img")
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")  # the SVG loaded under the CSP
    rows = page.locator("table.data").first.locator("tbody tr")
    assert rows.count() == 8  # one row per workflow status
    assert [rows.nth(i).inner_text().split() for i in (0, 1)] == [["草稿", "2"], ["已提交", "1"]]
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-tw_session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    visit.shot("console-zh")

    page.get_by_role("link", name="English").click()
    assert page.url.endswith("/regulator/") and page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Regulator console"
    visit.shot("console-en")

    page.get_by_role("link", name="My account").first.click()
    page.get_by_role("link", name="Change password").first.click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("New password again").fill("password1234")
    page.get_by_role("button", name="Change password").click()
    assert "leaked" in page.locator("#new_password-error").inner_text()
    assert page.locator("#new_password").get_attribute("aria-invalid") == "true"
    visit.shot("password-refused")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    assert "Your password is changed" in page.get_by_role("status").inner_text()
    visit.shot("password-changed")

    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("status").inner_text() == "You are signed out."
    assert page.locator("html").get_attribute("lang") == "en"  # the language choice outlives the session
    visit.shot("signed-out")

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail").fill("regulator@example.cn")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()  # the old password is over
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Regulator console"
    visit.shot("signed-in-again")
    assert_clean(visit)


def test_a_password_change_signs_out_the_other_browser(browser, live_server, visit):
    other_context, other = open_context(browser, live_server.url, visit.name + "-other")
    try:
        for v in (visit, other):
            v.page.goto("/account/signin")
            v.page.get_by_label("电子邮箱").fill("analyst@example.cn")
            v.page.get_by_label("密码").fill(PASSWORD)
            v.page.get_by_role("button", name="登录").click()
            assert v.page.get_by_role("heading", level=1).inner_text() == "研判工作台"
        visit.page.goto("/account/password")
        visit.page.get_by_label("当前密码").fill(PASSWORD)
        visit.page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
        visit.page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
        visit.page.get_by_role("button", name="修改密码").click()
        assert "密码已修改" in visit.page.get_by_role("status").inner_text()
        other.page.goto("/analyst/")
        assert "/account/signin" in other.page.url
        other.shot("signed-out-elsewhere")
        assert_clean(other)
    finally:
        other_context.close()
    assert_clean(visit)


def test_a_citizen_visits_the_home_page_and_the_public_pages_with_the_keyboard(visit):
    page = visit.page
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "举报和查询 AI 诈骗（广东）"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到主要内容"  # the first stop
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    visit.shot("home")
    findings = {}
    for path in PUBLIC_PAGES:
        page.goto(path)
        findings[path] = serious_accessibility_findings(page)
        if path != "/":
            visit.shot(path.strip("/").replace("/", "-"))
    assert findings == {path: [] for path in PUBLIC_PAGES}
    page.goto("/")
    page.get_by_role("link", name="举报诈骗").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "举报诈骗" and "96110" in page.content()
    assert_clean(visit)


def test_pages_read_well_on_a_desktop_too(browser, live_server, request):
    context, visit = open_context(browser, live_server.url, request.node.name, viewport={"width": 1280, "height": 800})
    try:
        visit.page.goto("/")
        cards = visit.page.locator(".cards .card")
        boxes = [cards.nth(i).bounding_box() for i in range(cards.count())]
        assert len({round(b["y"]) for b in boxes}) < len(boxes)  # side by side, not one column
        visit.shot("home-desktop")
        assert_clean(visit)
    finally:
        context.close()


@pytest.mark.parametrize("visit", [False], indirect=True, ids=["no-js"])
def test_everything_works_without_javascript(visit):
    page = visit.page
    page.goto("/")
    page.get_by_role("link", name="English").click()  # a plain link sets the language
    assert page.get_by_role("heading", level=1).inner_text() == "Report and check AI scams in Guangdong"
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail").fill("a@example.cn")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Company portal"
    visit.shot("company-portal-no-js")
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("status").inner_text() == "You are signed out."
    assert_clean(visit)


def test_the_csp_blocks_inline_style_and_the_harness_notices(visit):
    # Both halves: the browser enforces the header, and assert_clean would catch a page needing it.
    page = visit.page
    page.goto("/")
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.evaluate("""() => { const s = document.createElement('style');
                             s.textContent = 'body { background: rgb(255, 0, 0) }';
                             document.head.appendChild(s); }""")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == before
    assert any("Content Security Policy" in e for e in visit.console_errors)


def test_the_api_page_renders_openapi_31_from_installed_files(browser, live_server, request):
    # A developer tool (Swagger UI's own markup): outside the public pages' accessibility gate.
    context, visit = open_context(browser, live_server.url, request.node.name, viewport={"width": 1280, "height": 800})
    try:
        page = visit.page
        page.goto("/api/v1/docs")
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(timeout=30_000)
        assert "tierwatch API" in title.inner_text() and "OAS 3.1" in title.inner_text()
        assert page.locator(".opblock").count() >= 30
        visit.shot("api-docs")
        assert visit.outside == [] and visit.failed_resources == []
        assert [e for e in visit.console_errors if "Content Security Policy" in e] == []
        assert re.search(r"/api/v1/openapi\.json", page.content())
    finally:
        context.close()
