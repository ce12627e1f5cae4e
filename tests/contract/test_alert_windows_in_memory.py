"""Windows held in memory (monitoring/alerts/sliding.py) against windows read from the index every
cycle, on SQLite FTS5 and on Elasticsearch: one seeded stream of reports reaching the index minute
by minute (some late, within the re-read margin), a rule of every type, a re-tiering in the
middle, and two databases evaluated side by side. Every cycle must decide the same, and the memory
side must read far fewer documents than it holds."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from tests.contract.alert_harness import Deployment, Doc, minute, rule
from tierwatch.core.db import make_engine
from tierwatch.core.keys import KeyRing
from tierwatch.core.search import SearchIndex
from tierwatch.core.search.elastic import ElasticIndex
from tierwatch.monitoring.alerts.models import Alert, AlertIndexChange, AlertRun
from tierwatch.monitoring.alerts.sliding import Sliding
from tierwatch.monitoring.indexing import REPORTS_INDEX

PHONES = [f"+86138000000{i:02d}" for i in range(8)]
REGIONS = ["广州", "深圳", "东莞", "佛山"]
RULES = [rule(text) for text in (
    """
id: burst
type: frequency
severity: {high: critical, medium: high, low: medium}
filter: {match: {kind: scam}}
group_by: ident_phone
window: 10m
threshold: {high: 2, medium: 3, low: 4}
schedule: {every: 1m, buffer: 0}
realert: {after: 20m}
""", """
id: city-wave
type: spike
severity: high
group_by: region
window: 15m
ratio: 2
min_current: 3
schedule: {every: 1m, buffer: 0}
realert: {after: 30m}
""", """
id: fresh-app
type: new_term
severity: medium
filter: {match: {kind: scam}}
field: app
window: 10m
lookback: 30m
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""", """
id: many-cities
type: cardinality
severity: high
group_by: ident_phone
distinct_field: region
threshold: 3
window: 20m
schedule: {every: 1m, buffer: 0}
realert: {after: 20m}
""", """
id: losses
type: metric
severity: high
filter: {text: 诈骗}
group_by: ident_phone
metric: {op: sum, field: amount_lost}
above: 20000
window: 30m
schedule: {every: 1m, buffer: 0}
realert: {after: 20m}
""", """
id: quiet-feed
type: flatline
severity: low
filter: {match: {reporter_type: partner_feed}}
group_by: source
window: 10m
threshold: 1
baseline: 30m
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""", """
id: sure-scam
type: threshold
severity: high
field: scam_probability
above: 0.9
group_by: ident_phone
schedule: {every: 1m, buffer: 0}
realert: {after: 30m}
""", """
id: every-five
type: frequency
severity: medium
group_by: region
window: 30m
threshold: 6
schedule: {every: 5m, buffer: 0}
realert: {after: 1h}
""")]


def stream(seed: int, minutes: int) -> list[tuple[int, dict[str, Any]]]:
    """(minute the report reaches the index, document): bursts on a few numbers, late arrivals
    up to 3 minutes, partner feeds that go quiet."""
    rng = random.Random(seed)
    d = Doc()
    out = []
    for m in range(minutes):
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
            at = m + rng.random()
            fields: dict[str, Any] = {"region": rng.choice(REGIONS), "scam_probability": round(rng.random(), 3)}
            if rng.random() < 0.8:
                fields["ident_phone"] = [rng.choice(PHONES[: 3 + m // 40])]
            if rng.random() < 0.3:
                fields["tier"] = rng.choice(["low", "medium", "high"])
                fields["application_id"] = str(rng.randrange(3))
            if rng.random() < 0.5:
                fields["amount_lost"] = float(rng.choice([500, 3000, 8000]))
            if rng.random() < 0.2:
                fields["app"] = f"app{rng.randrange(12)}"
            if rng.random() < 0.25 and not 60 <= m < 80:  # the feeds are silent for 20 minutes
                fields["reporter_type"], fields["source"] = "partner_feed", f"feed-{rng.randrange(2)}"
            if rng.random() < 0.1:
                fields["kind"] = "incident"
            if rng.random() < 0.3:
                fields["description"] = "网络投资"
            doc = d(at, **fields)
            out.append((m + rng.choice([1, 1, 1, 2, 4]), doc))  # indexed 1-4 minutes after
    return out


@pytest.fixture
def pair(search_index: SearchIndex, migrated_sqlite: str, tmp_path: Path) -> Iterator[tuple[Deployment, Deployment]]:
    other = tmp_path / "other.db"
    other.write_bytes(Path(migrated_sqlite.removeprefix("sqlite:///")).read_bytes())
    engines = [make_engine(migrated_sqlite), make_engine(f"sqlite:///{other}")]
    keys = KeyRing(tmp_path / "keys", environ={})
    yield (Deployment(sessionmaker(bind=engines[0], expire_on_commit=False), search_index, keys),
           Deployment(sessionmaker(bind=engines[1], expire_on_commit=False), search_index, keys, Sliding()))
    for engine in engines:
        engine.dispose()


def decisions(d: Deployment) -> tuple[list[Any], list[Any]]:
    with d.sessions() as session:
        runs = session.execute(sa.select(AlertRun.rule_id, AlertRun.source, AlertRun.window_end, AlertRun.matches,
                                         AlertRun.opened, AlertRun.updated, AlertRun.suppressed)
                               .order_by(AlertRun.rule_id, AlertRun.window_end, AlertRun.source)).all()
        alerts = session.execute(sa.select(Alert.rule_id, Alert.group_key, Alert.state, Alert.severity, Alert.tier,
                                           Alert.value, Alert.report_count, Alert.match_count, Alert.opened_at)
                                 .order_by(Alert.rule_id, Alert.group_key, Alert.id)).all()
    return [tuple(r) for r in runs], [tuple(a) for a in alerts]


def mark_changed(d: Deployment, session_reports: int) -> None:
    with d.sessions() as session:
        session.add(AlertIndexChange(reason="retier", reports=session_reports, at=minute(0)))
        session.commit()


def test_memory_decides_every_cycle_as_the_index_does(pair: tuple[Deployment, Deployment],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    by_index, in_memory = pair
    arrivals = stream(seed=7, minutes=110)
    by_index.index([])
    total = 0
    for m in range(1, 121):
        docs = [doc for at, doc in arrivals if at == m]
        if docs:
            by_index.index(docs)
            total += len(docs)
        if m == 70:  # application 1 re-tiered: its reports' documents change in place
            ids = [doc["id"] for at, doc in arrivals if at <= m and doc.get("application_id") == "1"]
            by_index.search.set_fields(REPORTS_INDEX, ids, {"tier": "high"})
            by_index.search.refresh(REPORTS_INDEX)
            mark_changed(in_memory, len(ids))
            mark_changed(by_index, len(ids))
        a, b = by_index.cycle(RULES, minute(m)), in_memory.cycle(RULES, minute(m))
        assert (m, sorted(a.evaluated), a.opened, a.updated, a.suppressed, a.errors) == \
               (m, sorted(b.evaluated), b.opened, b.updated, b.suppressed, b.errors)
    runs_a, alerts_a = decisions(by_index)
    runs_b, alerts_b = decisions(in_memory)
    assert runs_a == runs_b
    assert alerts_a == alerts_b
    fired = {row[0] for row in alerts_a}
    assert {"burst", "city-wave", "fresh-app", "many-cities", "losses", "quiet-feed", "sure-scam"} <= fired
    sliding = in_memory.sliding
    assert sliding is not None
    assert not [r for r in caplog.records if "held in memory failed" in r.getMessage()]
    # one read per cycle for every rule (the whole span once at the start and once after the
    # re-tiering; a new stream when the five-minute rule first runs), and a look-back round trip
    # in the cycles where new app names appear; each report read in the cycles of its minute and
    # the re-read margin (six), not once per window and rule
    assert sliding.requests <= 2 * 120
    assert sliding.docs_read <= 7 * total


@pytest.mark.elasticsearch
@pytest.mark.parametrize("search_index", ["elasticsearch"], indirect=True)
def test_an_index_failure_falls_back_to_reading_every_window(pair: tuple[Deployment, Deployment]) -> None:
    by_index, in_memory = pair
    arrivals = stream(seed=3, minutes=30)
    by_index.index([doc for _, doc in arrivals])
    assert isinstance(by_index.search, ElasticIndex)
    real = by_index.search.tagged
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("node went away")
        return real(*args, **kwargs)

    by_index.search.tagged = failing  # type: ignore[method-assign]
    try:
        for m in range(1, 40):
            a, b = by_index.cycle(RULES, minute(m)), in_memory.cycle(RULES, minute(m))
            assert (a.opened, a.updated, a.suppressed, a.errors) == (b.opened, b.updated, b.suppressed, b.errors)
    finally:
        del by_index.search.tagged
    assert calls["n"] > 3  # it went back to memory after the failed cycle
    assert decisions(by_index) == decisions(in_memory)
