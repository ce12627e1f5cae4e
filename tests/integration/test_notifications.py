"""Notifications through the outbox to real receivers: an SMTP server (aiosmtpd) that is down for
a while, and an HTTP server that checks the webhook signature. Every notification arrives once,
identifiers masked; the daily digest and the overdue marks are sent once however often the jobs
run."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tierwatch import alerting
from tierwatch.bootstrap import Container, build
from tierwatch.core.settings import AlertSettings, load_settings
from tierwatch.monitoring.alerts import subscriptions
from tierwatch.monitoring.alerts.cycle import CycleContext, run_cycle
from tierwatch.monitoring.alerts.delivery import BadSignature, verify_signature
from tierwatch.monitoring.alerts.notify import Notifier
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA
from tierwatch.monitoring.outbox import Backoff, OutboxDelivery, OutboxMessage
from tests.contract.alert_harness import rule
from tests.unit.registry.factories import World, make_world

NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai: the digest hour
PHONES = ["+8613800000001", "+8613800000002", "+8613800000003"]
BURST = rule("""
id: notify-burst
type: frequency
severity: critical
group_by: ident_phone
window: 1h
threshold: 2
schedule: {every: 1m, buffer: 0}
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def env(migrated_sqlite: str, tmp_path: Path, smtp_port: int) -> Iterator[tuple[Container, World]]:
    c = build(load_settings(database_url=migrated_sqlite, data_dir=tmp_path, secret_key="k" * 32,
                            alerts=AlertSettings(smtp_port=smtp_port, send_timeout=3)))
    world = make_world(c)
    yield c, world
    c.close()


def open_alerts(c: Container, now: datetime = NOW) -> None:
    c.search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
    c.search.bulk_index(REPORTS_INDEX, [
        {"id": f"r{i}{j}", "kind": "scam", "ident_phone": [p], "reported_at": now - timedelta(minutes=5 + j)}
        for i, p in enumerate(PHONES) for j in range(2)])
    with c.session_factory() as session:
        run_cycle(session, [BURST], now, CycleContext(c.search, notifier=Notifier("https://tw.example.cn")))
        session.commit()


def subscribe(c: Container, actor: Any, **kw: Any) -> None:
    with c.uow() as uow:
        subscriptions.create_subscription(uow, actor, **kw)
        uow.commit()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def test_smtp_down_for_a_while_every_notification_arrives_once(env: tuple[Container, World], smtp_port: int) -> None:
    c, world = env
    subscribe(c, world.analyst, channel="email", min_severity="high")
    subscribe(c, world.regulator, channel="email", min_severity="critical", rule_groups=["test"])
    open_alerts(c)  # three alerts opened: two subscribers each
    quick = Backoff(first=timedelta(seconds=30))
    assert alerting.dispatch_outbox(c, NOW, backoff=quick).retried == 6  # connection refused
    assert alerting.dispatch_outbox(c, NOW + timedelta(seconds=5), backoff=quick).retried == 0  # backing off
    assert alerting.dispatch_outbox(c, NOW + timedelta(seconds=40), backoff=quick).retried == 6  # still down
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        sent = alerting.dispatch_outbox(c, NOW + timedelta(minutes=5), backoff=quick)
        again = alerting.dispatch_outbox(c, NOW + timedelta(hours=2), backoff=quick)
    finally:
        server.stop()
    emails = [m for m in inbox.messages]
    assert (sent.sent, again.sent) == (6, 0)
    assert len(emails) == 6 and len({m["Message-ID"] for m in emails}) == 6
    assert sorted(m["To"] for m in emails) == ["analyst@example.cn"] * 3 + ["regulator@example.cn"] * 3
    body = "".join(m.get_payload(decode=True).decode() for m in emails)
    assert "+86138…0001" in body and "+8613800000001" not in body  # identifiers masked outside
    assert all("[critical]" in m["Subject"] for m in emails)
    with c.session_factory() as s:
        log = s.execute(sa.select(OutboxDelivery.outbox_id, OutboxDelivery.ok).order_by(OutboxDelivery.id)).all()
    per_message: dict[int, list[bool]] = {}
    for outbox_id, ok in log:
        per_message.setdefault(outbox_id, []).append(ok)
    emailed = [v for v in per_message.values() if len(v) == 3]
    assert len(emailed) == 6 and all(v == [False, False, True] for v in emailed)


class Receiver(BaseHTTPRequestHandler):
    """A partner's webhook receiver: checks signature, timestamp and delivery id."""

    secrets: list[str] = []
    seen: set[str] = set()
    accepted: list[dict[str, Any]] = []
    refused: list[str] = []
    fail_first = 1

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Receiver.fail_first > 0:
            Receiver.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        try:
            verify_signature(Receiver.secrets, dict(self.headers), body, seen=Receiver.seen)
        except BadSignature as exc:
            Receiver.refused.append(str(exc))
            self.send_response(401)
            self.end_headers()
            return
        Receiver.accepted.append({"headers": dict(self.headers), "body": body})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_signed_webhooks_are_verified_retried_and_replay_safe(env: tuple[Container, World]) -> None:
    import urllib.error
    import urllib.request

    c, world = env
    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{http.server_address[1]}/hook"
    try:
        with c.uow() as uow:
            endpoint, secret = subscriptions.create_endpoint(uow, world.analyst, c.keys.key("webhook"), name="partner", url=url)
            uow.commit()
        Receiver.secrets = [secret]
        subscribe(c, world.analyst, channel="webhook", endpoint_id=endpoint.id, min_severity="low")
        open_alerts(c, datetime.now(UTC))  # the receiver checks timestamps against its own clock
        first = alerting.dispatch_outbox(c, datetime.now(UTC))
        assert (first.sent, first.retried) == (2 + 3, 1)  # 2 webhooks + 3 alerts indexed; the receiver refused one
        later = alerting.dispatch_outbox(c, datetime.now(UTC) + timedelta(minutes=5))
        assert later.sent == 1 and len(Receiver.accepted) == 3 and Receiver.refused == []
        payloads = [json.loads(a["body"]) for a in Receiver.accepted]
        assert sorted(p["alert"]["key"] for p in payloads) == ["+86138…0001", "+86138…0002", "+86138…0003"]
        assert {p["event"] for p in payloads} == {"opened"} and "+8613800000001" not in str(payloads)
        # a replay of a request that was accepted is refused, and so is a forged signature
        replay = Receiver.accepted[0]
        request = urllib.request.Request(url, data=replay["body"], method="POST", headers=replay["headers"])
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401 and "already received" in Receiver.refused[-1]
        forged = {k: v for k, v in replay["headers"].items() if k.lower() != "content-length"}
        forged["X-Tierwatch-Delivery"] = "forged-1"  # a new id, but the body was changed
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(urllib.request.Request(url, data=replay["body"] + b" ", method="POST",
                                                          headers=forged), timeout=5)
        assert Receiver.refused[-1] == "signature does not match"
        with pytest.raises(BadSignature, match="too far"):
            verify_signature([secret], replay["headers"], replay["body"], now=datetime.now(UTC).timestamp() + 600)
    finally:
        http.shutdown()


def test_digest_and_overdue_marks_are_sent_once(env: tuple[Container, World]) -> None:
    c, world = env
    subscribe(c, world.analyst, channel="email", min_severity="low", digest_only=True)
    open_alerts(c)
    with c.session_factory() as s:  # digest only: nothing was sent when the alerts opened
        assert s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "email")) == 0
    assert alerting.send_digest(c, NOW - timedelta(hours=1)) == 0  # 07:00 in Shanghai: not yet
    assert alerting.send_digest(c, NOW + timedelta(minutes=10)) == 1
    alerting.send_digest(c, NOW + timedelta(minutes=20))  # another worker, the same hour
    with c.session_factory() as s:
        mails = list(s.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "email")))
        assert [m.dedup_key for m in mails] == [f"digest:{world.analyst.user_id}:2026-03-02"]
        assert "新增 3" in mails[0].payload["text"] and "+86138…0002" in mails[0].payload["text"]
    subscribe(c, world.regulator, channel="email", min_severity="critical")
    assert alerting.mark_overdue_alerts(c, NOW + timedelta(minutes=10)) == 0  # critical: 15 min to acknowledge
    assert alerting.mark_overdue_alerts(c, NOW + timedelta(minutes=16)) == 3
    assert alerting.mark_overdue_alerts(c, NOW + timedelta(minutes=17)) == 0  # marked once
    with c.session_factory() as s:
        overdue = list(s.scalars(sa.select(OutboxMessage.payload).where(OutboxMessage.dedup_key.like("notify:%"))))
    assert len(overdue) == 3 and all("超时未确认" in p["subject"] for p in overdue)
