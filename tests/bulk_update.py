"""update_rows' counters and compare-and-set, run by the SQLite and the PostgreSQL store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tierwatch.monitoring.alerts.models import AlertRuleState, AlertSuppression
from tierwatch.monitoring.bulk import insert_rows, update_rows

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


def check_update_rows(session, prefix: str) -> None:
    """Counters add to what is stored; a compare-and-set row whose column moved is left alone
    and is not counted; JSON and datetimes arrive as given."""
    states = AlertRuleState.__table__
    insert_rows(session, states, [{"rule_id": f"{prefix}{i}", "checksum": "a", "evaluated_until": T0,
                                   "errors_in_a_row": 0, "updated_at": T0} for i in range(3)])
    later = T0 + timedelta(minutes=1)
    moved = update_rows(session, states, ["rule_id"], [
        {"rule_id": f"{prefix}0", "evaluated_until": later, "checksum": "b", "was_evaluated_until": T0},
        {"rule_id": f"{prefix}1", "evaluated_until": later, "checksum": "b", "was_evaluated_until": later},  # moved
        {"rule_id": f"{prefix}2", "evaluated_until": later, "checksum": "b", "was_evaluated_until": T0},
    ], unchanged=["evaluated_until"])
    assert moved == 2
    rows = dict(session.execute(sa.select(states.c.rule_id, states.c.evaluated_until)
                                .where(states.c.rule_id.like(f"{prefix}%"))).all())
    assert {k: v.astimezone(UTC) for k, v in rows.items()} == {f"{prefix}0": later, f"{prefix}1": T0,
                                                               f"{prefix}2": later}

    held = AlertSuppression.__table__
    (row_id,), = insert_rows(session, held, [{
        "rule_id": f"{prefix}r", "group_key": "k", "reason": "aggregated", "target": "", "first_at": T0,
        "last_at": T0, "count": 4, "sample_report_ids": ["a"]}], returning=["id"])
    assert update_rows(session, held, ["id"], [{"id": row_id, "count": 3, "last_at": later,
                                                "sample_report_ids": ["a", "报告-2"]}], add=["count"]) == 1
    count, last, samples = session.execute(sa.select(held.c.count, held.c.last_at, held.c.sample_report_ids)
                                           .where(held.c.id == row_id)).one()
    assert (count, last.astimezone(UTC), samples) == (7, later, ["a", "报告-2"])
