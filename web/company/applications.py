"""A company's filings: the wizard (a step per section, drafts saved), the review step and
submission, the record with its versions and what changed, tiers and the tier preview,
amendments, and the record in other regimes' shapes."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Optional

from tierwatch.core.errors import Invalid
from tierwatch.registry import exports, service, supervision, versions, workflow
from tierwatch.registry.schemas import AmendIn, ApplicationFields, CreateApplicationIn, missing_for_submission
from tierwatch.risk import service as tiering
from tierwatch.web import filing
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.company.blueprint import bp
from tierwatch.web.forms import BaseForm
from tierwatch.web.pagination import Page, offset, page_number
from tierwatch.web.tiers import tier_views
from tierwatch.web.validation import localise, validate

PAGE_SIZE = 20


def _actor() -> Any:
    actor = current_actor()
    assert actor is not None
    return actor


@bp.get("/applications")
@allow("company")
def applications() -> str:
    number = page_number()
    apps, total = service.list_applications(request_uow(), _actor(), limit=PAGE_SIZE, offset=offset(number, PAGE_SIZE))
    return render_template("company/applications.html", page=Page(apps, number, PAGE_SIZE, total))


# --- the wizard -----------------------------------------------------------------------------

def _step_or_404(key: str) -> filing.Section:
    step = filing.section(key)
    if step is None:
        abort(404)
    return step


@bp.route("/applications/new", methods=["GET", "POST"])
@allow("company")
def new_application() -> Any:
    """The first step starts the draft: once it has a name, it is saved."""
    step = filing.sections()[0]
    form = filing.form_class(step)()
    if form.validate_on_submit():
        uow = request_uow()
        try:
            data = validate(CreateApplicationIn, filing.model_input(step, form)).given()
            app = service.create_application(uow, _actor(), CreateApplicationIn(**data))
        except Invalid as exc:
            form.pin_errors(localise(exc.errors))
        else:
            uow.commit()
            flash(_("Draft saved."), "success")
            return redirect(_after_save(app.id, step), 303)
    return render_template("company/wizard.html", form=form, step=step, steps=filing.sections(), app=None,
                           filing=filing), 422 if form.errors else 200


@bp.route("/applications/<int:app_id>/edit/<step_key>", methods=["GET", "POST"])
@allow("company")
def edit_application(app_id: int, step_key: str) -> Any:
    step = _step_or_404(step_key)
    uow = request_uow()
    app = service.get_application(uow, _actor(), app_id)
    version = service.latest_version(app)
    if version.status not in workflow.EDITABLE:
        flash(_("This filing cannot be edited now; amend it instead."), "error")
        return redirect(url_for("company.application", app_id=app_id), 303)
    form_type = filing.form_class(step)
    form = form_type() if request.method == "POST" else form_type(data=filing.form_data(step, service.version_fields(version)))
    if form.validate_on_submit():
        try:
            data = _checked(step, form)
            service.update_application(uow, _actor(), app_id, data)
        except Invalid as exc:
            form.pin_errors(localise(exc.errors))
        else:
            uow.commit()
            flash(_("Draft saved."), "success")
            return redirect(_after_save(app_id, step), 303)
    return render_template("company/wizard.html", form=form, step=step, steps=filing.sections(), app=app,
                           filing=filing), 422 if form.errors else 200


def _checked(step: filing.Section, form: BaseForm) -> ApplicationFields:
    """The step as the API's input, with answers and their justifications checked together."""
    raw = filing.model_input(step, form)
    problems = filing.check_input(raw)
    try:
        data = validate(ApplicationFields, raw)
    except Invalid as exc:
        raise Invalid([*exc.errors, *problems]) from None  # every error of the step at once
    if problems:
        raise Invalid(problems)
    return data


@bp.post("/applications/check/<step_key>")
@allow("company")
def check_step(step_key: str) -> Any:
    """The step's answers checked by the API's model, nothing saved: the wizard's script shows
    each field's message as soon as the field is left (the same check runs on save)."""
    step = _step_or_404(step_key)
    form = filing.form_class(step)()
    if not form.validate_on_submit():
        abort(400)
    errors: list[dict[str, str]] = []
    try:
        if step_key == filing.sections()[0].key:
            validate(CreateApplicationIn, filing.model_input(step, form))
        else:
            _checked(step, form)
    except Invalid as exc:
        errors = [{"field": form.field_for(e["field"]) or e["field"], "message": e["message"]} for e in localise(exc.errors)]
    return jsonify({"fields": [f.name for f in form if f.name != "csrf_token"], "errors": errors})


def _after_save(app_id: int, step: filing.Section) -> str:
    if request.form.get("then") == "stay":
        return url_for("company.edit_application", app_id=app_id, step_key=step.key)
    following = filing.next_section(step.key)
    if following is None:
        return url_for("company.review_application", app_id=app_id)
    return url_for("company.edit_application", app_id=app_id, step_key=following.key)


class SubmitForm(FlaskForm):
    """The version the company reviewed: a filing changed since (another tab, a colleague) is
    shown again instead of being submitted unseen."""

    version = HiddenField(validators=[DataRequired()])


@bp.get("/applications/<int:app_id>/review")
@allow("company")
def review_application(app_id: int) -> Any:
    uow = request_uow()
    app = service.get_application(uow, _actor(), app_id)
    version = service.latest_version(app)
    fields = service.version_fields(version)
    missing = missing_for_submission(fields)
    return render_template("company/review.html", app=app, version=version, fields=fields,
                           missing=missing, steps=filing.sections(), filing=filing, form=SubmitForm(),
                           preview=tier_views(tiering.preview(uow, fields)),
                           editable=version.status in workflow.EDITABLE)


@bp.post("/applications/<int:app_id>/submit")
@allow("company")
def submit_application(app_id: int) -> Any:
    uow = request_uow()
    app = service.get_application(uow, _actor(), app_id)
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    if form.version.data != str(service.latest_version(app).number):
        flash(_("The filing changed since you reviewed it: check it again before submitting."), "error")
        return redirect(url_for("company.review_application", app_id=app_id), 303)
    try:
        service.transition(uow, _actor(), app_id, "submit")
    except Invalid as exc:
        uow.rollback()
        for err in exc.errors:
            flash(_("%(field)s: required before submission.", field=filing.label_for(err["field"])), "error")
        return redirect(url_for("company.review_application", app_id=app_id), 303)
    uow.commit()
    flash(_("Submitted. The regulator reviews it next; you can follow its status here."), "success")
    return redirect(url_for("company.application", app_id=app_id), 303)


class DeleteForm(FlaskForm):
    pass


@bp.post("/applications/<int:app_id>/delete")
@allow("company")
def delete_application(app_id: int) -> Any:
    if not DeleteForm().validate_on_submit():
        abort(400)
    uow = request_uow()
    service.delete_draft(uow, _actor(), app_id)
    uow.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("company.applications"), 303)


# --- the record ------------------------------------------------------------------------------

@bp.get("/applications/<int:app_id>")
@allow("company")
def application(app_id: int) -> str:
    uow = request_uow()
    actor = _actor()
    app = service.get_application(uow, actor, app_id)
    latest = service.latest_version(app)
    diff = versions.compare(uow, actor, app_id)
    tasks = supervision.list_tasks(uow, actor, application_id=app_id, limit=50)
    return render_template("company/application.html", app=app, latest=latest, diff=diff, tasks=tasks,
                           filing=filing, tiers=tier_views([tiering.explain(uow, r) for r in tiering.current_assessments(uow, app_id)],
                                             tiering.overrides_of(uow, app_id)),
                           editable=latest.status in workflow.EDITABLE, amendable=latest.status in workflow.AMENDABLE,
                           deletable=len(app.versions) == 1 and app.status == workflow.DRAFT,
                           delete_form=DeleteForm())


@bp.get("/applications/<int:app_id>/tiers")
@allow("company")
def application_tiers(app_id: int) -> str:
    """The tier under each regime side by side; for a filing not yet tiered, the preview."""
    uow = request_uow()
    app = service.get_application(uow, _actor(), app_id)
    rows = tiering.current_assessments(uow, app_id)
    if rows:
        views, is_preview = tier_views([tiering.explain(uow, r) for r in rows], tiering.overrides_of(uow, app_id)), False
    else:
        views = tier_views(tiering.preview(uow, service.version_fields(service.latest_version(app))))
        is_preview = True
    return render_template("company/tiers.html", app=app, tiers=views, is_preview=is_preview, filing=filing)


class AmendForm(BaseForm):
    change_note = TextAreaField(_l("What changes"), description=_l(
        "Say what changed in the service and why; the regulator reads this first."))
    changed_on = DateField(_l("Date of the change"), validators=[Optional()], description=_l(
        "A change must be filed within 10 working days."))


@bp.route("/applications/<int:app_id>/amend", methods=["GET", "POST"])
@allow("company")
def amend_application(app_id: int) -> Any:
    uow = request_uow()
    app = service.get_application(uow, _actor(), app_id)
    form = AmendForm()
    if form.validate_on_submit():
        try:
            data = validate(AmendIn, {"change_note": form.change_note.data or "", "changed_on": form.changed_on.data})
            service.amend(uow, _actor(), app_id, data)
        except Invalid as exc:
            form.pin_errors(localise(exc.errors))
        else:
            uow.commit()
            flash(_("A new version is open as a draft. The approved one stays in force until this is approved."), "success")
            return redirect(url_for("company.edit_application", app_id=app_id, step_key=filing.sections()[0].key), 303)
    return render_template("company/amend.html", app=app, form=form), 422 if form.errors else 200


EXPORTS = {"annex-viii": exports.annex_viii_a, "cac": exports.cac_form}


@bp.get("/applications/<int:app_id>/export/<any('annex-viii', 'cac'):shape>")
@allow("company")
def export_application(app_id: int, shape: str) -> Any:
    """One record in another regime's shape: a page, or JSON with ?format=json."""
    uow = request_uow()
    app = service.get_application(uow, _actor(), app_id)
    sections = EXPORTS[shape](uow, _actor(), app_id)
    if request.args.get("format") == "json":
        from flask import jsonify

        response = jsonify({"application_id": app_id, "shape": shape, **exports.form_json(sections)})
        response.headers["Content-Disposition"] = f'attachment; filename="{shape}-{app_id}.json"'
        return response
    return render_template("company/export.html", app=app, shape=shape, sections=sections)
