"""Supervision tasks API: a company sees its own, the regulator all."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from tierwatch.registry import supervision
from tierwatch.core.errors import Invalid
from tierwatch.registry.models import SupervisionTask
from tierwatch.registry.schemas import CompleteTaskIn
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, int_arg, iso, paging
from tierwatch.web.api.schemas import TaskList, TaskOut, TaskQuery
from tierwatch.web.auth import SIGNED_IN, allow, request_uow
from tierwatch.web.openapi import Error, operation

STATUSES = (supervision.OPEN, supervision.OVERDUE, supervision.DONE)


def task_json(task: SupervisionTask) -> dict[str, Any]:
    return {"id": task.id, "application_id": task.application_id, "company_id": task.company_id,
            "kind": task.kind, "period_key": task.period_key, "jurisdiction": task.jurisdiction,
            "tier": task.tier, "due_on": iso(task.due_on), "status": task.status,
            "details": task.details, "completed_at": iso(task.completed_at), "note": task.note}


@bp.get("/tasks")
@allow(*SIGNED_IN)
@operation("Supervision tasks (a company: its own)", query=TaskQuery, responses={200: TaskList},
           tags=("supervision",))
def list_tasks() -> Any:
    limit, offset = paging(100, 1000)
    status = request.args.get("status") or None
    if status and status not in STATUSES:
        raise Invalid.one("status", f"one of {', '.join(STATUSES)}")
    tasks = supervision.list_tasks(
        request_uow(), actor(), status=status, company_id=int_arg("company_id"),
        application_id=int_arg("application_id"), limit=limit, offset=offset,
    )
    return jsonify({"items": [task_json(t) for t in tasks]})


@bp.post("/tasks/<int:task_id>/complete")
@allow(*SIGNED_IN)
@operation("Mark a task done", body=CompleteTaskIn, responses={200: TaskOut, 409: Error}, tags=("supervision",))
def complete_task(task_id: int) -> Any:
    uow = request_uow()
    task = supervision.complete_task(uow, actor(), task_id, body(CompleteTaskIn).note)
    uow.commit()
    return jsonify(task_json(task))
