"""Helpers for the public pages' tests: citizens reporting through the real form or API, the
worker storing and indexing (embedded bus and search), an approved and tiered application."""

from __future__ import annotations

import html
import re
import threading
from typing import Any

from flask.testing import FlaskClient

from tierwatch.registry import service
from tierwatch.registry.schemas import CreateApplicationIn
from tests.unit.registry.factories import activate_shipped_rules, full_fields

REPORT_ANSWERS = [
    {"description": "有人用我儿子的声音打电话，说出了车祸要我转账", "occurred_on": "2026-03-01", "city": "shenzhen"},
    {"channel": "phone", "ai_techniques": ["cloned_voice"]},
    {"phones": "138 0013 8000"},
    {"amount": "5000", "payment_method": "alipay"},
    {},
]


def form_fields(page: str) -> dict[str, Any]:
    """The inputs a browser would send back from ``page`` (hidden fields included; the visible
    ones as they were filled), repeated names as lists."""
    out: dict[str, Any] = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        name = re.search(r'\bname="([^"]+)"', tag)
        if not name or re.search(r'type="(?:submit|checkbox|radio)"', tag):
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        _add(out, name.group(1), html.unescape(value.group(1)) if value else "")
    for name, text in re.findall(r'<textarea[^>]*\bname="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        _add(out, name, html.unescape(text.removeprefix("\r\n").removeprefix("\n")))
    return out


def _add(out: dict[str, Any], name: str, value: str) -> None:
    if name in out:
        out[name] = [*([out[name]] if isinstance(out[name], str) else out[name]), value]
    else:
        out[name] = value


def report_through_the_form(client: FlaskClient, answers: list[dict[str, Any]] = REPORT_ANSWERS,
                            contact: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """Walk the wizard as a browser without JavaScript; returns the status URL and the last form."""
    page = client.get("/report").get_data(as_text=True)
    steps = [*answers[:4], {f"contact_{k}": v for k, v in (contact or {}).items()}]
    for step in steps:
        response = client.post("/report", data={**form_fields(page), **step, "action": "next"})
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        page = response.get_data(as_text=True)
    assert 'value="preview"' in page
    fields = form_fields(page)
    sent = client.post("/report", data={**fields, "action": "send"})
    assert sent.status_code == 303, sent.get_data(as_text=True)[:3000]
    return sent.headers["Location"], fields


def run_worker(container: Any) -> None:
    from tierwatch.worker import build_worker

    build_worker(container, threading.Event()).run(exit_when_idle=0.3)
    container.search.refresh("reports")


def approved_application(container: Any, world: Any, name: str = "粤智客服助手") -> Any:
    """A filing of company A, submitted, reviewed and approved, tiered under both rule sets."""
    activate_shipped_rules(container)
    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(**full_fields(name=name)))
        service.transition(uow, world.a, app.id, "submit")
        service.transition(uow, world.regulator, app.id, "start_review")
        service.transition(uow, world.regulator, app.id, "approve")
        uow.commit()
        return app
