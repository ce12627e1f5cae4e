"""A dry run of a rule over indexed history (ElastAlert's elastalert-test-rule, and more): every
window end of the last N days at the rule's own schedule, evaluated in batches (many ends share
one request), the alert decisions replayed in memory, nothing written. Also what the rule costs:
search requests per hour at its schedule, what it adds to a rule set, and its p95 query time.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tierwatch.core.search import SearchIndex
from tierwatch.monitoring.alerts.evaluator import evaluate
from tierwatch.monitoring.alerts.lifecycle import AlertState, apply, step
from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.planner import Due, plan
from tierwatch.monitoring.alerts.schedule import aligned_end

CHUNK = 60  # window ends per evaluation batch (one request per rule holds this many windows)
SHOWN = ("open", "pend", "promote", "reopen", "clear", "withdraw", "auto_resolve", "supersede")


@dataclass(frozen=True)
class Event:
    at: datetime
    action: str
    key: str | None
    alert: int  # the replay's own numbering of the alerts it would raise
    value: float | None = None
    threshold: float | None = None
    severity: str | None = None
    reason: str = ""


@dataclass
class Replay:
    rule: AlertRule
    start: datetime
    end: datetime
    evaluations: int = 0
    events: list[Event] = field(default_factory=list)
    updates: Counter[int] = field(default_factory=Counter)  # alert -> matches merged into it
    held_back: Counter[str] = field(default_factory=Counter)  # reason -> count
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    round_trips: int = 0

    @property
    def raised(self) -> list[Event]:
        return [e for e in self.events if e.action in ("open", "pend")]


def replay(search: SearchIndex, index: str, rule: AlertRule, days: float, end: datetime) -> Replay:
    last = aligned_end(end - rule.schedule.buffer, rule.schedule.every)
    count = int(timedelta(days=days) / rule.schedule.every)
    ends = [last - i * rule.schedule.every for i in range(count - 1, -1, -1)]
    result = Replay(rule, ends[0] if ends else last, last)
    latest: dict[str | None, AlertState] = {}
    numbers: dict[int, int] = {}
    for start in range(0, len(ends), CHUNK):
        chunk = ends[start:start + CHUNK]
        cycle = evaluate(search, index, [Due(rule, e) for e in chunk])
        result.requests += cycle.requests
        result.round_trips += cycle.round_trips
        if rule.id in cycle.errors:
            result.errors.append(f"{chunk[0]:%Y-%m-%d %H:%M}..{chunk[-1]:%H:%M}: {cycle.errors[rule.id]}")
            continue
        for at in chunk:
            result.evaluations += 1
            for change in step(rule, at, cycle.by_end.get((rule.id, at), []), latest, ()):
                new_id = len(numbers) + 1
                after = apply(latest.get(change.key), change, at, -new_id)
                if after is not None:
                    if change.action in ("open", "pend"):
                        numbers[after.id] = new_id
                    latest[change.key] = after
                number = numbers.get(change.alert_id or (after.id if after else 0), 0)
                if change.action in SHOWN:
                    m = change.match
                    result.events.append(Event(at, change.action, change.key, number, m.value if m else None,
                                               m.threshold if m else None, m.severity if m else None,
                                               m.reason.en if m else ""))
                elif change.action == "aggregate":
                    result.updates[number] += 1
                if change.reason is not None:
                    result.held_back[change.reason] += 1
    return result


@dataclass(frozen=True)
class Cost:
    evaluations_per_hour: float
    requests_per_evaluation: float  # measured, pages included
    requests_per_hour: float
    added_to_rule_set: int | None  # distinct requests the rule adds to the set (None: no set given)
    shares_with: tuple[str, ...]
    p95_ms: float
    samples: int


def cost(search: SearchIndex, index: str, rule: AlertRule, days: float, end: datetime,
         rule_set: Sequence[AlertRule] = (), samples: int = 20, seed: int = 13) -> Cost:
    """What the rule costs in production: single evaluations at random ends of the period, timed
    one by one (a production cycle evaluates each end once, newest only)."""
    rng = random.Random(seed)  # nosec B311 # sampling for a benchmark, not security
    last = aligned_end(end - rule.schedule.buffer, rule.schedule.every)
    span = max(1, int(timedelta(days=days) / rule.schedule.every))
    took, requests = [], []
    for _ in range(samples):
        at = last - rng.randrange(span) * rule.schedule.every
        started = time.perf_counter()
        cycle = evaluate(search, index, [Due(rule, at)])
        took.append((time.perf_counter() - started) * 1000)
        requests.append(cycle.requests)
    per_hour = timedelta(hours=1) / rule.schedule.every
    per_evaluation = statistics.fmean(requests)
    added, sharing = None, ()
    others = [r for r in rule_set if r.id != rule.id and r.schedule == rule.schedule]
    if rule_set:
        at = last
        base = plan([Due(r, at) for r in others])
        both = plan([Due(r, at) for r in others] + [Due(rule, at)])
        added = len(both.requests) - len(base.requests)
        mine = set(both.routes[(rule.id, at)])
        sharing = tuple(sorted(r.id for r in others if mine & set(both.routes[(r.id, at)])))
    p95 = statistics.quantiles(took, n=20)[-1] if len(took) >= 2 else took[0]
    return Cost(per_hour, per_evaluation, per_hour * per_evaluation, added, sharing, p95, samples)


@dataclass(frozen=True)
class Comparison:
    only_old: list[Event]
    only_new: list[Event]
    both: list[tuple[Event, Event]]  # (old, new): the same key, the nearest opening


def compare(old: Replay, new: Replay, tolerance: timedelta = timedelta(hours=1)) -> Comparison:
    """Pair the alerts two versions would raise: same key, openings within ``tolerance``."""
    pending = list(new.raised)
    both, only_old = [], []
    for event in old.raised:
        candidates = [e for e in pending if e.key == event.key and abs(e.at - event.at) <= tolerance]
        if candidates:
            best = min(candidates, key=lambda e: abs(e.at - event.at))
            pending.remove(best)
            both.append((event, best))
        else:
            only_old.append(event)
    return Comparison(only_old, pending, both)
