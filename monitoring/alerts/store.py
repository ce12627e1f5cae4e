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
    LIVE_STATES, Alert, AlertIndexChange, AlertReport, AlertRuleState, AlertRun, AlertSilence, AlertSuppression,
)
from tierwatch.monitoring.alerts.types import Match
from tierwatch.monitoring.bulk import insert_rows, update_rows

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
    columns = [t.c[c] for c in ("id", "dedup_key", "group_key", "state", "first_match_at", "opened_at", "pending_since",
                                "condition_false_since", "cleared_at", "closed_at", "realert_seconds", "severity", "tier",
                                "linked_until")]
    # only what the decisions read: the JSON columns are most of the cost of reading an alert
    for (alert_id, dedup_key, group_key, state, first_match_at, opened_at, pending_since, false_since, cleared_at,
         closed_at, realert_seconds, severity, tier, linked_until) in session.execute(
            sa.select(*columns).where(t.c.id.in_(newest))):
        out[dedup_key][from_db_key(group_key)] = AlertState(
            alert_id, state, first_match_at, opened_at, pending_since, false_since, cleared_at, closed_at,
            timedelta(seconds=realert_seconds), severity, tier, linked_until)
    return out


def load_alerts(session: Session, ids: Sequence[int]) -> dict[int, Alert]:
    """These alerts, in a few queries (the caller keeps them: the session only holds weak
    references, so an alert nobody holds would be read again)."""
    out: dict[int, Alert] = {}
    for start in range(0, len(ids), 1000):
        out.update({a.id: a for a in session.scalars(sa.select(Alert).where(Alert.id.in_(ids[start:start + 1000])))})
    return out


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
    t = AlertRuleState.__table__  # rows, not ORM objects: read every cycle, never changed through the ORM
    return {rule_id: RuleState(until, errors, retry_at, True) for rule_id, until, errors, retry_at in session.execute(
        sa.select(t.c.rule_id, t.c.evaluated_until, t.c.errors_in_a_row, t.c.retry_at))}


class WatermarkMoved(RuntimeError):
    """Another evaluator committed this rule's windows meanwhile: this cycle must roll back."""


def advance(session: Session, moves: Sequence[tuple[AlertRule, RuleState | None, datetime]], now: datetime) -> None:
    """Move each rule's watermark from what this cycle read to its new end, all or nothing:
    WatermarkMoved if another evaluator moved any of them meanwhile."""
    t = AlertRuleState.__table__
    fresh, known_null, known = [], [], []
    for rule, state, until in moves:
        row = {"rule_id": rule.id, "evaluated_until": until, "checksum": rule.checksum, "errors_in_a_row": 0,
               "updated_at": now}
        if state is None or not state.known:
            fresh.append(row)
        elif state.evaluated_until is None:
            known_null.append(row)
        else:
            known.append({**row, "retry_at": None, "last_error": None, "was_evaluated_until": state.evaluated_until})
    if len(insert_rows(session, t, fresh, conflict=["rule_id"], returning=["rule_id"])) != len(fresh):
        raise WatermarkMoved("another evaluator started some of these rules meanwhile")
    # one statement for every rule (a cycle moves them all): compare-and-set on the old end
    if update_rows(session, t, ["rule_id"], known, unchanged=["evaluated_until"]) != len(known):
        raise WatermarkMoved("a watermark was moved by another evaluator")
    for row in known_null:  # after errors only: a watermark never set
        stmt = sa.update(t).where(t.c.rule_id == row["rule_id"], t.c.evaluated_until.is_(None)).values(
            evaluated_until=row["evaluated_until"], checksum=row["checksum"], errors_in_a_row=0, retry_at=None,
            last_error=None, updated_at=now)
        if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
            raise WatermarkMoved("a watermark was moved by another evaluator")


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
    insert_rows(session, AlertRun.__table__, runs)


# --- suppressions and links ------------------------------------------------------------------


class Suppressions:
    """Matches held back, counted per (rule, key, reason, target) during a cycle and written at
    its end in a handful of statements (a cycle may hold back a match for every live alert)."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    def add(self, rule_id: str, key: str | None, reason: str, at: datetime, *, alert_id: int | None = None,
            silence_id: int | None = None, until: datetime | None = None, report_ids: Sequence[str] = ()) -> None:
        target = f"alert:{alert_id}" if alert_id else f"silence:{silence_id}" if silence_id else ""
        entry = self.pending.setdefault((rule_id, db_key(key), reason, target), {
            "count": 0, "first_at": at, "alert_id": alert_id, "silence_id": silence_id, "samples": []})
        entry["count"] += 1
        entry["last_at"], entry["until"] = at, until  # a rule's ends are applied in order
        entry["samples"] = list(dict.fromkeys([*entry["samples"], *report_ids]))[:SAMPLES]

    def flush(self, session: Session) -> None:
        if not self.pending:
            return
        t = AlertSuppression.__table__
        rows = [{"rule_id": key[0], "group_key": key[1], "reason": key[2], "target": key[3],
                 "alert_id": e["alert_id"], "silence_id": e["silence_id"], "first_at": e["first_at"],
                 "last_at": e["last_at"], "count": e["count"], "until": e["until"], "sample_report_ids": e["samples"]}
                for key, e in self.pending.items()]
        # Most counters have no report to sample (an aggregated match of a counting rule): one
        # upsert adds them up. The others merge their samples with the stored ones first.
        plain = [r for r in rows if not r["sample_report_ids"]]
        insert_rows(session, t, plain, conflict=["rule_id", "group_key", "reason", "target"],
                    update={"count": "{t}.count + excluded.count", "last_at": "excluded.last_at",
                            "until": "excluded.until"})
        sampled = {(r["rule_id"], r["group_key"], r["reason"], r["target"]): r for r in rows if r["sample_report_ids"]}
        keys, updates = list(sampled), []
        for start in range(0, len(keys), 500):
            where = sa.tuple_(t.c.rule_id, t.c.group_key, t.c.reason, t.c.target).in_(keys[start:start + 500])
            for row in session.execute(sa.select(t.c.id, t.c.rule_id, t.c.group_key, t.c.reason, t.c.target,
                                                 t.c.sample_report_ids).where(where)):
                new = sampled.pop((row.rule_id, row.group_key, row.reason, row.target))
                samples = list(dict.fromkeys([*row.sample_report_ids, *new["sample_report_ids"]]))[:SAMPLES]
                updates.append({"id": row.id, "count": new["count"], "last_at": new["last_at"], "until": new["until"],
                                "sample_report_ids": samples})
        update_rows(session, t, ["id"], updates, add=["count"])
        if sampled:
            session.execute(t.insert(), list(sampled.values()))
        self.pending.clear()


def link_reports(session: Session, wanted: Mapping[int, tuple[Sequence[Mapping[str, Any]], int]],
                 at: datetime) -> dict[int, list[Mapping[str, Any]]]:
    """alert id -> (reports found, room): link up to ``room`` of them to each alert, in one
    statement for every alert; returns alert id -> the documents newly linked."""
    by_id: dict[tuple[int, str], Mapping[str, Any]] = {}
    for alert_id, (docs, room) in wanted.items():
        unique = {str(d["id"]): d for d in docs}
        by_id.update({(alert_id, rid): unique[rid] for rid in list(unique)[:max(room, 0)]})
    rows = [{"alert_id": alert_id, "report_id": rid, "linked_at": at} for alert_id, rid in by_id]
    inserted = insert_rows(session, AlertReport.__table__, rows, conflict=["alert_id", "report_id"],
                           returning=["alert_id", "report_id"])
    out: dict[int, list[Mapping[str, Any]]] = {}
    for alert_id, rid in inserted:
        out.setdefault(alert_id, []).append(by_id[(alert_id, rid)])
    return out


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


def index_change_mark(session: Session) -> int | None:
    """The newest in-place change of indexed reports (see sliding.py)."""
    return session.scalar(sa.select(sa.func.max(AlertIndexChange.id)))
