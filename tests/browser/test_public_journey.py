"""A citizen's journey in Chromium on the real services (PostgreSQL, Kafka, Elasticsearch, the
worker running): reports a scam in Chinese on a phone (a phone number, a cloned voice), gets a
tracking code, follows it; two more people report the same number; the citizen finds it counted
on the check page, looks up a registered application, reads the trends and a tip, and switches
to English. A screenshot at each step (test-artifacts/; with TIERWATCH_DOCS_SCREENSHOTS=1 the
report form and the trends page are also written to docs/ for the README)."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Visit, assert_clean, open_context, serious_accessibility_findings
from tests.conftest import REPO
from tests.unit.web.public_world import approved_application

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.kafka, pytest.mark.elasticsearch]

NUMBER = "138 0013 8000"
DOCS = REPO / "docs"


@pytest.fixture(scope="module")
def worker(live_server: LiveServer) -> Iterator[Any]:
    """The intake worker (Kafka -> PostgreSQL + Elasticsearch) beside the live server."""
    from tierwatch.worker import build_worker

    stop = threading.Event()
    ready = threading.Event()
    w = build_worker(live_server.container, stop)
    thread = threading.Thread(target=w.run, kwargs={"on_batch": lambda _s: ready.set()}, daemon=True)
    thread.start()
    assert ready.wait(60), "the worker did not subscribe"
    yield w
    stop.set()
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def registered(live_server: LiveServer) -> Any:
    return approved_application(live_server.container, live_server.world, "粤智反诈语音助手")


def shot(visit: Visit, label: str, docs_name: str | None = None) -> Path:
    path = visit.shot(label)
    if docs_name and os.environ.get("TIERWATCH_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / docs_name)
    return path


def no_findings(visit: Visit) -> None:
    assert serious_accessibility_findings(visit.page) == [], visit.page.url


def watch_dialogs(visit: Visit) -> list[str]:
    """Script that runs would open a dialog (every XSS payload here calls alert)."""
    opened: list[str] = []
    visit.page.on("dialog", lambda d: (opened.append(d.message), d.dismiss()))
    return opened


def report_in_chinese(visit: Visit, description: str, contact_phone: str | None = None, *, shots: bool = False) -> str:
    """Walk the report form as a Chinese speaker; returns the tracking code."""
    page = visit.page
    page.goto("/report")
    page.get_by_label("发生了什么？").fill(description)
    page.get_by_label("什么时候发生的？").fill("2026-03-01")
    page.get_by_label("您住在哪个城市？").select_option("shenzhen")
    if shots:
        no_findings(visit)
        shot(visit, "report-step1", "report-form.png")
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("radio", name="电话", exact=True).check()
    page.get_by_role("checkbox", name="AI 克隆声音").check()
    if shots:
        no_findings(visit)
        shot(visit, "report-step2-how")
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("对方使用的电话号码").fill(NUMBER)
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("您损失了多少钱（元）？").fill("8800")
    page.get_by_role("radio", name="银行转账").check()
    page.get_by_role("button", name="下一步").click()
    if contact_phone:
        page.get_by_label("您的电话号码").fill(contact_phone)
    if shots:
        no_findings(visit)
        shot(visit, "report-step5-contact")
    page.get_by_role("button", name="下一步").click()
    assert page.get_by_role("heading", name="核对并提交").is_visible()
    assert NUMBER in page.content() and "AI 克隆声音" in page.content()
    if shots:
        no_findings(visit)
        shot(visit, "report-preview")
    page.get_by_role("button", name="提交举报").click()
    code = page.locator(".receipt .code").inner_text()
    assert re.fullmatch(r"TW-[0-9A-Z]{10}", code)
    return code


def wait_for(visit: Visit, url: str, text: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        visit.page.goto(url)
        if text in visit.page.content():
            return
        assert time.monotonic() < deadline, f"{url} never showed {text!r}"
        time.sleep(1)


def test_a_citizen_reports_follows_checks_and_reads(browser, live_server, worker, registered, visit):
    dialogs = watch_dialogs(visit)
    page = visit.page
    page.goto("/")
    page.get_by_role("link", name="举报诈骗").first.click()
    code = report_in_chinese(visit, "接到“儿子”的电话，声音一模一样，说出了车祸急需 8800 元，我转了账才发现是 AI 合成的声音。",
                             shots=True)
    assert "谢谢，您的举报已收到" in page.content() and "96110" in page.content()
    no_findings(visit)
    shot(visit, "tracking-code")

    # The worker stores and scores it: the status page says so.
    wait_for(visit, f"/status/{code}", "已经过系统研判")
    assert "+86 138 0013 8000" in page.content()
    no_findings(visit)
    shot(visit, "status")

    # Two more people report the same number, from their own phones (their own contact details).
    for n, phone in enumerate(("13911110001", "13911110002")):
        context, other = open_context(browser, live_server.url, f"{visit.name}-reporter{n + 2}")
        try:
            other_code = report_in_chinese(other, f"自称客服的电话 {NUMBER}，用 AI 模仿亲人的声音要钱（第{n + 2}位举报人）", phone)
            wait_for(other, f"/status/{other_code}", "已经过系统研判")
            assert_clean(other)
        finally:
            context.close()

    wait_for(visit, f"/status/{code}", "另有 2 人举报了同一个")
    shot(visit, "status-linked")

    page.get_by_role("link", name="查询号码或链接").first.click()
    page.get_by_label("电话号码、网址或账号").fill("138-0013-8000")
    page.get_by_role("button", name="查询", exact=True).click()
    answer = page.locator("section.answer").inner_text()
    assert "自 " in answer and "3 位不同的人共举报 3 次" in answer and "中风险" in answer and "AI 克隆声音" in answer
    no_findings(visit)
    shot(visit, "check-counted")

    page.get_by_role("link", name="已备案的 AI 应用").first.click()
    page.get_by_label("应用名称、提供者或备案号").fill("反诈语音")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name="粤智反诈语音助手").click()
    entry = page.locator("main").inner_text()
    assert registered.filing_number in entry and "中国（广东）" in entry and "欧盟《人工智能法》" in entry
    no_findings(visit)
    shot(visit, "registry-entry")

    page.get_by_role("link", name="诈骗趋势").first.click()
    assert "最近 12 周共 3 份举报" in page.locator("main").inner_text()
    page.get_by_text("查看数据：各城市举报数").click()  # the table folded under the chart
    assert page.get_by_role("table", name=re.compile("各城市举报数")).get_by_role("row", name=re.compile("深圳市")).is_visible()
    assert "AI 克隆声音" in page.content()
    assert page.locator("figure.chart img").first.evaluate("img => img.complete && img.naturalWidth > 0")
    no_findings(visit)
    shot(visit, "trends", "trends.png")

    page.get_by_role("link", name="防骗提示").first.click()
    page.get_by_role("link", name=re.compile("AI 克隆声音诈骗是怎么回事")).click()
    assert "挂断，用您存的号码回拨" in page.content()
    no_findings(visit)
    shot(visit, "tip-cloned-voice")

    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "How cloned-voice scams work"
    shot(visit, "tip-english")
    page.goto("/check?q=%2B86%20138%200013%208000")
    assert "Reported 3 times by 3 different people since" in page.locator("section.answer").inner_text()
    no_findings(visit)
    shot(visit, "check-english")
    assert dialogs == []
    assert_clean(visit)


@pytest.mark.parametrize("visit", [False], indirect=True, ids=["no-js"])
def test_the_report_form_works_without_javascript(visit, worker):
    code = report_in_chinese(visit, "没有 JavaScript 也能举报：冒充公安要求转账到安全账户。")
    visit.shot("no-js-receipt")
    wait_for(visit, f"/status/{code}", "已经过系统研判")
    assert_clean(visit)


def test_script_typed_into_the_form_stays_text(visit, worker):
    dialogs = watch_dialogs(visit)
    payload = '<img src=x onerror=alert(1)><script>alert(2)</script>'
    page = visit.page
    page.goto("/report")
    page.get_by_label("发生了什么？").fill(payload)
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("radio", name="短信").check()
    page.get_by_label("对方使用的应用或平台（选填）").fill(payload)
    for _ in range(4):
        page.get_by_role("button", name="下一步").click()
    assert page.get_by_role("heading", name="核对并提交").is_visible()
    assert page.get_by_text(payload).count() == 2  # shown as text, twice
    page.get_by_role("button", name="提交举报").click()
    visit.shot("xss-receipt")
    assert dialogs == []
    assert_clean(visit)
