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
    for row in session.execute(sa.select(*columns).where(t.c.id.in_(newest))).mappings():
        out[row["dedup_key"]][from_db_key(row["group_key"])] = state_of(row)
    return out


def state_of(row: Any) -> AlertState:
    return AlertState(
        id=row["id"], state=row["state"], first_match_at=row["first_match_at"], opened_at=row["opened_at"],
        pending_since=row["pending_since"], condition_false_since=row["condition_false_since"],
        cleared_at=row["cleared_at"], closed_at=row["closed_at"],
        realert_interval=timedelta(seconds=row["realert_seconds"]), severity=row.get("severity"),
        tier=row.get("tier"), linked_until=row.get("linked_until"),
    )


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
    return {r.rule_id: RuleState(r.evaluated_until, r.errors_in_a_row, r.retry_at, True)
            for r in session.scalars(sa.select(AlertRuleState))}


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


def index_change_mark(session: Session) -> int | None:
    """The newest in-place change of indexed reports (see sliding.py)."""
    return session.scalar(sa.select(sa.func.max(AlertIndexChange.id)))
