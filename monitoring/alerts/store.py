"""Alerting's reads and small writes on the database: what the decisions need (the latest alert
per key, silences, watermarks), the watermark's compare-and-set, run records, suppression
counters and report links. The cycle (``cycle.py``) puts them together in one transaction."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.monitoring.alerts.lifecycle import AlertState, Silence
from tierwatch.monitoring.alerts.model import AlertRule, Text
from tierwatch.monitoring.alerts.models import (
    LIVE_STATES, Alert, AlertReport, AlertRuleState, AlertRun, AlertSilence, AlertSuppression,
)
from tierwatch.monitoring.alerts.types import Match
from tierwatch.monitoring.bulk import insert_rows

# Closed alerts older than this hold nothing back any more (the longest re-alert window a rule
# file can reasonably ask for); older history is not read by the evaluator.
HISTORY = timedelta(days=90)
SAMPLES = 10  # report ids kept per suppression counter


def db_key(key: str | None) -> str:
    """A group key as stored: a rule without group_by has one group, ""."""
    return "" if key is None else key


def from_db_key(key: str) -> str | None:
    return key or None


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# --- what the decisions read -------------------------------------------------------------------


def latest_alerts(session: Session, dedup_keys: Iterable[str], now: datetime
                  ) -> dict[str, dict[str | None, AlertState]]:
    """dedup key -> group key -> the latest alert of that key (live, or closed recently enough
    to hold a new one back)."""
    keys = sorted(set(dedup_keys))
    out: dict[str, dict[str | None, AlertState]] = {k: {} for k in keys}
    if not keys:
        return out
    t = Alert.__table__
    recent = sa.or_(t.c.state.in_(LIVE_STATES), t.c.closed_at >= now - HISTORY)
    newest = (sa.select(sa.func.max(t.c.id)).where(t.c.dedup_key.in_(keys), recent)
              .group_by(t.c.dedup_key, t.c.group_key))
    for row in session.execute(sa.select(t).where(t.c.id.in_(newest))).mappings():
        out[row["dedup_key"]][from_db_key(row["group_key"])] = state_of(row)
    return out


def state_of(row: Any) -> AlertState:
    return AlertState(
        id=row["id"], state=row["state"], first_match_at=row["first_match_at"], opened_at=row["opened_at"],
        pending_since=row["pending_since"], condition_false_since=row["condition_false_since"],
        cleared_at=row["cleared_at"], closed_at=row["closed_at"],
        realert_interval=timedelta(seconds=row["realert_seconds"]),
    )


def active_silences(session: Session, now: datetime) -> list[Silence]:
    t = AlertSilence.__table__
    rows = session.execute(sa.select(t).where(t.c.revoked_at.is_(None), t.c.expires_at > now,
                                              t.c.starts_at <= now)).mappings()
    return [Silence(r["id"], r["rule_id"], r["group_key"], r["starts_at"], r["expires_at"]) for r in rows]


@dataclass
class RuleState:
    evaluated_until: datetime | None
    errors_in_a_row: int
    retry_at: datetime | None
    known: bool  # a row exists


def rule_states(session: Session) -> dict[str, RuleState]:
    return {r.rule_id: RuleState(r.evaluated_until, r.errors_in_a_row, r.retry_at, True)
            for r in session.scalars(sa.select(AlertRuleState))}


class WatermarkMoved(RuntimeError):
    """Another evaluator committed this rule's windows meanwhile: this cycle must roll back."""


def advance(session: Session, rule: AlertRule, state: RuleState | None, until: datetime, now: datetime) -> None:
    """Move the watermark from what this cycle read to ``until``, or raise WatermarkMoved."""
    t = AlertRuleState.__table__
    values = {"evaluated_until": until, "checksum": rule.checksum, "errors_in_a_row": 0,
              "retry_at": None, "last_error": None, "updated_at": now}
    if state is None or not state.known:
        inserted = insert_rows(session, t, [{"rule_id": rule.id, **values}], conflict=["rule_id"],
                               returning=["rule_id"])
        if not inserted:
            raise WatermarkMoved(f"rule {rule.id}: another evaluator started it meanwhile")
        return
    was = t.c.evaluated_until.is_(None) if state.evaluated_until is None else t.c.evaluated_until == state.evaluated_until
    done = session.execute(sa.update(t).where(t.c.rule_id == rule.id, was).values(**values))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise WatermarkMoved(f"rule {rule.id}: watermark moved by another evaluator")


def record_error(session: Session, rule: AlertRule, state: RuleState | None, error: str, now: datetime) -> int:
    """The rule failed this cycle: its watermark stays (the windows are owed), it is retried
    after 2^n cycles of its schedule (at most 60). Returns the errors in a row."""
    errors = (state.errors_in_a_row if state else 0) + 1
    retry_at = now + rule.schedule.every * min(2 ** (errors - 1), 60)
    t = AlertRuleState.__table__
    values = {"checksum": rule.checksum, "errors_in_a_row": errors, "retry_at": retry_at,
              "last_error": error[:2000], "updated_at": now}
    if state is None or not state.known:
        insert_rows(session, t, [{"rule_id": rule.id, "evaluated_until": None, **values}], conflict=["rule_id"],
                    update={k: f"excluded.{k}" for k in values})
    else:
        session.execute(sa.update(t).where(t.c.rule_id == rule.id).values(**values))
    return errors


def add_runs(session: Session, runs: Sequence[dict[str, Any]]) -> None:
    if runs:
        session.execute(sa.insert(AlertRun.__table__), list(runs))


# --- suppressions and links ------------------------------------------------------------------


def count_suppression(session: Session, rule_id: str, key: str | None, reason: str, at: datetime, *,
                      alert_id: int | None = None, silence_id: int | None = None, until: datetime | None = None,
                      report_ids: Sequence[str] = ()) -> None:
    """One more match held back for this (rule, key, reason, target), with a few report ids."""
    t = AlertSuppression.__table__
    target = f"alert:{alert_id}" if alert_id else f"silence:{silence_id}" if silence_id else ""
    where = (t.c.rule_id == rule_id, t.c.group_key == db_key(key), t.c.reason == reason, t.c.target == target)
    row = session.execute(sa.select(t.c.id, t.c.sample_report_ids).where(*where)).first()
    if row is None:
        session.execute(t.insert().values(
            rule_id=rule_id, group_key=db_key(key), reason=reason, target=target, alert_id=alert_id,
            silence_id=silence_id, first_at=at, last_at=at, count=1, until=until,
            sample_report_ids=list(dict.fromkeys(report_ids))[:SAMPLES]))
        return
    samples = list(dict.fromkeys([*row.sample_report_ids, *report_ids]))[:SAMPLES]
    # Cycles apply a rule's window ends in order, so ``at`` only grows.
    session.execute(t.update().where(t.c.id == row.id).values(
        count=t.c.count + 1, last_at=at, until=until, sample_report_ids=samples))


def link_reports(session: Session, alert_id: int, docs: Sequence[Mapping[str, Any]], room: int,
                 at: datetime) -> list[Mapping[str, Any]]:
    """Link up to ``room`` of these reports to the alert; returns the documents newly linked."""
    if room <= 0 or not docs:
        return []
    by_id = {str(d["id"]): d for d in docs}
    rows = [{"alert_id": alert_id, "report_id": rid, "linked_at": at} for rid in list(by_id)[:room]]
    inserted = insert_rows(session, AlertReport.__table__, rows, conflict=["alert_id", "report_id"],
                           returning=["report_id"])
    return [by_id[r[0]] for r in inserted]


def text_dict(text: Text) -> dict[str, str]:
    return {"zh": text.zh, "en": text.en}


def match_to_json(match: Match) -> dict[str, Any]:
    return {"rule_id": match.rule_id, "key": match.key, "start": match.start.isoformat(),
            "end": match.end.isoformat(), "value": match.value, "threshold": match.threshold,
            "tier": match.tier, "severity": match.severity, "reason": text_dict(match.reason),
            "counts": dict(match.counts), "report_id": match.report_id}


def match_from_json(data: Mapping[str, Any]) -> Match:
    return Match(data["rule_id"], data["key"], _dt(data["start"]), _dt(data["end"]), float(data["value"]),
                 float(data["threshold"]), data["tier"], data["severity"], Text(**data["reason"]),
                 dict(data["counts"]), data.get("report_id"))


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
