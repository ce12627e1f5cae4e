"""Every route x every role, from one table.

A route that is not in MATRIX fails ``test_the_matrix_covers_every_route``; a view that does not
declare its roles with ``@allow`` (or declares other roles than its row) fails
``test_every_view_declares_the_roles_of_its_row``. So a new page or API endpoint comes with its
row here: its declared roles and the status each role gets.

Each role runs against its own copy of one world: companies A and B, one user per role, a draft
of company A (``app_id``), a token and a supervision task of company A's user, and a report a
citizen sent through the intake (whose tracking code only the citizen holds). Requests go in the
table's order; pages are called with a signed-in session, the API with bearer tokens. CSRF and
rate limits are off in this app only (tests/unit/web/test_security.py tests them).
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import url_for

from tierwatch.bootstrap import Container, build
from tierwatch.core.settings import load_settings
from tierwatch.monitoring.public import disputes, publications
from tierwatch.monitoring.public.schemas import DisputeIn, PublicationIn
from tierwatch.registry import accounts, service, supervision
from tierwatch.registry.evidence import EvidenceStore, add_evidence
from tierwatch.registry.models import Application, User
from tierwatch.registry.schemas import CreateApplicationIn
from tierwatch.risk import reviews
from tierwatch.web import create_app
from tierwatch.web.auth import ANYONE, REGULATOR_SIDE, SIGNED_IN
from tests.unit.registry.factories import full_fields
from tests.unit.web.conftest import session_of

ROLES = ["anonymous", "citizen", "company_a", "company_b", "analyst", "regulator", "admin", "partner"]
ACCOUNT_OF = {"company_a": "a", "company_b": "b", "analyst": "analyst", "regulator": "regulator",
              "admin": "admin", "partner": "partner"}  # role here -> world user
SIGNIN = "signin"  # what a page answers nobody signed in: 302 to the sign-in page


def page(ok: int | str, *allowed: str, **special: int | str) -> dict[str, int | str]:
    """Statuses of an HTML route: `ok` for the allowed roles, the sign-in redirect for visitors
    (citizens included), 403 for other signed-in roles; `special` overrides per role."""
    out: dict[str, int | str] = {}
    for role in ROLES:
        account_role = "company" if role.startswith("company") else role
        if ANYONE in allowed or account_role in allowed:
            out[role] = ok
        else:
            out[role] = SIGNIN if role in ("anonymous", "citizen") else 403
    return {**out, **special}


def api(ok: int, *allowed: str, **special: int) -> dict[str, int | str]:
    """The same for a JSON route: 401 instead of the redirect."""
    out = {role: 401 if status == SIGNIN else status for role, status in page(ok, *allowed).items()}
    return {**out, **special}


EVERYONE = (ANYONE,)
STAFF = REGULATOR_SIDE  # regulator, analyst, admin
A_ONLY = {"company_b": 404}  # company B cannot even learn that A's object exists
COMPANY = ("company",)
CONSOLE = ("regulator", "admin")
TRIAGE = ("analyst", "admin")

# (endpoint, method): (declared roles, {role: expected status}).
MATRIX: dict[tuple[str, str], tuple[tuple[str, ...], dict[str, int | str]]] = {
    # --- Flask's static files and the public pages
    ("static", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.index", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.language", "GET"): (EVERYONE, page(302, ANYONE)),
    ("public.healthz", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.report", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.report", "POST"): (EVERYONE, page(200, ANYONE)),  # without a form: the first step again
    ("public.status_lookup", "GET"): (EVERYONE, page(200, ANYONE)),
    # The tracking code is the key: the citizen's own, and for the others another reporter's.
    ("public.status", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.check", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.dispute", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.dispute", "POST"): (EVERYONE, page(303, ANYONE)),  # nothing disputed: back to the check
    ("public.registry", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.registry_entry", "GET"): (EVERYONE, page(404, ANYONE)),  # company A's draft is not public
    ("public.trends", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.tips", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.tip", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.warnings", "GET"): (EVERYONE, page(200, ANYONE)),
    ("public.publication", "GET"): (EVERYONE, page(200, ANYONE)),
    # --- account pages
    ("account.signin", "GET"): (EVERYONE, page(200, ANYONE)),
    ("account.signin", "POST"): (EVERYONE, page(422, ANYONE)),  # an empty form: fields required
    ("account.signout", "POST"): (SIGNED_IN, page(303, *SIGNED_IN)),
    ("account.password", "GET"): (SIGNED_IN, page(200, *SIGNED_IN)),
    ("account.password", "POST"): (SIGNED_IN, page(422, *SIGNED_IN)),  # an empty form
    ("account.home", "GET"): (SIGNED_IN, page(200, *SIGNED_IN)),
    # --- portals
    ("company.home", "GET"): (("company",), page(200, "company")),
    ("regulator.home", "GET"): (("regulator", "admin"), page(200, "regulator", "admin")),
    ("regulator.dispute_list", "GET"): (("regulator", "admin"), page(200, "regulator", "admin")),
    ("regulator.dispute_detail", "GET"): (("regulator", "admin"), page(200, "regulator", "admin")),
    ("regulator.dispute_detail", "POST"): (("regulator", "admin"), page(422, "regulator", "admin")),  # no decision
    ("analyst.home", "GET"): (("analyst", "admin"), page(200, "analyst", "admin")),
    # --- analyst console (no alert exists in this world: 404 for one; regulators use the API)
    ("analyst.alerts", "GET"): (TRIAGE, page(200, *TRIAGE)),
    ("analyst.bulk_alerts", "POST"): (TRIAGE, page(303, *TRIAGE)),  # nothing ticked: back to the queue
    ("analyst.alert", "GET"): (TRIAGE, page(404, *TRIAGE)),
    ("analyst.alert_action", "POST"): (TRIAGE, page(404, *TRIAGE)),
    ("analyst.draft_warning", "POST"): (TRIAGE, page(404, *TRIAGE)),
    # --- company portal (company B gets 404 for company A's objects)
    ("company.signup_page", "GET"): (EVERYONE, page(200, ANYONE)),
    ("company.signup_page", "POST"): (EVERYONE, page(422, ANYONE)),  # an empty form
    ("company.confirm_signup", "GET"): (EVERYONE, page(404, ANYONE)),  # an unknown link
    ("company.applications", "GET"): (COMPANY, page(200, "company")),
    ("company.new_application", "GET"): (COMPANY, page(200, "company")),
    ("company.new_application", "POST"): (COMPANY, page(422, "company")),  # no name
    ("company.edit_application", "GET"): (COMPANY, page(200, "company", **A_ONLY)),
    ("company.edit_application", "POST"): (COMPANY, page(422, "company", **A_ONLY)),  # the name emptied
    ("company.check_step", "POST"): (COMPANY, page(200, "company")),  # the answers' errors, as JSON
    ("company.review_application", "GET"): (COMPANY, page(200, "company", **A_ONLY)),
    ("company.submit_application", "POST"): (COMPANY, page(400, "company", **A_ONLY)),  # no reviewed version
    ("company.application", "GET"): (COMPANY, page(200, "company", **A_ONLY)),
    ("company.application_tiers", "GET"): (COMPANY, page(200, "company", **A_ONLY)),
    ("company.amend_application", "GET"): (COMPANY, page(200, "company", **A_ONLY)),
    ("company.amend_application", "POST"): (COMPANY, page(422, "company", **A_ONLY)),  # no change note
    ("company.export_application", "GET"): (COMPANY, page(200, "company", **A_ONLY)),
    ("company.tasks", "GET"): (COMPANY, page(200, "company")),
    ("company.task", "GET"): (COMPANY, page(200, "company", **A_ONLY)),
    ("company.task", "POST"): (COMPANY, page(422, "company", **A_ONLY)),  # no file
    ("company.evidence_file", "GET"): (COMPANY, page(200, "company", **A_ONLY)),
    ("company.incidents", "GET"): (COMPANY, page(200, "company")),
    ("company.incidents", "POST"): (COMPANY, page(422, "company")),
    ("company.tokens", "GET"): (COMPANY, page(200, "company")),
    ("company.tokens", "POST"): (COMPANY, page(422, "company")),
    ("company.notices", "GET"): (COMPANY, page(200, "company")),
    ("company.reply", "POST"): (COMPANY, page(422, "company", **A_ONLY)),  # an empty answer
    # No alert exists in this world, so none names A's draft: 404 for both companies (the
    # answer to a real alert, and B's 404 for it, are in tests/unit/web/test_alert_replies.py).
    ("company.reply_to_alert", "POST"): (COMPANY, page(404, "company")),
    ("company.users", "GET"): (COMPANY, page(200, "company")),
    ("company.users", "POST"): (COMPANY, page(422, "company")),
    # --- regulator console
    ("regulator.queue", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.application", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.decide", "POST"): (CONSOLE, page(400, *CONSOLE)),  # no action chosen
    ("regulator.override", "POST"): (CONSOLE, page(422, *CONSOLE)),  # no justification
    ("regulator.rulesets", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.check_ruleset", "POST"): (CONSOLE, page(422, *CONSOLE)),  # no file
    ("regulator.what_if", "GET"): (CONSOLE, page(404, *CONSOLE)),  # no such upload
    ("regulator.activate_ruleset", "POST"): (("admin",), page(404, "admin")),
    ("regulator.rollback_ruleset", "POST"): (("admin",), page(404, "admin")),  # no version 1 in this world
    ("regulator.ruleset_job", "GET"): (CONSOLE, page(303, *CONSOLE)),  # a job this process does not know
    ("regulator.calendar", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.audit", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.exports", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.export_registry", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.export_calendar", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.publication_list", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.new_publication", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.new_publication", "POST"): (CONSOLE, page(422, *CONSOLE)),  # an empty form
    ("regulator.publication", "GET"): (CONSOLE, page(200, *CONSOLE)),
    # The world's publication is published: it is no longer edited or published again.
    ("regulator.edit_publication", "GET"): (CONSOLE, page(409, *CONSOLE)),
    ("regulator.edit_publication", "POST"): (CONSOLE, page(409, *CONSOLE)),
    ("regulator.publish_publication", "POST"): (CONSOLE, page(409, *CONSOLE)),
    ("regulator.withdraw_publication", "POST"): (CONSOLE, page(422, *CONSOLE)),  # no reason
    ("regulator.tier_reviews", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.tier_review", "GET"): (CONSOLE, page(200, *CONSOLE)),
    ("regulator.tier_review", "POST"): (CONSOLE, page(422, *CONSOLE)),  # no decision
    # --- the API's own description
    ("api.openapi_document", "GET"): (EVERYONE, api(200, ANYONE)),
    ("api.docs", "GET"): (EVERYONE, api(200, ANYONE)),
    ("api.docs_asset", "GET"): (EVERYONE, api(200, ANYONE)),
    # --- accounts and tokens
    ("api.register", "POST"): (EVERYONE, api(422, ANYONE)),
    ("api.confirm_registration", "POST"): (EVERYONE, api(422, ANYONE)),  # no token
    # Without e-mail and password: only an administrator's token mints another.
    ("api.create_token", "POST"): (EVERYONE, api(403, ANYONE, anonymous=401, citizen=401, admin=201)),
    ("api.list_tokens", "GET"): (SIGNED_IN, api(200, *SIGNED_IN)),
    ("api.me", "GET"): (SIGNED_IN, api(200, *SIGNED_IN)),
    # --- registry
    ("api.list_companies", "GET"): (SIGNED_IN, api(200, *SIGNED_IN)),
    ("api.create_company", "POST"): (("regulator", "admin"), api(422, "regulator", "admin")),
    ("api.get_company", "GET"): (SIGNED_IN, api(200, *SIGNED_IN, company_b=404, partner=404)),
    ("api.create_user", "POST"): (("admin", "company"), api(422, "admin", "company")),
    ("api.list_applications", "GET"): (SIGNED_IN, api(200, *SIGNED_IN)),
    ("api.create_application", "POST"): (("company", "admin"), api(422, "company", "admin")),
    ("api.get_application", "GET"): (SIGNED_IN, api(200, *SIGNED_IN, company_b=404, partner=404)),
    ("api.update_application", "PATCH"): (("company", "admin"), api(200, "company", "admin", **A_ONLY)),
    ("api.get_version", "GET"): (SIGNED_IN, api(200, *SIGNED_IN, company_b=404, partner=404)),
    # Approving a draft: the regulator side is told the step that comes first; the filer may not.
    ("api.transition", "POST"): (SIGNED_IN, api(409, *SIGNED_IN, company_a=403, company_b=404, analyst=403,
                                                partner=404)),
    ("api.amend", "POST"): (("company", "admin"), api(409, "company", "admin", **A_ONLY)),  # a draft is edited
    ("api.shutdown", "POST"): (("company", "admin"), api(409, "company", "admin", **A_ONLY)),
    ("api.application_audit", "GET"): (SIGNED_IN, api(200, *SIGNED_IN, company_b=404, partner=404)),
    ("api.application_tiers", "GET"): (SIGNED_IN, api(200, *SIGNED_IN, company_b=404, partner=404)),
    ("api.override_tier", "POST"): (("regulator", "admin"), api(422, "regulator", "admin")),
    ("api.end_override", "DELETE"): (("regulator", "admin"), api(404, "regulator", "admin")),
    ("api.list_audit", "GET"): (STAFF, api(200, *STAFF)),
    ("api.verify_audit", "GET"): (("regulator", "admin"), api(200, "regulator", "admin")),
    ("api.list_tasks", "GET"): (SIGNED_IN, api(200, *SIGNED_IN)),
    # An incident report is the company's to hand in (the regulator side sees it, may not close it).
    ("api.complete_task", "POST"): (SIGNED_IN, api(404, *SIGNED_IN, company_a=200, regulator=403, analyst=403,
                                                   admin=200)),
    # --- tiers and rule sets
    ("api.list_rulesets", "GET"): (SIGNED_IN, api(200, *SIGNED_IN)),
    ("api.validate_ruleset", "POST"): (STAFF, api(422, *STAFF)),  # an empty body
    ("api.simulate_ruleset", "POST"): (STAFF, api(422, *STAFF)),
    ("api.activate_ruleset", "POST"): (("admin",), api(422, "admin")),
    ("api.diff_ruleset", "POST"): (STAFF, api(422, *STAFF)),  # an empty body
    ("api.diff_versions", "GET"): (STAFF, api(422, *STAFF)),  # no versions named
    ("api.review_queue", "GET"): (STAFF, api(200, *STAFF)),
    ("api.clear_review_flags", "POST"): (CONSOLE, api(422, *CONSOLE)),  # no reason
    # --- reports and labels
    ("api.submit_scam", "POST"): (EVERYONE, api(422, ANYONE)),
    ("api.submit_incident", "POST"): (("company", "regulator", "admin"), api(422, "company", "regulator", "admin")),
    ("api.submit_bulk", "POST"): (SIGNED_IN, api(422, *SIGNED_IN)),
    ("api.create_label", "POST"): (STAFF, api(201, *STAFF)),  # by the citizen's tracking code
    ("api.list_labels", "GET"): (STAFF, api(200, *STAFF)),
    # --- the public API (what the public pages show)
    ("api.public_check", "GET"): (EVERYONE, api(200, ANYONE)),
    ("api.public_report_status", "GET"): (EVERYONE, api(200, ANYONE)),
    ("api.public_registry", "GET"): (EVERYONE, api(200, ANYONE)),
    ("api.public_registry_entry", "GET"): (EVERYONE, api(404, ANYONE)),  # a draft is not in the register
    ("api.public_publications", "GET"): (EVERYONE, api(200, ANYONE)),
    ("api.public_publication", "GET"): (EVERYONE, api(200, ANYONE)),
    # --- alerts (none exists in this world: staff get 404 for one; regulators read, never act)
    ("api.list_alerts", "GET"): (STAFF, api(200, *STAFF)),
    ("api.get_alert", "GET"): (STAFF, api(404, *STAFF)),
    ("api.alert_action", "POST"): (STAFF, api(404, *STAFF, regulator=403)),
    ("api.bulk_action", "POST"): (STAFF, api(422, *STAFF)),  # an empty body: ids and action required
    ("api.list_silences", "GET"): (STAFF, api(200, *STAFF)),
    ("api.create_silence", "POST"): (STAFF, api(422, *STAFF)),
    ("api.lift_silence", "DELETE"): (STAFF, api(404, *STAFF, regulator=403)),
    ("api.list_subscriptions", "GET"): (STAFF, api(200, *STAFF)),
    ("api.create_subscription", "POST"): (STAFF, api(422, *STAFF)),
    ("api.delete_subscription", "DELETE"): (STAFF, api(404, *STAFF)),
    ("api.list_endpoints", "GET"): (STAFF, api(200, *STAFF)),
    ("api.create_endpoint", "POST"): (STAFF, api(422, *STAFF)),
    ("api.rotate_endpoint", "POST"): (STAFF, api(404, *STAFF)),
    ("api.revoke_endpoint", "DELETE"): (STAFF, api(404, *STAFF)),
    ("api.list_runs", "GET"): (STAFF, api(200, *STAFF)),
    ("api.list_rules", "GET"): (STAFF, api(200, *STAFF)),
    ("api.list_reviews", "GET"): (STAFF, api(200, *STAFF)),
    ("api.get_review", "GET"): (STAFF, api(200, *STAFF)),
    ("api.decide_review", "POST"): (("regulator", "admin"), api(422, "regulator", "admin")),
    # --- last, as they destroy what rows above address
    ("api.revoke_token", "DELETE"): (SIGNED_IN, api(404, *SIGNED_IN, company_a=200, admin=200)),
    ("api.delete_draft", "DELETE"): (("company", "admin"), api(204, "company", "admin", **A_ONLY)),
    # The pages' own destructive steps, after the API's: the token is revoked, the task done and
    # the draft deleted by then, so company A is told so; company B still learns nothing.
    ("company.revoke_token", "POST"): (COMPANY, page(409, "company", **A_ONLY)),
    ("company.complete_task", "POST"): (COMPANY, page(409, "company", **A_ONLY)),
    ("company.delete_application", "POST"): (COMPANY, page(404, "company")),
}

# Path arguments, by name. Objects are company A's; `tracking_code` is the citizen's own for
# the citizen and another reporter's for everyone else.
ARGS = {"filename": "site.css", "code": "en", "name": "swagger-ui.css", "number": 1, "action": "approve",
        "jurisdiction": "cn-gd", "version": 1, "step_key": "service", "shape": "annex-viii", "fmt": "csv",
        "checksum": "0" * 64, "job_id": "no-such-job", "token": "no-such-link", "topic": "cloned_voice",
        "alert_id": 1, "step": "acknowledge", "silence_id": 1, "subscription_id": 1, "endpoint_id": 1}
QUERY: dict[str, dict[str, Any]] = {
    "public.dispute": {"q": "138 0013 8000"},
    "api.public_check": {"q": "138 0013 8000"},
}
BODY: dict[str, dict[str, Any]] = {  # JSON bodies for API calls (default {}), by endpoint
    "api.amend": {"change_note": "更换底层模型"},
    "api.shutdown": {"stopped_on": "2026-01-31"},
    "api.end_override": {"reason": "复核后认为原规则评级准确，恢复按规则自动分级的结果"},
}


@dataclass
class MatrixWorld:
    directory: Path
    ids: dict[str, Any]  # app_id, company_id, token_id, task_id, user ids, tracking codes
    tokens: dict[str, str]


def _container(directory: Path) -> Container:
    return build(load_settings(database_url=f"sqlite:///{directory / 'registry.db'}", data_dir=directory,
                               secret_key="m" * 32))


@pytest.fixture(scope="module")
def matrix_world(_template, tmp_path_factory) -> MatrixWorld:
    """The world of the registry tests, plus what the matrix addresses, built once."""
    from tierwatch.worker import build_worker

    db, world = _template
    directory = tmp_path_factory.mktemp("matrix")
    shutil.copyfile(db, directory / "registry.db")
    shutil.copytree(db.parent / "keys", directory / "keys")
    c = _container(directory)
    app = create_app({"TESTING": True}, c)
    client = app.test_client()
    # Two citizens report through the intake API; the worker stores both.
    codes = [client.post("/api/v1/reports/scam", json={"description": f"冒充公检法要求转账 {n}", "channel": "phone"})
             .get_json()["tracking_code"] for n in range(2)]
    build_worker(c, threading.Event()).run(exit_when_idle=0.3)
    ids: dict[str, Any] = {"tracking_code": codes[0], "other_tracking_code": codes[1]}
    with c.uow() as uow:
        draft = service.create_application(uow, world.a, CreateApplicationIn(**full_fields()))
        other = service.create_application(uow, world.a, CreateApplicationIn(**full_fields(name="粤智写作")))
        task = supervision.open_incident_deadline(uow, other, "matrix-1", datetime.now(UTC), "PT72H")
        uow.session.flush()
        evidence = add_evidence(uow, EvidenceStore(directory / "evidence"), world.a, task.id, "自评估.pdf",
                                b"%PDF-1.4\n%%EOF\n")
        warning = publications.draft(uow, world.regulator, PublicationIn(
            kind="warning", title_zh="警惕冒充公检法", summary_zh="自称警察要求转账的都是诈骗",
            body_zh="公检法机关不会要求转账到安全账户。"))
        publications.publish(uow, world.regulator, warning.id)
        review = reviews.open_review(uow, world.analyst, other.id, "举报集中，请复核分级")
        dispute = disputes.open_dispute(uow, DisputeIn(identifier="138 0013 8000", relation="owner",
                                                       reason="这是我店里的电话"), None)
        user_a = uow.session.get(User, world.a.user_id)
        token, _plain = accounts.issue_token(uow, user_a, "to be revoked")
        tokens = {role: accounts.issue_token(uow, uow.session.get(User, getattr(world, key).user_id))[1]
                  for role, key in ACCOUNT_OF.items()}
        uow.commit()
        ids.update(app_id=draft.id, company_id=world.company_a, task_id=task.id, token_id=token.id,
                   public_id=evidence.public_id, publication_id=warning.id, dispute_id=dispute.id,
                   review_id=review.id,
                   users={role: getattr(world, key).user_id for role, key in ACCOUNT_OF.items()})
        assert uow.session.get(Application, draft.id).company_id == world.company_a
    with c.engine.connect() as conn:
        stored = {row[0] for row in conn.exec_driver_sql("SELECT tracking_code FROM reports")}
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert stored == set(codes), "the citizens' reports went through the intake into the store"
    c.close()
    return MatrixWorld(directory, ids, tokens)


def url_args(world: MatrixWorld, role: str) -> dict[str, Any]:
    args = {**ARGS, **{k: world.ids[k] for k in ("app_id", "company_id", "task_id", "token_id", "public_id",
                                                  "publication_id", "dispute_id", "review_id")}}
    args["tracking_code"] = world.ids["tracking_code" if role == "citizen" else "other_tracking_code"]
    return args


def body_for(world: MatrixWorld, endpoint: str, role: str) -> dict[str, Any]:
    if endpoint == "api.create_label":
        return {"tracking_code": url_args(world, "citizen")["tracking_code"], "is_scam": True}
    return BODY.get(endpoint, {})


def all_routes(app: Any) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}


@pytest.fixture(scope="module")
def bare_app(matrix_world: MatrixWorld) -> Any:
    return create_app({"TESTING": True}, _container(matrix_world.directory))


def test_the_matrix_covers_every_route(bare_app):
    assert sorted(all_routes(bare_app) - set(MATRIX)) == [], "add a row to MATRIX for each new route"
    assert sorted(set(MATRIX) - all_routes(bare_app)) == [], "remove the rows of routes that are gone"


def test_every_view_declares_the_roles_of_its_row(bare_app):
    wrong = []
    for (endpoint, _method), (roles, expected) in MATRIX.items():
        declared = getattr(bare_app.view_functions[endpoint], "allowed_roles", None)
        if declared != frozenset(roles):
            wrong.append(f"{endpoint}: declares {sorted(declared or ['nothing'])}, its row says {sorted(roles)}")
        assert set(expected) == set(ROLES), endpoint
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_on_every_route(matrix_world, role, tmp_path):
    shutil.copytree(matrix_world.directory, tmp_path / "world")
    container = _container(tmp_path / "world")
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, container)
    client = app.test_client()
    user_id = matrix_world.ids["users"].get(role)
    headers = {"Authorization": f"Bearer {matrix_world.tokens[role]}"} if role in matrix_world.tokens else {}

    def sign_in() -> None:
        if user_id is not None:
            with client.session_transaction() as sess:
                sess.update(session_of(app, container, user_id))

    sign_in()
    wrong = []
    for (endpoint, method), (_roles, expected) in MATRIX.items():
        with app.test_request_context():
            rule = next(iter(app.url_map.iter_rules(endpoint)))
            args = {k: v for k, v in url_args(matrix_world, role).items() if k in rule.arguments}
            url = url_for(endpoint, **args, **QUERY.get(endpoint, {}))
        is_api = url.startswith("/api/")
        response = client.open(url, method=method, headers=headers if is_api else {},
                               json=body_for(matrix_world, endpoint, role) if is_api and method != "GET" else None)
        got: int | str = response.status_code
        if got == 302 and "/account/signin" in response.headers.get("Location", ""):
            got = SIGNIN
        response.close()
        if got != expected[role]:
            wrong.append(f"{method} {url}: expected {expected[role]}, got {got}")
        if endpoint == "account.signout":
            sign_in()  # signing out ended the session
    container.close()
    assert wrong == [], "\n".join(wrong)
