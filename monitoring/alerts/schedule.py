"""Which window ends a rule owes: aligned to its schedule, after its watermark, bounded catch-up.

Ends are multiples of ``every`` since the Unix epoch (UTC), ``buffer`` behind the clock, so rules
with the same schedule share ends (and the planner shares their windows).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tierwatch.monitoring.alerts.model import Schedule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CATCHUP = 60  # ends per rule per cycle; cycles run back to back while a rule is behind


def aligned_end(moment: datetime, every: timedelta) -> datetime:
    """The latest multiple of ``every`` at or before ``moment``."""
    steps = (moment - EPOCH) // every
    return EPOCH + steps * every


def latest_end(schedule: Schedule, now: datetime) -> datetime:
    """The newest end whose window has waited out the buffer for late reports."""
    return aligned_end(now - schedule.buffer, schedule.every)


def due_ends(schedule: Schedule, evaluated_until: datetime | None, now: datetime,
             max_catchup: int = MAX_CATCHUP) -> list[datetime]:
    """Ends to evaluate, oldest first. A rule never evaluated starts at the latest end (no
    retroactive alerts). After downtime every missed end is owed, ``max_catchup`` at a time.
    A watermark off the grid (the rule's ``every`` changed) continues at the next grid end."""
    last = latest_end(schedule, now)
    if evaluated_until is None:
        return [last]
    nxt = aligned_end(evaluated_until, schedule.every) + schedule.every
    ends: list[datetime] = []
    while nxt <= last and len(ends) < max_catchup:
        ends.append(nxt)
        nxt += schedule.every
    return ends
