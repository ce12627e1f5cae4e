"""Risk API: an application's tiers with reasons, regulator overrides, and rule-set versions
(list, validate, what-if, diff, activate). The work is done by `risk.service`."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from tierwatch.registry import service
from tierwatch.core.errors import Invalid
from tierwatch.registry.schemas import OverrideIn, ReasonIn
from tierwatch.risk import sandbox
from tierwatch.risk import service as risk_service
from tierwatch.risk.loader import load_ruleset
from tierwatch.risk.models import RuleSetVersion
from tierwatch.risk.ruleset import RuleSetInvalid, RuleRuntimeError, ApplicationDataError
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, iso
from tierwatch.web.api.schemas import (
    DiffFileQuery, DiffVersionsQuery, OverrideEnded, OverrideOut, RuleFileOk, RuleSetDiffOut, RuleSetList,
    RuleSetQuery, TierChangeOut, TierList,
)
from tierwatch.web.auth import SIGNED_IN, allow, request_uow
from tierwatch.web.openapi import Error, operation

TAGS = ("tiers",)
RULE_FILE = ("application/yaml", "text/plain")

MAX_RULE_FILE = 1_000_000  # bytes


@bp.get("/applications/<int:app_id>/tiers")
@allow(*SIGNED_IN)
@operation("An application's tiers under each regime, with the rules that fired", responses={200: TierList},
           tags=TAGS)
def application_tiers(app_id: int) -> Any:
    uow = request_uow()
    service.get_application(uow, actor(), app_id)  # visibility: 404 for other companies
    rows = risk_service.current_assessments(uow, app_id)
    return jsonify({"application_id": app_id, "items": [risk_service.explain(uow, r) for r in rows]})


@bp.post("/applications/<int:app_id>/tiers/override")
@allow("regulator", "admin")
@operation("Override a tier, with a written justification", body=OverrideIn,
           responses={201: OverrideOut, 409: Error}, tags=TAGS)
def override_tier(app_id: int) -> Any:
    uow = request_uow()
    data = body(OverrideIn)
    service.get_application(uow, actor(), app_id)
    override = risk_service.override_tier(uow, app_id, data.jurisdiction, data.tier, data.justification, actor())
    uow.commit()
    return jsonify({"id": override.id, "application_id": app_id, "jurisdiction": override.jurisdiction,
                    "tier": override.tier, "computed_tier": override.computed_tier,
                    "justification": override.justification, "created_at": iso(override.created_at)}), 201


@bp.delete("/applications/<int:app_id>/tiers/<jurisdiction>/override")
@allow("regulator", "admin")
@operation("End a tier override", body=ReasonIn, responses={200: OverrideEnded, 409: Error}, tags=TAGS)
def end_override(app_id: int, jurisdiction: str) -> Any:
    uow = request_uow()
    reason = body(ReasonIn).reason or ""
    service.get_application(uow, actor(), app_id)
    risk_service.end_override(uow, app_id, jurisdiction, reason, actor())
    uow.commit()
    return jsonify({"application_id": app_id, "jurisdiction": jurisdiction, "ended": True})


def version_json(row: RuleSetVersion) -> dict[str, Any]:
    return {"id": row.id, "jurisdiction": row.jurisdiction, "version": row.version, "edition": row.edition,
            "title": row.title, "rule_count": row.rule_count, "status": row.status,
            "checksum": row.checksum, "activated_at": iso(row.activated_at), "activated_by": row.activated_by}


@bp.get("/rulesets")
@allow(*SIGNED_IN)
@operation("Rule-set versions", query=RuleSetQuery, responses={200: RuleSetList}, tags=TAGS)
def list_rulesets() -> Any:
    rows = risk_service.list_versions(request_uow(), request.args.get("jurisdiction") or None)
    return jsonify({"items": [version_json(r) for r in rows]})


@bp.post("/rulesets/validate")
@allow("regulator", "analyst", "admin")
@operation("Validate a rule file (the YAML as the body); errors name their line", raw_body=RULE_FILE,
           responses={200: RuleFileOk}, tags=TAGS)
def validate_ruleset() -> Any:
    _rule_text()  # checked in the sandbox: nothing else to do
    return jsonify({"ok": True, "errors": []})


@bp.post("/rulesets/simulate")
@allow("regulator", "analyst", "admin")
@operation("What-if: which applications a rule file would move between tiers", raw_body=RULE_FILE,
           responses={200: TierChangeOut}, tags=TAGS)
def simulate_ruleset() -> Any:
    uow = request_uow()
    report = risk_service.simulate(uow, _rule_text(), service.iter_current_applications(uow))
    return jsonify(_report_json(report))


@bp.post("/rulesets/activate")
@allow("admin")
@operation("Activate a rule file (re-tiers every application)", raw_body=RULE_FILE,
           responses={201: TierChangeOut, 409: Error}, tags=TAGS)
def activate_ruleset() -> Any:
    uow = request_uow()
    report = risk_service.activate_ruleset(uow, _rule_text(), actor(), service.iter_current_applications(uow))
    uow.commit()
    return jsonify(_report_json(report)), 201


@bp.post("/rulesets/diff")
@allow("regulator", "analyst", "admin")
@operation("Diff: the rules a rule file adds, removes or changes against a stored version, and which "
           "applications would move, with the rules that caused each move", raw_body=RULE_FILE,
           query=DiffFileQuery, responses={200: RuleSetDiffOut, 404: Error}, tags=TAGS)
def diff_ruleset() -> Any:
    """The uploaded rule file (raw YAML body) against `?old=` (a stored version `cn-gd@v3`, or by
    default the active version of the file's jurisdiction), over the stored registry."""
    uow = request_uow()
    text = _rule_text()
    old = request.args.get("old") or f"{load_ruleset(text).jurisdiction}@active"
    return jsonify(risk_service.diff(uow, _stored_ref(old, "old"), text).as_dict(moves=1000))


@bp.get("/rulesets/diff")
@allow("regulator", "analyst", "admin")
@operation("Diff of two stored rule-set versions over the stored registry", query=DiffVersionsQuery,
           responses={200: RuleSetDiffOut, 404: Error}, tags=TAGS)
def diff_versions() -> Any:
    """Two stored versions: `?old=cn-gd@v1&new=cn-gd@active`, over the stored registry."""
    old, new = (_stored_ref(request.args.get(name) or "", name) for name in ("old", "new"))
    return jsonify(risk_service.diff(request_uow(), old, new).as_dict(moves=1000))


def _stored_ref(ref: str, name: str) -> str:
    if not risk_service.is_version_ref(ref):
        raise Invalid.one(name, "a stored version: JURISDICTION@vN or JURISDICTION@active (e.g. cn-gd@v2)")
    return ref


def _rule_text() -> str:
    """The rule file, sent as the raw body (application/yaml or text/plain), after it passed the
    sandbox (risk.sandbox: a child process with a time and memory budget)."""
    text = _raw_rule_text()
    if "_tw_rule_text_checked" not in g:
        sandbox.check(text, "<upload>")
        g._tw_rule_text_checked = True
    return text


def _raw_rule_text() -> str:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise Invalid.one("", "send the rule file (YAML) as the request body")
    if len(raw) > MAX_RULE_FILE:
        raise Invalid.one("", f"rule file larger than {MAX_RULE_FILE} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid.one("", "the rule file must be UTF-8") from None
    # Always text, never a path: the loader reads a one-line string naming a file from disk.
    return text if "\n" in text else text + "\n"


def _report_json(report: risk_service.TierChangeReport) -> dict[str, Any]:
    return {
        "jurisdiction": report.jurisdiction, "edition": report.edition, "checksum": report.checksum,
        "version": report.version, "retired_version": report.retired_version,
        "assessed": report.assessed, "moved": len(report.moves),
        "disagree_with_override": report.disagreements, "flagged": report.flagged,
        "edition_warning": report.edition_warning,
        "moves": [{"application_id": m.application_id, "before": m.before, "after": m.after,
                   "overridden_to": m.overridden_to} for m in report.moves[:1000]],
        "matrix": [{"before": b, "after": a, "count": n} for (b, a), n in sorted(
            report.matrix.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))],
    }


@bp.errorhandler(RuleSetInvalid)
def _rule_file_invalid(exc: RuleSetInvalid) -> Any:
    errors = [{"field": f"line {e.line}" if e.line else "", "message": str(e), "line": e.line,
               "rule_id": e.rule_id} for e in exc.errors]
    return jsonify({"errors": errors}), 422


@bp.errorhandler(RuleRuntimeError)
def _rule_failed(exc: RuleRuntimeError) -> Any:
    return jsonify({"errors": [{"field": f"rule {exc.rule_id}", "message": str(exc)}]}), 422


@bp.errorhandler(ApplicationDataError)
def _bad_application(exc: ApplicationDataError) -> Any:
    return jsonify({"errors": [{"field": exc.field, "message": str(exc)}]}), 422
