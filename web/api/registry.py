"""Registry API: companies, users, applications, versions and workflow transitions."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from tierwatch.registry import accounts, audit, service, workflow
from tierwatch.core.errors import Invalid, NotFound
from tierwatch.registry.models import Application, ApplicationVersion, AuditEntry, Company, User
from tierwatch.registry.schemas import AmendIn, ApplicationFields, CompanyIn, CreateApplicationIn, ReasonIn
from tierwatch.registry.schemas import ShutdownIn, UserIn
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, int_arg, iso, paging
from tierwatch.web.api.schemas import (
    ApplicationList, ApplicationOut, ApplicationQuery, AuditList, CompanyList, CompanyOut, PagingQuery, UserOut,
    VersionOut,
)
from tierwatch.web.auth import SIGNED_IN, allow, request_uow
from tierwatch.web.openapi import Error, operation

TAGS = ("registry",)


def company_json(company: Company) -> dict[str, Any]:
    return {
        "id": company.id, "name": company.name, "credit_code": company.credit_code,
        "country": company.country, "province": company.province,
        "contact_name": company.contact_name, "contact_email": company.contact_email,
        "contact_phone": company.contact_phone, "source": company.source,
        "created_at": iso(company.created_at),
    }


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "company_id": user.company_id, "is_active": user.is_active}


def version_json(version: ApplicationVersion) -> dict[str, Any]:
    return {
        "id": version.id, "number": version.number, "status": version.status,
        "fields": service.version_fields(version),
        "change_note": version.change_note, "changed_on": iso(version.changed_on),
        "created_at": iso(version.created_at), "submitted_at": iso(version.submitted_at),
        "decided_at": iso(version.decided_at), "decision_reason": version.decision_reason,
    }


def application_json(app: Application, *, full: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": app.id, "company_id": app.company_id, "name": app.name, "status": app.status,
        "filing_number": app.filing_number, "approved_at": iso(app.approved_at),
        "source": app.source, "service_stopped_on": iso(app.service_stopped_on),
        "deregistered_at": iso(app.deregistered_at), "updated_at": iso(app.updated_at),
    }
    if full:
        effective = service.effective_version(app)
        data["latest_version"] = version_json(service.latest_version(app))
        data["effective_version_number"] = effective.number if effective else None
        data["versions"] = [{"number": v.number, "status": v.status} for v in app.versions]
        data["import_notes"] = app.import_notes
    return data


# --- companies and users ------------------------------------------------------------------

@bp.get("/companies")
@allow(*SIGNED_IN)
@operation("Companies you may see (a company user: their own)", query=PagingQuery,
           responses={200: CompanyList}, tags=TAGS)
def list_companies() -> Any:
    limit, offset = paging()
    companies = accounts.list_companies(request_uow(), actor(), limit, offset)
    return jsonify({"items": [company_json(c) for c in companies]})


@bp.post("/companies")
@allow("regulator", "admin")
@operation("Register a company (regulator)", body=CompanyIn, responses={201: CompanyOut}, tags=TAGS)
def create_company() -> Any:
    uow = request_uow()
    company = accounts.create_company(uow, actor(), body(CompanyIn))
    uow.commit()
    return jsonify(company_json(company)), 201


@bp.get("/companies/<int:company_id>")
@allow(*SIGNED_IN)
@operation("One company", responses={200: CompanyOut}, tags=TAGS)
def get_company(company_id: int) -> Any:
    return jsonify(company_json(accounts.get_company(request_uow(), actor(), company_id)))


@bp.post("/users")
@allow("admin", "company")
@operation("Add a user (a company user: a colleague)", body=UserIn, responses={201: UserOut}, tags=TAGS)
def create_user() -> Any:
    uow = request_uow()
    user = accounts.create_user(uow, actor(), body(UserIn))
    uow.commit()
    return jsonify(user_json(user)), 201


# --- applications -------------------------------------------------------------------------

@bp.get("/applications")
@allow(*SIGNED_IN)
@operation("Applications you may see", query=ApplicationQuery, responses={200: ApplicationList}, tags=TAGS)
def list_applications() -> Any:
    limit, offset = paging()
    status = request.args.get("status") or None
    if status and status not in workflow.STATUSES:
        raise Invalid.one("status", f"one of {', '.join(workflow.STATUSES)}")
    apps, total = service.list_applications(
        request_uow(), actor(), status=status, company_id=int_arg("company_id"),
        q=request.args.get("q") or None, limit=limit, offset=offset,
    )
    return jsonify({"items": [application_json(a, full=False) for a in apps], "total": total,
                    "limit": limit, "offset": offset})


@bp.post("/applications")
@allow("company", "admin")
@operation("Start a filing (a draft)", body=CreateApplicationIn, responses={201: ApplicationOut}, tags=TAGS)
def create_application() -> Any:
    uow = request_uow()
    app = service.create_application(uow, actor(), body(CreateApplicationIn))
    uow.commit()
    return jsonify(application_json(app)), 201


@bp.get("/applications/<int:app_id>")
@allow(*SIGNED_IN)
@operation("One application with its versions", responses={200: ApplicationOut}, tags=TAGS)
def get_application(app_id: int) -> Any:
    return jsonify(application_json(service.get_application(request_uow(), actor(), app_id)))


@bp.patch("/applications/<int:app_id>")
@allow("company", "admin")
@operation("Edit a draft or returned filing", body=ApplicationFields, responses={200: ApplicationOut, 409: Error},
           tags=TAGS)
def update_application(app_id: int) -> Any:
    uow = request_uow()
    app = service.update_application(uow, actor(), app_id, body(ApplicationFields))
    uow.commit()
    return jsonify(application_json(app))


@bp.delete("/applications/<int:app_id>")
@allow("company", "admin")
@operation("Delete a draft", responses={204: None, 409: Error}, tags=TAGS)
def delete_draft(app_id: int) -> Any:
    uow = request_uow()
    service.delete_draft(uow, actor(), app_id)
    uow.commit()
    return "", 204


@bp.get("/applications/<int:app_id>/versions/<int:number>")
@allow(*SIGNED_IN)
@operation("One version of an application", responses={200: VersionOut}, tags=TAGS)
def get_version(app_id: int, number: int) -> Any:
    app = service.get_application(request_uow(), actor(), app_id)
    for version in app.versions:
        if version.number == number:
            return jsonify(version_json(version))
    raise NotFound(f"application {app_id} has no version {number}")


_ACTIONS = {"submit": "submit", "start-review": "start_review", "approve": "approve",
            "return": "return", "reject": "reject", "deregister": "deregister"}
_ACTION_PATH = "/applications/<int:app_id>/<any(" + ", ".join(f"'{a}'" for a in _ACTIONS) + "):action>"


@bp.post(_ACTION_PATH)
@allow(*SIGNED_IN)
@operation("A workflow step: submit, start-review, approve, return, reject, deregister", body=ReasonIn,
           responses={200: ApplicationOut, 409: Error}, tags=TAGS)
def transition(app_id: int, action: str) -> Any:
    uow = request_uow()
    reason = body(ReasonIn).reason
    app = service.transition(uow, actor(), app_id, _ACTIONS[action], reason)
    uow.commit()
    return jsonify(application_json(app))


@bp.post("/applications/<int:app_id>/amend")
@allow("company", "admin")
@operation("Amend an approved filing (a new version)", body=AmendIn, responses={201: ApplicationOut, 409: Error},
           tags=TAGS)
def amend(app_id: int) -> Any:
    uow = request_uow()
    app = service.amend(uow, actor(), app_id, body(AmendIn))
    uow.commit()
    return jsonify(application_json(app)), 201


@bp.post("/applications/<int:app_id>/shutdown")
@allow("company", "admin")
@operation("Declare the service stopped", body=ShutdownIn, responses={200: ApplicationOut, 409: Error}, tags=TAGS)
def shutdown(app_id: int) -> Any:
    uow = request_uow()
    app = service.declare_shutdown(uow, actor(), app_id, body(ShutdownIn))
    uow.commit()
    return jsonify(application_json(app))


@bp.get("/applications/<int:app_id>/audit")
@allow(*SIGNED_IN)
@operation("An application's audit trail", query=PagingQuery, responses={200: AuditList}, tags=TAGS)
def application_audit(app_id: int) -> Any:
    uow = request_uow()
    service.get_application(uow, actor(), app_id)  # visibility check
    limit, _ = paging(100)
    entries = audit.list_entries(uow, entity="application", entity_id=app_id, limit=limit)
    shown = audit.shown_actors(uow, entries, actor())
    return jsonify({"items": [entry_json(e, shown[e.id], regulator_view=actor().is_regulator) for e in entries]})


def entry_json(entry: AuditEntry, shown_actor: str, regulator_view: bool) -> dict[str, Any]:
    return {"id": entry.id, "at": iso(entry.at), "actor": shown_actor,
            "actor_id": entry.actor_id if regulator_view else None,
            "action": entry.action, "entity": entry.entity, "entity_id": entry.entity_id,
            "reason": entry.reason, "changes": entry.changes, "hash": entry.hash}
