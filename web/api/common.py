"""Plumbing shared by the API modules: error mapping, JSON input, paging, the acting user."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import jsonify, request
from pydantic import BaseModel

from tierwatch.core.actors import Actor
from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.registry.schemas import parse
from tierwatch.risk.ruleset import ApplicationDataError, RuleRuntimeError
from tierwatch.web.api.blueprint import bp
from tierwatch.web.auth import current_actor
from tierwatch.web.jsonio import ID_MAX, json_body
from tierwatch.web.security_log import note_security_event

M = TypeVar("M", bound=BaseModel)
MAX_OFFSET = 10_000_000  # deeper than any list; past it, page with filters (before_id, status)


def body(model: type[M]) -> M:
    """The request's JSON body validated into `model` (Invalid -> 422 with field errors)."""
    return parse(model, json_body())


def actor() -> Actor:
    found = current_actor()
    assert found is not None, "views call actor() only behind @allow(...) without ANYONE"
    return found


def paging(default: int = 50, most: int = 500) -> tuple[int, int]:
    errors = []
    values = {}
    for name, low, high, fallback in (("limit", 1, ID_MAX, default), ("offset", 0, MAX_OFFSET, 0)):
        raw = request.args.get(name)
        try:
            values[name] = _int(raw) if raw is not None else fallback
            if not low <= values[name] <= high:
                raise ValueError
        except ValueError:
            errors.append({"field": name, "message": f"must be an integer from {low} to {high}"})
    if errors:
        raise Invalid(errors)
    return min(values["limit"], most), values["offset"]


def int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = _int(raw)
    except ValueError:
        raise Invalid.one(name, "must be an integer") from None
    if not 0 <= value <= ID_MAX:  # ids are 32-bit INTEGER columns
        raise Invalid.one(name, f"must be from 0 to {ID_MAX}")
    return value


def _int(raw: str) -> int:
    # ASCII digits only: int() also reads "١٢" and " 12_0 ", which no client means.
    text = raw.strip()
    if not text.lstrip("-").isascii() or not text.lstrip("-").isdigit() or len(text) > 20:
        raise ValueError(raw)
    return int(text)


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid) -> Any:
    return jsonify({"errors": exc.errors}), 422


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Any:
    # Use cases answer "not found" for what exists but is another tenant's, too: logged.
    note_security_event("not_found")
    return jsonify({"error": "not_found", "message": str(exc)}), 404


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden) -> Any:
    note_security_event("forbidden")
    return jsonify({"error": "forbidden", "message": str(exc)}), 403


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> Any:
    return jsonify({"error": "conflict", "message": str(exc)}), 409


@bp.errorhandler(ApplicationDataError)
def _bad_application_data(exc: ApplicationDataError) -> Any:
    return jsonify({"errors": [{"field": exc.field, "message": str(exc)}]}), 422


@bp.errorhandler(RuleRuntimeError)
def _rule_failed(exc: RuleRuntimeError) -> Any:
    # The active rule set cannot tier this filing: nothing was stored (the request's unit of
    # work rolls back); the regulator must fix the rule file, so this is a conflict, not bad input.
    return jsonify({"error": "rule_failed", "rule_id": exc.rule_id, "message": str(exc)}), 409

