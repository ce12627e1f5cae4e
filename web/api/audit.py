"""Audit trail API (regulator side): list entries, verify the hash chain."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from tierwatch.registry import audit
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, int_arg, paging
from tierwatch.web.api.registry import entry_json
from tierwatch.web.auth import request_uow, require_role


@bp.get("/audit")
@require_role("regulator", "analyst", "admin")
def list_audit() -> Any:
    limit, _ = paging(100, 1000)
    uow = request_uow()
    entries = audit.list_entries(
        uow, entity=request.args.get("entity") or None,
        entity_id=request.args.get("entity_id") or None, limit=limit, before_id=int_arg("before_id"),
    )
    shown = audit.shown_actors(uow, entries, actor())
    return jsonify({"items": [entry_json(e, shown[e.id], regulator_view=True) for e in entries]})


@bp.get("/audit/verify")
@require_role("regulator", "admin")
def verify_audit() -> Any:
    result = audit.verify_chain(request_uow())
    return jsonify({"ok": result.ok, "checked": result.checked,
                    "first_broken_id": result.first_broken_id, "message": result.message})
