"""A company's supervision tasks with their evidence, its incident reports, its API tokens and
its colleagues' accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, EmailField, IntegerField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from tierwatch.antifraud.vocab import INCIDENT_TYPES, SEVERITIES
from tierwatch.core.errors import Invalid
from tierwatch.monitoring import queries
from tierwatch.monitoring.intake import Submitter, submission, submit_report
from tierwatch.monitoring.messages import InvalidMessage
from tierwatch.registry import accounts, evidence, service, supervision

from tierwatch.registry.schemas import MAX_TOKEN_DAYS, TokenIn, UserIn
from tierwatch.web.auth import allow, current_actor, current_user, request_uow
from tierwatch.web.company.blueprint import bp
from tierwatch.web.context import container_of
from tierwatch.web.forms import BaseForm, options
from tierwatch.web.i18n import current_language
from tierwatch.web.reporters import tracking_key
from tierwatch.web.uploads import upload_limit
from tierwatch.web.validation import localise, validate

EVIDENCE_MESSAGES = {
    "evidence.empty": _l("The file is empty."),
    "evidence.too_large": _l("The file is larger than 10 MB."),
    "evidence.type": _l("Only PDF, PNG, JPEG, Word (DOCX) or Excel (XLSX) files are accepted."),
    "evidence.too_many": _l("A task takes at most 20 files."),
}


def _actor() -> Any:
    actor = current_actor()
    assert actor is not None
    return actor


def _store() -> evidence.EvidenceStore:
    return evidence.EvidenceStore(container_of(current_app).settings.data_dir / "evidence")


# --- tasks and evidence ---------------------------------------------------------------------

@bp.get("/tasks")
@allow("company")
def tasks() -> str:
    entries = supervision.calendar_entries(request_uow(), _actor(), supervision.CalendarFilter())
    return render_template("company/tasks.html", entries=entries)


class EvidenceForm(BaseForm):
    file = FileField(_l("Evidence file"), description=_l("PDF, PNG, JPEG, DOCX or XLSX, at most 10 MB."))
    note = TextAreaField(_l("Note for the regulator"), validators=[Optional()])


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@allow("company")
@upload_limit(evidence.MAX_BYTES)
def task(task_id: int) -> Any:
    uow = request_uow()
    actor = _actor()
    found = supervision.get_task(uow, actor, task_id)
    form = EvidenceForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if upload is None or not getattr(upload, "filename", ""):
                raise Invalid([{"field": "file", "message": "choose a file", "code": "evidence.empty"}])
            evidence.add_evidence(uow, _store(), actor, task_id, upload.filename, upload.read())
        except Invalid as exc:
            form.pin_errors([{**e, "message": str(EVIDENCE_MESSAGES.get(e.get("code", ""), e["message"]))}
                             for e in exc.errors])
        else:
            uow.commit()
            flash(_("The file is handed in."), "success")
            return redirect(url_for("company.task", task_id=task_id), 303)
    files = evidence.list_evidence(uow, actor, task_id)
    return render_template("company/task.html", task=found, files=files, form=form,
                           complete_form=CompleteForm(), can_complete=found.kind in supervision.COMPANY_KINDS
                           and found.status != supervision.DONE), 422 if form.errors else 200


class CompleteForm(BaseForm):
    note = TextAreaField(_l("Note"), validators=[Optional()])


@bp.post("/tasks/<int:task_id>/complete")
@allow("company")
def complete_task(task_id: int) -> Any:
    form = CompleteForm()
    if not form.validate_on_submit():
        abort(400)
    uow = request_uow()
    supervision.complete_task(uow, _actor(), task_id, (form.note.data or "").strip() or None)
    uow.commit()
    flash(_("The task is marked done."), "success")
    return redirect(url_for("company.task", task_id=task_id), 303)


@bp.get("/evidence/<string(length=32):public_id>")
@allow("company")
def evidence_file(public_id: str) -> Response:
    found, data = evidence.open_evidence(request_uow(), _store(), _actor(), public_id)
    return _file_response(found, data)


def _file_response(found: Any, data: bytes) -> Response:
    response = Response(data, mimetype=found.content_type)
    # Always a download with the type it was checked as: never rendered by the browser as a page.
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


# --- incident reports -----------------------------------------------------------------------

def _pick(pair: tuple[str, str]) -> str:
    return pair[0] if current_language() == "zh_CN" else pair[1]


class IncidentForm(BaseForm):
    application = SelectField(_l("Application"), coerce=str, choices=[], validate_choice=False)
    occurred_at = DateTimeLocalField(_l("When it happened"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    incident_type = RadioField(_l("Type of incident"), choices=[], validate_choice=False)
    severity = RadioField(_l("Severity"), choices=[], validate_choice=False)
    affected_users = IntegerField(_l("Users affected"), validators=[Optional()])
    description = TextAreaField(_l("What happened"))
    measures = TextAreaField(_l("Measures taken"), validators=[Optional()])
    FIELD_OF = {"filing_number": "application", "app_name": "application"}


@bp.route("/incidents", methods=["GET", "POST"])
@allow("company")
def incidents() -> Any:
    uow = request_uow()
    actor = _actor()
    user = current_user()
    assert user is not None and user.company is not None
    apps, _total = service.list_applications(uow, actor, limit=500)
    filed = [a for a in apps if a.filing_number]
    form = IncidentForm()
    form.application.choices = options([("", _("Choose an application"))] + [
        (a.filing_number, f"{a.name}（{a.filing_number}）") for a in filed])
    form.incident_type.choices = options((c, _pick(p)) for c, p in INCIDENT_TYPES.items())
    form.severity.choices = options((c, _pick(p)) for c, p in SEVERITIES.items())
    if form.validate_on_submit():
        app = next((a for a in filed if a.filing_number == form.application.data), None)
        data = {"app_name": app.name if app else "", "filing_number": form.application.data or None,
                "occurred_at": form.occurred_at.data.replace(tzinfo=UTC).isoformat() if form.occurred_at.data else None,
                "incident_type": form.incident_type.data, "severity": form.severity.data,
                "affected_users": form.affected_users.data, "description": form.description.data or "",
                "measures": form.measures.data or None}
        data = {k: v for k, v in data.items() if v not in (None, "")}
        submitter = Submitter(role="company", company_id=user.company_id, company_name=user.company.name)
        try:
            report = submission(uow.session, "incident", data, submitter)
            receipt = submit_report(container_of(current_app).bus, report, container_of(current_app).settings.intake,
                                    tracking_key())
        except Invalid as exc:
            form.pin_errors(exc.errors)
        except InvalidMessage as exc:
            form.pin_errors(exc.errors or [{"field": "description", "message": exc.reason}])
        else:
            flash(_("Incident report received. Its code is %(code)s.", code=receipt.tracking_code), "success")
            return redirect(url_for("company.incidents"), 303)
    reports = queries.company_incidents(uow, actor)
    return render_template("company/incidents.html", form=form, reports=reports, has_filed=bool(filed)), \
        422 if form.errors else 200


# --- API tokens -----------------------------------------------------------------------------

class TokenForm(BaseForm):
    name = StringField(_l("Name"), description=_l("What the token is for, e.g. our ticket system."))
    scope = RadioField(_l("What it may do"), choices=options([("read", _l("Read only")), ("report", _l("Send reports only")),
                                                               ("all", _l("Everything the account may do"))]), default="read",
                       validate_choice=False)
    days = IntegerField(_l("Valid for (days)"), default=90, validators=[Optional()],
                        description=_l("At most %(n)s days.", n=MAX_TOKEN_DAYS))
    password = PasswordField(_l("Your password"), description=_l("A token acts as you: confirm it is you."),
                             render_kw={"autocomplete": "current-password"})


class RevokeForm(FlaskForm):
    pass


@bp.route("/tokens", methods=["GET", "POST"])
@allow("company")
def tokens() -> Any:
    uow = request_uow()
    user = current_user()
    assert user is not None
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            data = validate(TokenIn, {"name": form.name.data or "", "scope": form.scope.data,
                                      "days": form.days.data if form.days.data is not None else 90})
            if accounts.authenticate(uow, user.email, form.password.data or "") is None:
                raise Invalid([{"field": "password", "message": str(_("This is not your password."))}])
            _token, new_token = accounts.issue_token(uow, user, data.name, data.days, data.scope)
        except Invalid as exc:
            form.pin_errors(localise(exc.errors))
        else:
            uow.commit()
    listed = accounts.list_tokens(uow, user.id)
    return render_template("company/tokens.html", form=form, tokens=listed, new_token=new_token,
                           revoke_form=RevokeForm(), now=datetime.now(UTC)), 422 if form.errors else 200


@bp.post("/tokens/<int:token_id>/revoke")
@allow("company")
def revoke_token(token_id: int) -> Any:
    if not RevokeForm().validate_on_submit():
        abort(400)
    uow = request_uow()
    accounts.revoke_token(uow, _actor(), token_id)
    uow.commit()
    flash(_("The token is revoked."), "success")
    return redirect(url_for("company.tokens"), 303)


# --- colleagues -----------------------------------------------------------------------------

class ColleagueForm(BaseForm):
    name = StringField(_l("Name"))
    email = EmailField(_l("E-mail"), render_kw={"autocomplete": "off"})
    password = PasswordField(_l("First password"), render_kw={"autocomplete": "new-password"},
                             description=_l("Tell it to your colleague in person; they can change it after signing in."))


@bp.route("/users", methods=["GET", "POST"])
@allow("company")
def users() -> Any:
    uow = request_uow()
    actor = _actor()
    form = ColleagueForm()
    if form.validate_on_submit():
        try:
            data = validate(UserIn, {"name": form.name.data or "", "email": form.email.data or "",
                                     "password": form.password.data or "", "role": "company",
                                     "company_id": actor.company_id})
            accounts.create_user(uow, actor, data)
        except Invalid as exc:
            form.pin_errors(localise(exc.errors))
        else:
            uow.commit()
            flash(_("The account is created."), "success")
            return redirect(url_for("company.users"), 303)
    colleagues = accounts.company_users(uow, actor)
    return render_template("company/users.html", form=form, colleagues=colleagues), 422 if form.errors else 200



