"""The embedded evaluator lease (SQLite): one holder at a time, taken over only after it expired,
and a holder whose lease moved on cannot commit a cycle (fencing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tierwatch.core.db import make_engine
from tierwatch.monitoring.alerts.lease import LeaseLost, RowLease
from tierwatch.monitoring.alerts.models import AlertRuleState

T = datetime(2026, 3, 2, tzinfo=UTC)
TTL = timedelta(seconds=30)


def test_one_holder_then_a_fenced_takeover(migrated_sqlite: str) -> None:
    engine = make_engine(migrated_sqlite)
    a, b = RowLease(engine, TTL, holder="a"), RowLease(engine, TTL, holder="b")
    try:
        assert a.acquire(T) and not b.acquire(T + timedelta(seconds=5))
        assert a.acquire(T + timedelta(seconds=20))  # renewed: good until T+50s
        assert not b.acquire(T + timedelta(seconds=40))
        with a.session() as session:  # a cycle of a's, still holding: commits
            a.fence(session, T + timedelta(seconds=41))
            session.add(AlertRuleState(rule_id="r", checksum="c", evaluated_until=T, updated_at=T))
            session.commit()
        # a stalls (a long garbage collection, a frozen VM) past its lease; b takes over
        assert b.acquire(T + timedelta(seconds=72)) and b.epoch == a.epoch + 1  # type: ignore[operator]
        with a.session() as session, pytest.raises(LeaseLost):
            session.execute(sa.update(AlertRuleState).values(checksum="stale"))
            a.fence(session, T + timedelta(seconds=73))  # a's late cycle must not commit
        with engine.connect() as conn:
            assert conn.execute(sa.select(AlertRuleState.checksum)).scalar() == "c"
        assert not a.acquire(T + timedelta(seconds=74))
        b.release()
        assert a.acquire(T + timedelta(seconds=75))  # released: free at once
    finally:
        engine.dispose()


def test_a_watermark_moved_by_another_evaluator_stops_the_commit(migrated_sqlite: str) -> None:
    from sqlalchemy.orm import Session

    from tierwatch.monitoring.alerts import store
    from tierwatch.monitoring.alerts.rules import load_rules

    engine = make_engine(migrated_sqlite)
    rules = load_rules()[:3]
    try:
        with Session(engine) as s:
            store.advance(s, [(r, None, T) for r in rules], T)  # first evaluation: rows created
            s.commit()
        with Session(engine) as s:
            read = store.rule_states(s)
        with Session(engine) as other:  # another evaluator commits the next end of one rule
            store.advance(other, [(rules[1], read[rules[1].id], T + timedelta(minutes=1))], T)
            other.commit()
        with Session(engine) as s, pytest.raises(store.WatermarkMoved):
            store.advance(s, [(r, read[r.id], T + timedelta(minutes=1)) for r in rules], T)
        with Session(engine) as s:
            assert store.rule_states(s)[rules[0].id].evaluated_until == T  # nothing of it committed
            with pytest.raises(store.WatermarkMoved):
                store.advance(s, [(rules[0], None, T)], T)  # "never evaluated" is stale as well
    finally:
        engine.dispose()
