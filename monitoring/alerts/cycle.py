"""One evaluation cycle, in one transaction: the window ends each rule owes, the batched search,
the lifecycle's decisions, the alert rows they change, report links, suppression counters,
notifications (outbox), run records and the watermarks (compare-and-set).

All of it commits or none of it: a crash before the commit evaluates the same ends again (no
window missed), after it never again (none repeated). Threshold rules' matches found by the
worker in the stream (the inbox) are drained in the same transaction, through the same code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.core.ids import new_id
from tierwatch.core.search import SearchIndex
from tierwatch.monitoring.alerts import store
from tierwatch.monitoring.alerts.evaluator import evaluate
from tierwatch.monitoring.alerts.lifecycle import LIVE, AlertState, Change, apply, step
from tierwatch.monitoring.alerts.links import Links, looks_again
from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.models import LIVE_STATES, Alert, AlertEvent, AlertInbox
from tierwatch.monitoring.alerts.notify import Notifier
from tierwatch.monitoring.alerts.planner import PAGE_LIMIT, Due
from tierwatch.monitoring.alerts.schedule import MAX_CATCHUP, due_ends
from tierwatch.monitoring.alerts.sliding import Sliding
from tierwatch.monitoring.alerts.triage import DEFAULT_SLA, Sla, severity_rank
from tierwatch.monitoring.alerts.types import Match, group_field
from tierwatch.monitoring.bulk import insert_rows, update_rows
from tierwatch.monitoring.indexing import REPORTS_INDEX

log = logging.getLogger(__name__)
FAILING_AFTER = 5  # errors in a row that raise a system alert to the rule's owner
SYSTEM_RULE = "system.rule-failing"
STREAM_BATCH = 5000


@dataclass(frozen=True)
class CycleContext:
    search: SearchIndex
    index: str = REPORTS_INDEX
    evaluator: str = "evaluator"
    sla: Sla = DEFAULT_SLA
    notifier: Notifier = field(default_factory=Notifier)
    max_catchup: int = MAX_CATCHUP
    page_limit: int = PAGE_LIMIT
    # windows held in memory across cycles (sliding.py); None reads every window every cycle
    sliding: Sliding | None = None


@dataclass
class CycleResult:
    cycle_id: str
    evaluated: list[tuple[str, datetime]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    behind: bool = False  # some rule still owes more ends than one cycle takes
    opened: int = 0
    updated: int = 0
    suppressed: int = 0
    streamed: int = 0
    requests: int = 0  # searches and pages, report links included
    round_trips: int = 0  # batch calls (HTTP requests on Elasticsearch)
    distinct: int = 0  # distinct evaluation requests after merging
    seconds: float = 0.0


def run_cycle(session: Session, rules: Sequence[AlertRule], now: datetime, ctx: CycleContext) -> CycleResult:
    """Evaluate every enabled rule's owed window ends and drain the stream; the caller commits."""
    started = time.perf_counter()
    result = CycleResult(new_id())
    states = store.rule_states(session)
    due: list[Due] = []
    for rule in rules:
        state = states.get(rule.id)
        if not rule.enabled or (state is not None and state.retry_at is not None and state.retry_at > now):
            continue
        ends = due_ends(rule.schedule, state.evaluated_until if state else None, now, ctx.max_catchup + 1)
        result.behind |= len(ends) > ctx.max_catchup
        due += [Due(rule, end) for end in ends[:ctx.max_catchup]]
    if ctx.sliding is not None:
        ctx.sliding.start_cycle(store.index_change_mark(session))
    found = evaluate(ctx.search, ctx.index, due, page_limit=ctx.page_limit, sliding=ctx.sliding)
    if ctx.sliding is not None:
        ctx.sliding.end_cycle()
    result.requests, result.round_trips, result.distinct = found.requests, found.round_trips, found.distinct
    threshold_rules = [r for r in rules if r.type == "threshold" and r.enabled]
    keys = {d.rule.realert_key for d in due} | {r.realert_key for r in threshold_rules}
    latest = store.latest_alerts(session, keys, now)
    writer = _Writer(session, ctx, now, result, latest, store.active_silences(session, now))
    # The live alerts this cycle may change beyond their numbers, in one query, not one per
    # alert touched. The others, matching again, are updated in one statement (_Writer.in_place).
    writer.touched.update(store.load_alerts(session, [a.id for by_key in latest.values() for a in by_key.values()
                                                      if a.state in LIVE_STATES and not _numbers_only(a, now)]))
    search_share = found.seconds / max(len(due), 1)
    moves: list[tuple[AlertRule, store.RuleState | None, datetime]] = []
    by_rule: dict[str, list[Due]] = {}
    for d in due:
        by_rule.setdefault(d.rule.id, []).append(d)
    for rule_id, dues in by_rule.items():
        rule = dues[0].rule
        if rule_id in found.errors:
            writer.failed(rule, states.get(rule_id), dues[0].end, found.errors[rule_id])
            continue
        for d in dues:
            t0 = time.perf_counter()
            matches = found.by_end.get((rule_id, d.end), [])
            if rule.type == "threshold":
                matches = writer.first_sightings(rule, matches)
            counts = writer.decide(rule, d.end, matches)
            writer.run(rule, d.end, "schedule", counts, search_share + time.perf_counter() - t0)
            result.evaluated.append((rule_id, d.end))
        moves.append((rule, states.get(rule_id), dues[-1].end))
    store.advance(session, moves, now)
    writer.drain_stream(threshold_rules)
    writer.finish()
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class _Counts:
    matches: int = 0
    opened: int = 0
    updated: int = 0
    suppressed: int = 0


class _Writer:
    """Applies the lifecycle's changes to the alert rows as they are decided; report links,
    summaries, notifications and index updates wait for ``finish`` (one batched search)."""

    def __init__(self, session: Session, ctx: CycleContext, now: datetime, result: CycleResult,
                 latest: dict[str, dict[str | None, AlertState]], silences: list[Any]):
        self.session, self.ctx, self.now, self.result = session, ctx, now, result
        self.latest, self.silences = latest, silences
        self.links = Links(ctx.search, ctx.index)
        self.held = store.Suppressions()
        self.events: list[tuple[Alert, str, AlertEvent]] = []  # to notify once linked
        self.touched: dict[int, Alert] = {}  # loaded (live ones, up front) or created this cycle
        self.changed: dict[int, Alert] = {}  # written this cycle: to re-index
        self.runs: list[dict[str, Any]] = []
        self.in_place: dict[int, dict[str, Any]] = {}  # alert id -> columns to set (see _in_place)

    # --- deciding --------------------------------------------------------------------------

    def decide(self, rule: AlertRule, end: datetime, matches: Sequence[Match]) -> _Counts:
        latest = self.latest.setdefault(rule.realert_key, {})
        counts = _Counts(matches=len(matches))
        for change in step(rule, end, matches, latest, self.silences):
            alert_id = self.apply(rule, end, change, latest.get(change.key))
            after = apply(latest.get(change.key), change, end, alert_id or 0)
            if after is not None:
                latest[change.key] = after
            if change.action in ("open", "pend", "reopen"):
                counts.opened += 1
            elif change.action == "suppress":
                counts.suppressed += 1
            elif change.action != "false_since":
                counts.updated += 1
        self.result.opened += counts.opened
        self.result.updated += counts.updated
        self.result.suppressed += counts.suppressed
        return counts

    def apply(self, rule: AlertRule, at: datetime, change: Change, before: AlertState | None) -> int | None:
        """Write one change; returns the alert's id (a new alert's, once inserted)."""
        match, action = change.match, change.action
        if before is not None and self._in_place(at, change, before):
            if action == "aggregate":
                self.held.add(rule.id, change.key, "aggregated", at, alert_id=before.id)
            return before.id
        if action == "suppress":
            assert match is not None
            self.held.add(rule.id, change.key, change.reason or "", at, alert_id=change.alert_id,
                          silence_id=change.silence_id, until=change.until,
                          report_ids=[match.report_id] if match.report_id else [])
            return change.alert_id
        if action in ("open", "pend"):
            assert match is not None
            alert = self._create(rule, at, change, match)
        else:
            assert change.alert_id is not None
            alert = self._alert(change.alert_id)
        if match is not None and action != "open" and action != "pend":
            self._matched(rule, alert, match, at)
        if action == "aggregate":
            self.held.add(rule.id, change.key, "aggregated", at, alert_id=alert.id,
                          report_ids=[match.report_id] if match and match.report_id else [])
        elif action == "promote":
            alert.state, alert.opened_at, alert.condition_false_since = "open", at, None
            alert.ack_due_at, alert.resolve_due_at = self.ctx.sla.due(alert.severity, at)
            self._event(alert, at, "opened", {"after_pending": True})
        elif action == "reopen":
            alert.state, alert.cleared_at, alert.condition_false_since = "open", None, None
            alert.reopen_count += 1
            if alert.acknowledged_at is None:
                alert.ack_due_at = at + (self.ctx.sla.clocks.get(alert.severity) or self.ctx.sla.clocks["low"])[0]
            self._event(alert, at, "reopened", {})
        elif action == "clear":
            alert.state, alert.cleared_at = "cleared", at
            self._event(alert, at, "cleared", {"false_since": _iso(alert.condition_false_since)})
        elif action == "false_since":
            alert.condition_false_since = at
        elif action == "withdraw":
            alert.state, alert.closed_at = "withdrawn", at
            self.held.add(rule.id, change.key, "pending_not_sustained", at, alert_id=alert.id)
            self._event(alert, at, "withdrawn", {})
        elif action == "auto_resolve":
            alert.state, alert.closed_at, alert.verdict = "resolved", at, "auto_resolved"
            self._event(alert, at, "resolved", {"verdict": "auto_resolved", "quiet_for": str(rule.auto_resolve_after)})
        elif action == "supersede":
            alert.state, alert.closed_at, alert.verdict = "resolved", at, "superseded"
            self._event(alert, at, "resolved", {"verdict": "superseded"})
        alert.updated_at, alert.version = self.now, alert.version + 1
        self.touched[alert.id] = self.changed[alert.id] = alert
        return alert.id

    def _create(self, rule: AlertRule, at: datetime, change: Change, match: Match) -> Alert:
        opened = change.action == "open"
        ack_due, resolve_due = self.ctx.sla.due(match.severity, at) if opened else (None, None)
        alert = Alert(
            rule_id=rule.id, rule_checksum=rule.checksum, dedup_key=rule.realert_key,
            group_key=store.db_key(match.key), group_field=group_field(rule), state=change.state or "open",
            severity=match.severity, tier=match.tier, owner=rule.owner, rule_group=rule.group,
            title=store.text_dict(rule.title), summary=store.text_dict(match.reason),
            reason=store.text_dict(match.reason), value=store.finite(match.value), threshold=match.threshold,
            counts=dict(match.counts), facets={}, window_start=match.start, window_end=match.end,
            first_match_at=at, last_match_at=at, match_count=1, report_count=0, identifiers=[],
            application_ids=[], campaign_ids=[], pending_since=None if opened else at,
            opened_at=at if opened else None, realert_seconds=int((change.realert_interval or timedelta(0)).total_seconds()),
            ack_due_at=ack_due, resolve_due_at=resolve_due, overdue_ack=False, overdue_resolve=False,
            reopen_count=0, version=1, created_at=self.now, updated_at=self.now,
        )
        self.session.add(alert)
        self.session.flush()
        self.links.want(rule, alert, match)
        self._event(alert, at, "opened" if opened else "pending", {"value": alert.value, "threshold": match.threshold})
        return alert

    def _matched(self, rule: AlertRule, alert: Alert, match: Match, at: datetime) -> None:
        """The condition holds again for a live alert: newest numbers, severity only rises."""
        alert.value, alert.threshold, alert.counts = store.finite(match.value), match.threshold, dict(match.counts)
        alert.reason = store.text_dict(match.reason)
        alert.window_start, alert.window_end, alert.last_match_at = match.start, match.end, at
        alert.match_count += 1
        alert.condition_false_since = None
        if match.tier is not None and (alert.tier is None or severity_rank(match.severity) >= severity_rank(alert.severity)):
            alert.tier = match.tier
        if severity_rank(match.severity) > severity_rank(alert.severity):
            before, alert.severity = alert.severity, match.severity
            if alert.opened_at is not None:
                alert.ack_due_at, alert.resolve_due_at = self.ctx.sla.due(alert.severity, alert.opened_at)
            self._event(alert, at, "severity_raised", {"before": before, "after": alert.severity})
        self.links.want(rule, alert, match)

    def _in_place(self, at: datetime, change: Change, before: AlertState) -> bool:
        """A live alert not loaded this cycle that matches again, or first fails to, with nothing
        but its numbers changing (no new state, severity or report to link): its new values go
        to ``in_place``, written with the others' in one statement. In a steady burst that is
        nearly every live alert, every cycle."""
        if before.id in self.touched or not (change.action == "false_since" or (
                change.action == "aggregate" and change.match is not None and _numbers_only(before, change.match.end)
                and not change.match.report_id and before.severity is not None
                and severity_rank(change.match.severity) <= severity_rank(before.severity))):
            return False
        row = self.in_place.setdefault(before.id, {"match_count": 0, "version": 0})
        row["version"] += 1
        row["updated_at"] = self.now
        if change.action == "false_since":
            row["condition_false_since"] = at
            return True
        match = change.match
        assert match is not None
        row.update(value=store.finite(match.value), threshold=match.threshold, counts=dict(match.counts),
                   reason=store.text_dict(match.reason), window_start=match.start, window_end=match.end,
                   last_match_at=at, condition_false_since=None, match_count=row["match_count"] + 1)
        tier = row.get("tier", before.tier)
        if match.tier is not None and (tier is None or severity_rank(match.severity) >= severity_rank(before.severity)):
            row["tier"] = match.tier
        return True

    def _alert(self, alert_id: int) -> Alert:
        alert = self.touched.get(alert_id) or self.session.get(Alert, alert_id)
        assert alert is not None, f"alert {alert_id} vanished during the cycle"
        row = self.in_place.pop(alert_id, None)
        if row is not None:  # changed in place earlier this cycle, now more: the ORM writes it all
            for column, value in row.items():
                setattr(alert, column, getattr(alert, column) + value if column in IN_PLACE_ADDED else value)
        self.touched[alert_id] = alert
        return alert

    def _event(self, alert: Alert, at: datetime, action: str, data: dict[str, Any]) -> None:
        event = AlertEvent(alert_id=alert.id, at=at, actor="system:alerts", actor_id=None, action=action, data=data)
        self.session.add(event)
        self.events.append((alert, action, event))

    # --- threshold rules: each report fires once, whichever path sees it first --------------

    def first_sightings(self, rule: AlertRule, matches: Sequence[Match]) -> list[Match]:
        if not matches:
            return []
        rows = [{"rule_id": rule.id, "report_id": m.report_id, "group_key": store.db_key(m.key),
                 "match": store.match_to_json(m), "created_at": self.now, "drained_at": self.now}
                for m in matches if m.report_id]
        fresh = {(r, k) for r, k in insert_rows(self.session, AlertInbox.__table__, rows,
                                                 conflict=["rule_id", "report_id", "group_key"],
                                                 returning=["report_id", "group_key"])}
        return [m for m in matches if (m.report_id, store.db_key(m.key)) in fresh]

    def drain_stream(self, rules: Sequence[AlertRule]) -> None:
        t = AlertInbox.__table__
        rows = self.session.execute(sa.select(t).where(t.c.drained_at.is_(None))
                                    .order_by(t.c.created_at).limit(STREAM_BATCH)).mappings().all()
        if not rows:
            return
        by_rule: dict[str, list[Match]] = {}
        for row in rows:
            by_rule.setdefault(row["rule_id"], []).append(store.match_from_json(row["match"]))
        for rule in rules:
            matches = by_rule.get(rule.id)
            if not matches:
                continue
            t0 = time.perf_counter()
            counts = self.decide(rule, self.now, matches)
            self.run(rule, self.now, "stream", counts, time.perf_counter() - t0)
            self.result.streamed += len(matches)
        # rows of rules no longer in force are drained too: nothing will ever read them
        for chunk_start in range(0, len(rows), 500):
            chunk = rows[chunk_start:chunk_start + 500]
            self.session.execute(sa.update(t).where(sa.tuple_(t.c.rule_id, t.c.report_id, t.c.group_key).in_(
                [(r["rule_id"], r["report_id"], r["group_key"]) for r in chunk])).values(drained_at=self.now))

    # --- failures and run records -------------------------------------------------------------

    def failed(self, rule: AlertRule, state: store.RuleState | None, end: datetime, error: str) -> None:
        errors = store.record_error(self.session, rule, state, error, self.now)
        self.result.errors[rule.id] = error
        self.run(rule, end, "schedule", _Counts(), 0.0, error)
        log.warning("alert rule %s failed (%d in a row): %s", rule.id, errors, error)
        if errors == FAILING_AFTER:
            self._system_alert(rule, error)

    def _system_alert(self, rule: AlertRule, error: str) -> None:
        live = self.session.scalar(sa.select(Alert.id).where(
            Alert.dedup_key == SYSTEM_RULE, Alert.group_key == rule.id,
            Alert.state.in_(("pending", "open", "acknowledged", "escalated", "cleared"))))
        if live is not None:
            return
        text = {"zh": f"告警规则 {rule.id} 连续 {FAILING_AFTER} 次执行失败：{error[:300]}",
                "en": f"alert rule {rule.id} failed {FAILING_AFTER} times in a row: {error[:300]}"}
        ack_due, resolve_due = self.ctx.sla.due("high", self.now)
        alert = Alert(rule_id=SYSTEM_RULE, rule_checksum=rule.checksum, dedup_key=SYSTEM_RULE, group_key=rule.id,
                      group_field="rule_id", state="open", severity="high", tier=None, owner=rule.owner,
                      rule_group="system", title={"zh": "告警规则执行失败", "en": "Alert rule failing"},
                      summary=text, reason=text, value=float(FAILING_AFTER), threshold=float(FAILING_AFTER),
                      counts={}, facets={}, window_start=self.now, window_end=self.now, first_match_at=self.now,
                      last_match_at=self.now, match_count=1, report_count=0, identifiers=[], application_ids=[],
                      campaign_ids=[], opened_at=self.now, ack_due_at=ack_due, resolve_due_at=resolve_due,
                      overdue_ack=False, overdue_resolve=False, reopen_count=0, realert_seconds=0, version=1,
                      created_at=self.now, updated_at=self.now)
        self.session.add(alert)
        self.session.flush()
        self.touched[alert.id] = self.changed[alert.id] = alert
        self._event(alert, self.now, "opened", {"rule_id": rule.id})

    def run(self, rule: AlertRule, end: datetime, source: str, counts: _Counts, seconds: float,
            error: str | None = None) -> None:
        window = getattr(rule.options, "window", None) or rule.schedule.every
        self.runs.append({
            "cycle_id": self.result.cycle_id, "evaluator": self.ctx.evaluator[:100], "source": source,
            "rule_id": rule.id, "rule_checksum": rule.checksum,
            "window_start": end - window if source == "schedule" else None, "window_end": end,
            "matches": counts.matches, "opened": counts.opened, "updated": counts.updated,
            "suppressed": counts.suppressed, "requests": self.result.requests, "took_ms": int(seconds * 1000),
            "error": error, "at": self.now,
        })

    # --- after every decision: links, summaries, notifications, index ------------------------

    def finish(self) -> None:
        self.links.fetch_and_link(self.session, self.now)
        self.result.requests += self.links.requests
        self.result.round_trips += self.links.round_trips
        self.session.flush()  # event ids, for the notifications' dedup keys
        for alert, action, event in self.events:
            self.ctx.notifier.event(self.session, alert, action, event.id, self.now)
        self._write_in_place()
        # The alerts index serves the analysts' search (words, keys, states): an alert whose
        # numbers alone moved reaches it again with its next link refresh (LINK_EVERY).
        self.ctx.notifier.changed(self.session, list(self.changed), self.now)
        self.held.flush(self.session)
        store.add_runs(self.session, self.runs)


    def _write_in_place(self) -> None:
        by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for alert_id, row in self.in_place.items():
            by_shape.setdefault(tuple(sorted(row)), []).append({"id": alert_id, **row})
        for rows in by_shape.values():  # a row of one shape only: a missing column is not NULL
            update_rows(self.session, Alert.__table__, ["id"], rows, add=IN_PLACE_ADDED)


IN_PLACE_ADDED = ("match_count", "version")


def _numbers_only(alert: AlertState, end: datetime) -> bool:
    """A live alert matching at ``end`` would change only its numbers: open, acknowledged or
    escalated, and not due to look for new reports."""
    return alert.state in LIVE[1:] and not looks_again(alert.linked_until, end)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
