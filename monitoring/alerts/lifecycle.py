"""What the matches of one rule at one window end do to its alerts. Pure: the rule, the matches,
the latest alert per key and the silences in; the changes out, for the store to apply in the
cycle's transaction.

Per key: a silence suppresses; a live alert absorbs the match (aggregation, one alert per burst);
a cleared alert is reopened within ``reopen_within``; a recent closed one holds new alerts back
for the re-alert interval (which doubles while alerts keep coming, up to ``realert.max``);
otherwise a new alert, pending first if the rule has a pending period. Live alerts whose key did
not match: pending ones are withdrawn (a flap), others clear once false for ``clear_after``.
A cleared alert waits for an analyst's verdict, unless the rule says ``auto_resolve_after``.
Every held-back match is a change with a reason, so an analyst can see it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.types import TYPES, Match

LIVE = ("pending", "open", "acknowledged", "escalated")
CLOSED = ("resolved", "false_positive", "withdrawn")

Action = Literal["pend", "open", "promote", "aggregate", "reopen", "clear", "withdraw", "false_since", "suppress",
                 "auto_resolve", "supersede"]
Reason = Literal["silence", "aggregated", "realert", "pending_not_sustained"]


@dataclass(frozen=True)
class AlertState:
    """The latest alert of one (dedup key, group key), as the store loads it."""

    id: int
    state: str  # LIVE, "cleared" or CLOSED
    first_match_at: datetime
    opened_at: datetime | None = None
    pending_since: datetime | None = None
    condition_false_since: datetime | None = None
    cleared_at: datetime | None = None
    closed_at: datetime | None = None
    realert_interval: timedelta = timedelta(0)
    # what the cycle needs to update a live alert that matches again without loading it
    severity: str | None = None
    tier: str | None = None
    linked_until: datetime | None = None


@dataclass(frozen=True)
class Silence:
    id: int
    rule_id: str | None  # None: every rule
    key: str | None  # None: every key of the rule
    starts_at: datetime
    expires_at: datetime

    def covers(self, rule_id: str, key: str | None, at: datetime) -> bool:
        return (self.starts_at <= at < self.expires_at and self.rule_id in (None, rule_id)
                and self.key in (None, key))


@dataclass(frozen=True)
class Change:
    action: Action
    key: str | None
    alert_id: int | None = None  # None: a new alert
    state: str | None = None  # the alert's state afterwards
    match: Match | None = None
    reason: Reason | None = None  # for "suppress", and "aggregate" (recorded as held back)
    silence_id: int | None = None
    until: datetime | None = None  # a re-alert suppression lasts until
    realert_interval: timedelta | None = None  # of a new alert


def realert_until(rule: AlertRule, alert: AlertState) -> datetime | None:
    """When the key may raise a new alert after this one (None: not held back)."""
    if alert.state == "withdrawn":
        return None  # never notified: a flap holds nothing back
    ended = alert.closed_at or alert.cleared_at
    return None if ended is None else ended + (alert.realert_interval or rule.realert.after)


def next_interval(rule: AlertRule, previous: AlertState | None, now: datetime) -> timedelta:
    """ElastAlert's exponential realert: double while alerts come within twice the interval."""
    base = rule.realert.after
    if rule.realert.max is None or previous is None or previous.opened_at is None or not base:
        return base
    interval = previous.realert_interval or base
    if now - previous.opened_at < 2 * interval:
        return min(2 * interval, rule.realert.max)
    return base


def step(rule: AlertRule, end: datetime, matches: Sequence[Match],
         latest: Mapping[str | None, AlertState], silences: Sequence[Silence]) -> Iterator[Change]:
    """The changes for one rule at one window end (``end`` is also "now" for the timers).

    A generator: the caller applies each change and puts the alert it leaves into ``latest``
    before asking for the next, so a second match of the same key in one step (per-report rules
    grouped by a field: two reports of one scam type) joins the alert the first one opened."""
    matched = {m.key for m in matches}
    for match in matches:
        alert = latest.get(match.key)
        change = _on_match(rule, end, match, alert, silences)
        if change.action in ("open", "pend") and alert is not None and alert.state == "cleared":
            # A cleared alert past its reopen window gives way to the new one: one live alert
            # per key (the database insists), the old one closed as superseded.
            yield Change("supersede", match.key, alert.id, "resolved")
        yield change
    for key, state in list(latest.items()):
        if key not in matched:
            quiet = _on_quiet(rule, end, key, state)
            if quiet is not None:
                yield quiet


def _on_match(rule: AlertRule, now: datetime, match: Match, alert: AlertState | None,
              silences: Sequence[Silence]) -> Change:
    key = match.key
    for silence in silences:
        if silence.covers(rule.id, key, now):
            return Change("suppress", key, match=match, reason="silence", silence_id=silence.id)
    if alert is not None and alert.state in LIVE:
        if alert.state == "pending" and alert.pending_since is not None and now - alert.pending_since >= rule.pending:
            return Change("promote", key, alert.id, "open", match)
        return Change("aggregate", key, alert.id, alert.state, match, reason="aggregated")
    if alert is not None and alert.state == "cleared" and alert.cleared_at is not None \
            and now - alert.cleared_at <= rule.reopen_within:
        return Change("reopen", key, alert.id, "open", match)
    if alert is not None:
        until = realert_until(rule, alert)
        if until is not None and now < until:
            return Change("suppress", key, alert.id, alert.state, match, reason="realert", until=until)
    interval = next_interval(rule, alert, now)
    if rule.pending:
        return Change("pend", key, None, "pending", match, realert_interval=interval)
    return Change("open", key, None, "open", match, realert_interval=interval)


def _on_quiet(rule: AlertRule, now: datetime, key: str | None, alert: AlertState) -> Change | None:
    """A live (or cleared) alert whose condition did not hold at this end."""
    if alert.state == "cleared":
        quiet = rule.auto_resolve_after
        if quiet is not None and alert.cleared_at is not None and now - alert.cleared_at >= quiet:
            return Change("auto_resolve", key, alert.id, "resolved")
        return None
    if alert.state == "pending":
        return Change("withdraw", key, alert.id, "withdrawn", reason="pending_not_sustained")
    if alert.state not in LIVE[1:] or not TYPES[rule.type].clears:
        return None
    since = alert.condition_false_since or now
    if now - since >= rule.clear_after:
        return Change("clear", key, alert.id, "cleared")
    if alert.condition_false_since is None:
        return Change("false_since", key, alert.id, alert.state)
    return None


def apply(alert: AlertState | None, change: Change, now: datetime, new_id: int) -> AlertState | None:
    """The alert after a change: what the store writes, and what replays (test-rule) keep in
    memory between ends."""
    if change.action in ("open", "pend"):
        return AlertState(new_id, change.state or "open", now, opened_at=now if change.action == "open" else None,
                          pending_since=now if change.action == "pend" else None,
                          realert_interval=change.realert_interval or timedelta(0))
    if alert is None:
        return None
    if change.action == "promote":
        return replace(alert, state="open", opened_at=now, condition_false_since=None)
    if change.action == "reopen":
        return replace(alert, state="open", cleared_at=None, condition_false_since=None)
    if change.action == "clear":
        return replace(alert, state="cleared", cleared_at=now)
    if change.action in ("auto_resolve", "supersede"):
        return replace(alert, state="resolved", closed_at=now)
    if change.action == "withdraw":
        return replace(alert, state="withdrawn", closed_at=now)
    if change.action == "false_since":
        return replace(alert, condition_false_since=now)
    if change.action == "aggregate" and alert.condition_false_since is not None:
        return replace(alert, condition_false_since=None)
    return alert
