"""What an analyst may do to an alert in which state, and the SLA clocks. Pure: states and times
in, the next state or a refusal out (the use cases in ``service.py`` apply it).

open -> acknowledged -> escalated -> resolved / false positive; a cleared alert keeps waiting for
a verdict; a closed one may be reopened by hand, with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tierwatch.monitoring.alerts.model import SEVERITIES, parse_duration

ACTIONS = ("acknowledge", "escalate", "resolve", "false_positive", "reopen", "assign", "comment")
WORKING = ("open", "acknowledged", "escalated", "cleared")  # what an analyst works on
CLOSED = ("resolved", "false_positive", "withdrawn")
VERDICTS = {"resolve": "resolved", "false_positive": "false_positive"}

# action -> states it may start from; the state it leads to (None: unchanged)
_MOVES: Mapping[str, tuple[tuple[str, ...], str | None]] = {
    "acknowledge": (("open", "cleared"), "acknowledged"),
    "escalate": (("open", "acknowledged", "cleared"), "escalated"),
    "resolve": (WORKING, "resolved"),
    "false_positive": (WORKING, "false_positive"),
    "reopen": (("resolved", "false_positive"), "open"),
    "assign": (("pending", *WORKING), None),
    "comment": (("pending", *WORKING, *CLOSED), None),
}


class TransitionRefused(ValueError):
    pass


def next_state(action: str, state: str, acknowledged: bool = False) -> str:
    """The state after ``action``; a cleared alert acknowledged stays cleared (its condition is
    gone, only the acknowledgement is recorded)."""
    if action not in _MOVES:
        raise TransitionRefused(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    allowed, target = _MOVES[action]
    if state not in allowed:
        raise TransitionRefused(f"cannot {action.replace('_', ' ')} an alert that is {state.replace('_', ' ')}")
    if action == "acknowledge" and (acknowledged or state == "cleared"):
        if acknowledged:
            raise TransitionRefused("the alert is already acknowledged")
        return state
    return target or state


def allowed_actions(state: str, acknowledged: bool = False) -> tuple[str, ...]:
    """The actions ``next_state`` accepts from here, in ``ACTIONS`` order (the console offers
    only these)."""
    out = []
    for action in ACTIONS:
        try:
            next_state(action, state, acknowledged)
        except TransitionRefused:
            continue
        out.append(action)
    return tuple(out)


@dataclass(frozen=True)
class Sla:
    """Per severity: (acknowledge within, resolve within)."""

    clocks: Mapping[str, tuple[timedelta, timedelta]]

    @classmethod
    def parse(cls, per_severity: Mapping[str, tuple[str, str]]) -> Sla:
        return cls({s: (parse_duration(a), parse_duration(r)) for s, (a, r) in per_severity.items()})

    def due(self, severity: str, opened_at: datetime) -> tuple[datetime, datetime]:
        ack, resolve = self.clocks.get(severity, self.clocks["low"])
        return opened_at + ack, opened_at + resolve


DEFAULT_SLA = Sla.parse({"critical": ("15m", "4h"), "high": ("1h", "24h"), "medium": ("4h", "3d"),
                         "low": ("1d", "7d")})


def overdue(state: str, acknowledged_at: datetime | None, ack_due: datetime | None,
            resolve_due: datetime | None, now: datetime) -> tuple[bool, bool]:
    """(acknowledgement overdue, resolution overdue). A cleared alert's clocks are paused."""
    if state not in ("open", "acknowledged", "escalated"):
        return False, False
    late_ack = acknowledged_at is None and ack_due is not None and now > ack_due
    late_resolve = resolve_due is not None and now > resolve_due
    return late_ack, late_resolve


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1
