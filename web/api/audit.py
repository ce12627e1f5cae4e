"""Audit trail API (regulator side): list entries, verify the hash chain."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from tierwatch.registry import audit
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, int_arg, paging
from tierwatch.web.api.registry import entry_json
from tierwatch.web.api.schemas import AuditList, AuditQuery, ChainCheckOut
from tierwatch.web.auth import allow, request_uow
from tierwatch.web.openapi import operation


@bp.get("/audit")
@allow("regulator", "analyst", "admin")
@operation("The audit trail, newest first (page with before_id)", query=AuditQuery, responses={200: AuditList},
           tags=("audit",))
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
@allow("regulator", "admin")
@operation("Check the audit trail's hash chain", responses={200: ChainCheckOut}, tags=("audit",))
def verify_audit() -> Any:
    result = audit.verify_chain(request_uow())
    return jsonify({"ok": result.ok, "checked": result.checked,
                    "first_broken_id": result.first_broken_id, "message": result.message})
