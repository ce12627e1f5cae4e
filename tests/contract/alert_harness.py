"""Running evaluation cycles over a seeded stream in simulated time, on a real search engine and
a migrated database: what the alert tests share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tierwatch.core.actors import Actor
from tierwatch.core.db import UnitOfWork, make_engine
from tierwatch.core.keys import KeyRing
from tierwatch.core.search import SearchIndex
from tierwatch.monitoring.alerts import service
from tierwatch.monitoring.alerts.cycle import CycleContext, CycleResult, run_cycle
from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.models import Alert, AlertEvent, AlertRun, AlertSuppression
from tierwatch.monitoring.alerts.notify import Notifier
from tierwatch.monitoring.alerts.rules import load_rule
from tierwatch.monitoring.alerts.sliding import Sliding
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA
from tests.pg import fresh_database

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ANALYST = Actor(label="analyst@test", role="analyst")


def minute(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def rule(text: str) -> AlertRule:
    return load_rule("schema_version: 1\ntitle: {zh: 测试规则, en: Test rule}\nowner: fraud-desk\ngroup: test\n"
                     + text.strip() + "\n")


class Doc:
    """Report documents at minutes after T0, with unique ids."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, at: float, **fields: Any) -> dict[str, Any]:
        self.n += 1
        when = minute(at).isoformat()
        return {"id": f"d{self.n:05d}", "kind": "scam", "channel": "phone", "reported_at": when,
                "received_at": when, "description": "冒充客服诈骗", **fields}


@dataclass
class Deployment:
    """A database and a search index, and the cycles run over them."""

    sessions: sessionmaker[Session]
    search: SearchIndex
    keys: KeyRing  # the audit trail's HMAC key (triage and registry steps are audited)
    sliding: Sliding | None = None  # windows held in memory across the cycles, or every window read

    def context(self) -> CycleContext:
        return CycleContext(self.search, evaluator="test", sliding=self.sliding)

    def index(self, docs: Sequence[dict[str, Any]]) -> None:
        self.search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
        self.search.bulk_index(REPORTS_INDEX, list(docs))
        self.search.refresh(REPORTS_INDEX)

    def cycle(self, rules: Sequence[AlertRule], now: datetime) -> CycleResult:
        with self.sessions() as session:
            result = run_cycle(session, rules, now, self.context())
            session.commit()
        return result

    def run_minutes(self, rules: Sequence[AlertRule], start: int, stop: int) -> list[CycleResult]:
        return [self.cycle(rules, minute(m)) for m in range(start, stop + 1)]

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, keys=self.keys)

    def act(self, alert_id: int, action: str, at: float, **fields: Any) -> Alert:
        with self.uow() as uow:
            alert = service.act(uow, ANALYST, alert_id, service.Action(action, **fields), Notifier(), minute(at))
            uow.commit()
        return alert

    def alerts(self, rule_id: str | None = None) -> list[Alert]:
        with self.sessions() as s:
            stmt = sa.select(Alert).order_by(Alert.id)
            if rule_id:
                stmt = stmt.where(Alert.rule_id == rule_id)
            return list(s.scalars(stmt))

    def events(self, alert_id: int) -> list[str]:
        with self.sessions() as s:
            return list(s.scalars(sa.select(AlertEvent.action).where(AlertEvent.alert_id == alert_id)
                                  .order_by(AlertEvent.id)))

    def suppressions(self, rule_id: str) -> dict[tuple[str, str], int]:
        with self.sessions() as s:
            rows = s.execute(sa.select(AlertSuppression.group_key, AlertSuppression.reason,
                                       AlertSuppression.count).where(AlertSuppression.rule_id == rule_id))
            return {(k, r): n for k, r, n in rows}

    def runs(self, rule_id: str) -> list[datetime]:
        with self.sessions() as s:
            return list(s.scalars(sa.select(AlertRun.window_end).where(
                AlertRun.rule_id == rule_id, AlertRun.source == "schedule").order_by(AlertRun.window_end)))


@contextmanager
def deployed(search: SearchIndex, database_url: str, tmp_path: Path,
             sliding: Sliding | None = None) -> Iterator[Deployment]:
    engine = make_engine(database_url)
    try:
        yield Deployment(sessionmaker(bind=engine, expire_on_commit=False), search,
                         KeyRing(tmp_path / "keys", environ={}), sliding)
    finally:
        engine.dispose()


@pytest.fixture(params=["index", "memory", "memory-postgres"])
def deployment(request: pytest.FixtureRequest, search_index: SearchIndex, migrated_sqlite: str,
               tmp_path: Path) -> Iterator[Deployment]:
    """Every alert test runs three times: windows read from the index each cycle, and held in
    memory (sliding.py) -- the same stream must raise the same alerts both ways -- and held in
    memory over a real PostgreSQL (its set-based writes are other statements than SQLite's)."""
    sliding = Sliding() if request.param.startswith("memory") else None
    if request.param != "memory-postgres":
        with deployed(search_index, migrated_sqlite, tmp_path, sliding) as d:
            yield d
        return
    request.node.add_marker(pytest.mark.postgres)
    with fresh_database(request.getfixturevalue("postgres_url"), "tw_alerts") as url, \
            deployed(search_index, url, tmp_path, sliding) as d:
        yield d
