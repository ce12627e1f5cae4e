"""The filing workflow as a pure state machine over version statuses.

draft -> submitted -> under_review -> approved | returned | rejected; returned is edited and
submitted again; an approved version is amended by creating a new draft version (the old one stays
in force until the amendment is approved, then becomes superseded); an approved filing is
deregistered when the service stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from tierwatch.core.errors import Conflict, Forbidden, Invalid

DRAFT, SUBMITTED, UNDER_REVIEW = "draft", "submitted", "under_review"
APPROVED, RETURNED, REJECTED = "approved", "returned", "rejected"
SUPERSEDED, DEREGISTERED = "superseded", "deregistered"
STATUSES = (DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, RETURNED, REJECTED, SUPERSEDED, DEREGISTERED)

EDITABLE = frozenset({DRAFT, RETURNED})
AMENDABLE = frozenset({APPROVED})
COMPANY_SIDE = ("company", "admin")
REGULATOR_SIDE = ("regulator", "admin")


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: tuple[str, ...]
    reason_required: bool = False


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({DRAFT, RETURNED}), SUBMITTED, COMPANY_SIDE),
    "start_review": Transition(frozenset({SUBMITTED}), UNDER_REVIEW, REGULATOR_SIDE),
    "approve": Transition(frozenset({UNDER_REVIEW}), APPROVED, REGULATOR_SIDE),
    "return": Transition(frozenset({SUBMITTED, UNDER_REVIEW}), RETURNED, REGULATOR_SIDE, True),
    "reject": Transition(frozenset({UNDER_REVIEW}), REJECTED, REGULATOR_SIDE, True),
    "deregister": Transition(frozenset({APPROVED}), DEREGISTERED, COMPANY_SIDE),
}


def next_status(action: str, status: str, role: str | None, reason: str | None = None) -> str:
    """The status after `action`, or the error that forbids it (checked in that order: the
    action exists, the role may do it, the state allows it, a reason is given if needed)."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise Invalid.one("action", f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}")
    if role not in transition.roles:
        raise Forbidden(f"role {role!r} may not {action}")
    if status not in transition.sources:
        first = _step_towards(transition, status)
        then = f"; {first.replace('_', ' ')} first" if first else ""
        raise Conflict(f"cannot {action} a filing that is {status}{then}")
    if transition.reason_required and not (reason and reason.strip()):
        raise Invalid.one("reason", f"a reason is required to {action}")
    return transition.target


def _step_towards(transition: Transition, status: str) -> str | None:
    """The action that leads from ``status`` to a state ``transition`` starts from, if one does."""
    for name, step in TRANSITIONS.items():
        if status in step.sources and step.target in transition.sources:
            return name
    return None


# Four eyes: whoever filed or submitted a version does not also decide it.
DECISIONS = frozenset({"approve", "reject"})


def check_decider(action: str, decider_id: int | None, filed_by: set[int | None]) -> None:
    if action in DECISIONS and decider_id is not None and decider_id in filed_by:
        raise Forbidden(f"whoever filed or submitted this version may not {action} it; another regulator decides")


def check_edit(status: str, role: str | None) -> None:
    if role not in COMPANY_SIDE:
        raise Forbidden(f"role {role!r} may not edit a filing")
    if status not in EDITABLE:
        raise Conflict(f"a filing that is {status} cannot be edited; amend it instead")


def check_amend(status: str, role: str | None) -> None:
    if role not in COMPANY_SIDE:
        raise Forbidden(f"role {role!r} may not amend a filing")
    if status not in AMENDABLE:
        raise Conflict(f"only an approved filing can be amended (this one is {status})")
