"""The regulator console through its pages (Flask test client, SQLite): only the allowed steps
are offered, a refused step says which comes first, approval shows the filing number, an
override needs its justification, a rule file's errors carry line numbers, the what-if and the
activation with progress, roll back, the calendar, the audit trail's check and the exports."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest

from tierwatch.registry import service
from tierwatch.registry.schemas import CreateApplicationIn
from tierwatch.risk import service as tiering
from tests.unit.registry.factories import activate_shipped_rules, full_fields
from tests.unit.web.conftest import csrf_token, sign_in

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def submitted(container, world):
    activate_shipped_rules(container)
    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(**full_fields(capabilities=["voice_cloning"])))
        service.transition(uow, world.a, app.id, "submit")
        uow.commit()
        return app.id


def _buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit" name="action" value="([a-z_]+)"', html)


def test_only_allowed_steps_are_offered_and_approval_shows_the_filing_number(client, container, world, submitted):
    sign_in(client, "regulator@example.cn")
    page = f"/regulator/applications/{submitted}"
    assert _buttons(client.get(page).get_data(as_text=True)) == ["start_review", "return"]
    # A step the state does not allow (a stale page): refused, naming the step that comes first.
    refused = client.post(f"{page}/decide", data={"csrf_token": csrf_token(client, page), "action": "approve"},
                          follow_redirects=True)
    assert "start review first" in refused.get_data(as_text=True)
    client.post(f"{page}/decide", data={"csrf_token": csrf_token(client, page), "action": "start_review"})
    html = client.get(page).get_data(as_text=True)
    assert _buttons(html) == ["approve", "return", "reject"]
    rejected = client.post(f"{page}/decide", data={"csrf_token": csrf_token(client, page), "action": "reject"})
    assert rejected.status_code == 422 and "此操作须填写意见" in rejected.get_data(as_text=True)
    approved = client.post(f"{page}/decide", data={"csrf_token": csrf_token(client, page), "action": "approve"},
                           follow_redirects=True)
    number = re.search(r"粤AI备-\d{4}-\d{6}", approved.get_data(as_text=True)).group(0)
    with container.uow() as uow:
        assert service.get_application(uow, world.regulator, submitted).filing_number == number
    assert _buttons(approved.get_data(as_text=True)) == []


def test_an_override_needs_a_written_justification(client, container, world, submitted):
    sign_in(client, "regulator@example.cn")
    page = f"/regulator/applications/{submitted}"
    short = client.post(f"{page}/override", data={"csrf_token": csrf_token(client, page), "jurisdiction": "eu",
                                                  "tier": "high", "justification": "太短"})
    assert short.status_code == 422 and "请至少写 20 个字" in short.get_data(as_text=True)
    done = client.post(f"{page}/override", data={"csrf_token": csrf_token(client, page), "jurisdiction": "eu",
                                                 "tier": "high", "justification": "面向公众的声音克隆，涉诈风险高，按高风险监管并每季度自评估。"})
    assert done.status_code == 303
    with container.uow() as uow:
        assert tiering.effective_tier(uow, submitted, "eu").tier == "high"


def test_a_rule_file_is_checked_simulated_activated_with_progress_and_rolled_back(client, container, world, submitted):
    sign_in(client, "admin@example.cn")
    text = (REPO / "rules" / "cn-gd.yaml").read_text(encoding="utf-8")
    broken = text.replace("combine:\n  method: score", "combine:\n  method: loudest")
    answer = client.post("/regulator/rulesets/check", data={"csrf_token": csrf_token(client, "/regulator/rulesets"),
                                                            "file": (io.BytesIO(broken.encode()), "cn-gd.yaml")},
                         content_type="multipart/form-data")
    html = answer.get_data(as_text=True)
    line = text.splitlines().index("  method: score") + 1
    assert answer.status_code == 422 and f"第 {line} 行" in html
    changed = text.replace('edition: "2026.2"', 'edition: "2026.3"').replace(
        "thresholds: {medium: 3, high: 7}", "thresholds: {medium: 1, high: 2}")
    assert changed.count("2026.3") == 1 and "{medium: 1, high: 2}" in changed
    answer = client.post("/regulator/rulesets/check", data={"csrf_token": csrf_token(client, "/regulator/rulesets"),
                                                            "file": (io.BytesIO(changed.encode()), "cn-gd.yaml")},
                         content_type="multipart/form-data")
    assert answer.status_code == 303
    what_if = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "版次 2026.3" in what_if and '<figure class="chart">' not in what_if  # already high: nothing moves
    started = client.post(answer.headers["Location"] + "/activate",
                          data={"csrf_token": csrf_token(client, answer.headers["Location"])})
    job_page = started.headers["Location"]
    for _ in range(100):
        html = client.get(job_page).get_data(as_text=True)
        if "http-equiv" not in html:
            break
        time.sleep(0.1)
    assert "第 2 版已启用" in html
    with container.uow() as uow:
        assert tiering.get_version(uow, "cn-gd").edition == "2026.3"
    client.post("/regulator/rulesets/cn-gd/1/rollback", data={"csrf_token": csrf_token(client, "/regulator/rulesets")})
    for _ in range(100):
        with container.uow() as uow:
            if tiering.get_version(uow, "cn-gd").version == 3:
                assert tiering.get_version(uow, "cn-gd").edition == "2026.2"
                break
        time.sleep(0.1)
    else:
        pytest.fail("the roll-back did not finish")
    # A regulator may look but not activate (the API's rule).
    client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})
    sign_in(client, "regulator@example.cn")
    assert client.post(answer.headers["Location"] + "/activate",
                       data={"csrf_token": csrf_token(client, "/regulator/rulesets")}).status_code == 403


def test_calendar_audit_and_exports(client, container, world, submitted):
    sign_in(client, "regulator@example.cn")
    audit_page = client.get("/regulator/audit").get_data(as_text=True)
    assert "哈希链校验通过" in audit_page and "application.submit" in audit_page
    only = client.get(f"/regulator/audit?action=ruleset").get_data(as_text=True)
    assert "ruleset.activate" in only and "application.submit" not in only
    assert client.get("/regulator/calendar").status_code == 200
    data = client.get("/regulator/exports/registry.csv")
    rows = list(csv.DictReader(io.StringIO(data.get_data().decode("utf-8-sig"))))
    assert data.headers["Content-Disposition"].startswith("attachment") and rows[0]["name"] == "粤智客服助手"
    assert client.get("/regulator/exports/registry.xlsx").data[:2] == b"PK"
    assert client.get("/regulator/exports/calendar.csv").status_code == 200
    queue = client.get("/regulator/queue?tier=high").get_data(as_text=True)
    assert "粤智客服助手" in queue and "已提交: 1" in queue
    dashboards = client.get("/regulator/").get_data(as_text=True)
    assert "各领域的分级分布" in dashboards and "各城市或省份的分级分布" in dashboards and "深圳市" in dashboards
