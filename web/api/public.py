"""The public API: what the public pages show, as JSON, for partner apps and researchers.
No account needed; the same rules as the pages (monitoring.public, risk.register)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from tierwatch.core.errors import Invalid, NotFound
from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.models import Publication
from tierwatch.monitoring.public.status import report_status
from tierwatch.registry.schemas import field_errors
from tierwatch.risk import register
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import iso
from tierwatch.web.api.public_schemas import (
    CheckOut, CheckQuery, PublicationList, PublicationOut, PublicationQuery, RegisteredAppOut, RegistryList,
    RegistryQuery, ReportStatusOut,
)
from tierwatch.web.auth import ANYONE, allow, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.openapi import Error, operation
from tierwatch.web.public.check import check_answer

TAGS = ("public",)


def _query(model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


def publication_ref(p: Publication) -> dict[str, Any]:
    return {"id": p.id, "kind": p.kind, "title_zh": p.title_zh, "title_en": p.title_en,
            "published_at": iso(p.published_at)}


def _counts(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"code": code, "count": count} for code, count in pairs]


@bp.get("/public/check")
@allow(ANYONE)
@operation("Check a phone number, link or account: reports about it, counted by independent reporters",
           query=CheckQuery, responses={200: CheckOut}, tags=TAGS)
def public_check() -> Any:
    wanted = _query(CheckQuery)
    answer = check_answer(wanted.q)
    if answer is None:
        raise Invalid.one("q", "not a phone number, link or account")
    r = answer.recognised
    return jsonify({
        "recognised": {"kind": r.kind, "value": r.value, "shown": r.shown},
        "minimum_reporters": answer.minimum, "risk": answer.risk, "shown": answer.shown,
        "reports": answer.reports, "reporters": answer.reporters,
        "first_reported": iso(answer.first_reported), "last_reported": iso(answer.last_reported),
        "scam_types": _counts(answer.scam_types), "channels": _counts(answer.channels),
        "ai_techniques": _counts(answer.ai_techniques),
        "dispute": {"status": answer.dispute.status, "since": iso(answer.dispute.since)} if answer.dispute else None,
        "applications": [{"id": a.id, "name": a.name, "provider": a.provider, "filing_number": a.filing_number}
                         for a in answer.applications],
        "warnings": [publication_ref(p) for p in answer.warnings],
    })


@bp.get("/public/reports/<tracking:tracking_code>")
@allow(ANYONE)
@operation("A report's status, by the tracking code its reporter holds", responses={200: ReportStatusOut},
           tags=TAGS)
def public_report_status(tracking_code: str) -> Any:
    container = container_of(current_app)
    found = report_status(request_uow(), container.search, tracking_code,
                          minimum=container.settings.public_min_reporters)
    if found is None:
        raise NotFound(f"no report {tracking_code} (yet: a report just sent takes a few seconds)")
    return jsonify({
        "tracking_code": found.tracking_code, "received_at": iso(found.received_at), "analysed": found.analysed,
        "looks_like": found.looks_like, "in_campaign": found.in_campaign,
        "identifiers": [{"kind": i.kind, "shown": i.shown, "other_reporters": i.others} for i in found.identifiers],
        "warnings": [publication_ref(p) for p in found.warnings],
    })


def app_json(a: register.RegisteredApp) -> dict[str, Any]:
    return {"id": a.id, "name": a.name, "provider": a.provider, "filing_number": a.filing_number,
            "filed_at": iso(a.filed_at), "domain": a.domain, "scenario": a.scenario,
            "tiers": [{"jurisdiction": t.jurisdiction, "tier": t.tier, "obligations": list(t.obligations)}
                      for t in a.tiers]}


@bp.get("/public/registry")
@allow(ANYONE)
@operation("Approved AI applications by name, provider or filing number, with their tiers",
           query=RegistryQuery, responses={200: RegistryList}, tags=TAGS)
def public_registry() -> Any:
    wanted = _query(RegistryQuery)
    apps, total = register.search(request_uow(), wanted.q, limit=min(wanted.limit, 100), offset=wanted.offset)
    return jsonify({"total": total, "items": [app_json(a) for a in apps]})


@bp.get("/public/registry/<int:app_id>")
@allow(ANYONE)
@operation("One approved AI application", responses={200: RegisteredAppOut}, tags=TAGS)
def public_registry_entry(app_id: int) -> Any:
    return jsonify(app_json(register.get(request_uow(), app_id)))


def publication_json(p: Publication) -> dict[str, Any]:
    return {"id": p.id, "kind": p.kind, "title_zh": p.title_zh, "title_en": p.title_en,
            "summary_zh": p.summary_zh, "summary_en": p.summary_en, "body_zh": p.body_zh, "body_en": p.body_en,
            "scam_type": p.scam_type, "ai_techniques": list(p.ai_techniques), "identifiers": list(p.identifiers),
            "occurred_on": p.occurred_on.isoformat() if p.occurred_on else None,
            "published_at": iso(p.published_at)}


@bp.get("/public/publications")
@allow(ANYONE)
@operation("Published warnings and case stories, newest first", query=PublicationQuery,
           responses={200: PublicationList}, tags=TAGS)
def public_publications() -> Any:
    wanted = _query(PublicationQuery)
    items, total = publications.list_published(request_uow(), kind=wanted.kind, scam_type=wanted.scam_type,
                                               limit=min(wanted.limit, 100), offset=wanted.offset)
    return jsonify({"total": total, "items": [publication_json(p) for p in items]})


@bp.get("/public/publications/<int:publication_id>")
@allow(ANYONE)
@operation("A published warning or case story", responses={200: PublicationOut}, tags=TAGS)
def public_publication(publication_id: int) -> Any:
    return jsonify(publication_json(publications.get_published(request_uow(), publication_id)))
