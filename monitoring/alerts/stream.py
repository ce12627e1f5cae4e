"""Threshold rules fire from the stream too: the worker checks each report it stores against
the enabled threshold rules and writes the matches to the inbox in the same transaction; the
evaluator drains the inbox through the same decisions as its scheduled path (cycle.py).

Filters are read here as the embedded FTS5 index reads them (text terms as case-insensitive
substrings); on Elasticsearch an English term matches whole words only, so a threshold rule
with an English text filter may fire from the stream for a report its scheduled search would
not have found (never the other way round). Chinese terms behave the same on both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tierwatch.monitoring.alerts import store
from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.models import AlertInbox
from tierwatch.monitoring.alerts.types import Threshold
from tierwatch.monitoring.bulk import insert_rows
from tierwatch.monitoring.indexing import REPORTS_SCHEMA

_THRESHOLD = Threshold()


def inbox_rows(rules: Sequence[AlertRule], docs: Sequence[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    rows = []
    for rule in rules:
        for doc in docs:
            for match in _THRESHOLD.from_document(rule, doc, REPORTS_SCHEMA, now):
                rows.append({"rule_id": rule.id, "report_id": match.report_id, "group_key": store.db_key(match.key),
                             "match": store.match_to_json(match), "created_at": now, "drained_at": None})
    return rows


def record(session: Session, rules: Sequence[AlertRule], docs: Sequence[Mapping[str, Any]], now: datetime) -> int:
    """In the caller's transaction (the worker's batch); a report already in the inbox for a
    rule (a redelivery) is left as it is. Returns the rows offered."""
    rows = inbox_rows(rules, docs, now)
    insert_rows(session, AlertInbox.__table__, rows, conflict=["rule_id", "report_id", "group_key"])
    return len(rows)
