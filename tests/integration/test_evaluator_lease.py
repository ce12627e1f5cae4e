"""Exactly one evaluator, with real worker processes (`tierwatch worker`, jobs on) on a real
PostgreSQL and Elasticsearch: two workers evaluate each rule once per cycle; the leader killed
with SIGKILL in the middle of a cycle (its transaction open) is replaced within one lease, and
no window end is missed or evaluated twice. Counted from the run records."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwatch.core.db import make_engine
from tierwatch.core.search.elastic import ElasticIndex
from tests.pg import fresh_database

pytestmark = [pytest.mark.postgres, pytest.mark.elasticsearch, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
RULES = 40
EVERY = timedelta(seconds=2)


def write_rules(directory: Path) -> None:
    directory.mkdir()
    for i in range(RULES):
        (directory / f"lease-{i:02d}.yaml").write_text(f"""\
schema_version: 1
id: lease-{i:02d}
title: {{zh: 租约测试 {i}, en: Lease test {i}}}
type: frequency
severity: high
owner: fraud-desk
group: test
filter: {{match: {{kind: scam}}}}
group_by: {"ident_phone" if i % 2 else "region"}
window: {10 + i}m
threshold: {2 + i % 3}
schedule: {{every: 2s, buffer: 0}}
""")


@pytest.fixture
def deployment(postgres_url: str, elasticsearch_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    prefix = f"tl{secrets.token_hex(4)}-"
    write_rules(tmp_path / "rules")
    with fresh_database(postgres_url, "tw_lease") as url:
        env = {**os.environ, "TIERWATCH_DATABASE_URL": url, "TIERWATCH_BUS": "sql",
               "TIERWATCH_SEARCH": "elasticsearch", "TIERWATCH_ELASTICSEARCH_URL": elasticsearch_url,
               "TIERWATCH_INDEX_PREFIX": prefix, "TIERWATCH_DATA_DIR": str(tmp_path),
               "TIERWATCH_ALERT_RULES_DIR": str(tmp_path / "rules"), "TIERWATCH_ALERT_EVALUATE_SECONDS": "1",
               "TIERWATCH_SECRET_KEY": "k" * 32}
        env.pop("PYTHONPATH", None)
        yield env
        es = ElasticIndex(elasticsearch_url, prefix=prefix)
        ours = list(es.client.indices.get(index=prefix + "*", expand_wildcards="all"))
        if ours:
            es.client.indices.delete(index=",".join(ours))
        es.close()


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tierwatch.cli", "worker"], cwd=log.parent, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def runs(engine: sa.Engine) -> list[tuple[str, str, str, object, object]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT evaluator, cycle_id, rule_id, window_end, at FROM alert_runs WHERE source = 'schedule'"
            " ORDER BY id"))]


def leader_in_a_cycle(engine: sa.Engine) -> tuple[int, str] | None:
    """The evaluator's backend while its cycle transaction is open (not the lease's own ping)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE 'tierwatch-evaluator %'"
            " AND xact_start IS NOT NULL AND state IN ('idle in transaction', 'active')"
            " AND query NOT LIKE 'SELECT 1%' AND query NOT LIKE '%pg_try_advisory_lock%'")).first()
    return (int(row[0]), str(row[1])) if row else None


def test_one_evaluator_and_a_clean_takeover_after_sigkill(deployment: dict[str, str], tmp_path: Path) -> None:
    engine = make_engine(deployment["TIERWATCH_DATABASE_URL"])
    workers = [start(deployment, tmp_path / "a.log"), start(deployment, tmp_path / "b.log")]
    try:
        deadline = time.monotonic() + 120
        while len({r[3] for r in runs(engine)}) < 6:  # six window ends evaluated
            assert time.monotonic() < deadline, (tmp_path / "a.log").read_text()[-2000:]
            assert all(w.poll() is None for w in workers), (tmp_path / "b.log").read_text()[-2000:]
            time.sleep(0.5)
        before = runs(engine)
        assert len({r[0] for r in before}) == 1  # one evaluator so far
        leader_holder = before[0][0]
        leader_pid = int(leader_holder.split(":")[1])
        leader = next(w for w in workers if w.pid == leader_pid)
        follower = next(w for w in workers if w.pid != leader_pid)
        # Kill it while its cycle's transaction is open: search done or not, nothing committed yet.
        deadline = time.monotonic() + 60
        while (caught := leader_in_a_cycle(engine)) is None or leader_holder not in caught[1]:
            assert time.monotonic() < deadline, "never saw the leader inside a cycle"
            time.sleep(0.002)
        leader.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        leader.wait(timeout=10)
        while not any(r[0] != leader_holder for r in runs(engine)):
            assert time.monotonic() - killed_at < 30, (tmp_path / "b.log").read_text()[-3000:]
            time.sleep(0.1)
        takeover = time.monotonic() - killed_at
        time.sleep(6)  # a few cycles of the new leader
        follower.send_signal(signal.SIGTERM)
        follower.wait(timeout=60)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    records = runs(engine)
    engine.dispose()
    evaluators = [r[0] for r in records]
    assert len(set(evaluators)) == 2 and evaluators.index(evaluators[-1]) > evaluators.index(leader_holder)
    assert evaluators[evaluators.index(evaluators[-1]):] == [evaluators[-1]] * (len(records) - evaluators.index(evaluators[-1]))
    print(f"killed {leader_holder} in a cycle ({caught[1]}); takeover after {takeover:.2f} s; "
          f"{len(records)} run records, {len(set(r[1] for r in records))} cycles")
    assert takeover < 10, f"takeover took {takeover:.1f} s"  # within one lease: the advisory lock died with the backend
    # every rule in every cycle, each once per window end the cycle owed (one; two when a new
    # leader catches up the end its predecessor died evaluating)
    ends_per_cycle = []
    for cycle in dict.fromkeys(r[1] for r in records):
        per_rule = Counter(r[2] for r in records if r[1] == cycle)
        assert len(per_rule) == RULES and len(set(per_rule.values())) == 1, cycle
        ends_per_cycle.append(next(iter(per_rule.values())))
    assert ends_per_cycle.count(1) >= len(ends_per_cycle) - 2
    # every window end once: no end missed across the kill, none evaluated twice
    for i in range(RULES):
        ends = [r[3] for r in records if r[2] == f"lease-{i:02d}"]
        assert len(ends) == len(set(ends))
        assert [b - a for a, b in zip(ends, ends[1:])] == [EVERY] * (len(ends) - 1), f"lease-{i:02d}: {ends}"
