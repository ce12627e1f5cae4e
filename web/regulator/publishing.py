"""Publishing: the warnings and case stories drafted for the public pages (by analysts from an
alert, or here), edited, previewed, published or withdrawn with a reason. The work is
``monitoring.public.publications``; publishing refuses a text that names a person."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from tierwatch.antifraud import vocab
from tierwatch.core.errors import Conflict, Invalid
from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.models import DRAFT, PUBLISHED, Publication
from tierwatch.monitoring.public.schemas import PublicationIn
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.content import render_markdown
from tierwatch.web.forms import BaseForm, CheckboxesField
from tierwatch.web.labels import choices, label
from tierwatch.web.regulator.blueprint import bp
from tierwatch.web.validation import validate

PUBLISHERS = publications.PUBLISHERS
KINDS = ("warning", "case_story")
PUBLISHED_SHOWN = 50


class PublicationForm(BaseForm):
    kind = RadioField(_l("Kind"), choices=[])
    title_zh = StringField(_l("Title (Chinese)"))
    title_en = StringField(_l("Title (English, optional)"))
    summary_zh = TextAreaField(_l("Summary (Chinese)"), description=_l("One or two sentences, shown in lists."),
                               render_kw={"rows": 2})
    summary_en = TextAreaField(_l("Summary (English, optional)"), render_kw={"rows": 2})
    body_zh = TextAreaField(_l("Text (Chinese)"), description=_l("Markdown: paragraphs, lists, **bold**. HTML is shown as text."),
                            render_kw={"rows": 10})
    body_en = TextAreaField(_l("Text (English, optional)"), render_kw={"rows": 10})
    scam_type = SelectField(_l("Scam type"), choices=[], default="")
    ai_techniques = CheckboxesField(_l("AI techniques used"), choices=[])
    identifiers = TextAreaField(
        _l("Identifiers the warning is about"), render_kw={"rows": 3, "spellcheck": "false"},
        description=_l("One per line as kind:value, e.g. phone:+8613800138000. The check page shows the warning "
                       "beside them; a case story names none."))
    occurred_on = DateField(_l("When it happened (optional)"), validators=[Optional()])

    def setup(self) -> PublicationForm:
        self.kind.choices = [(k, label(k, "publication")) for k in KINDS]
        self.scam_type.choices = [("", str(_l("Not given"))), *choices("scam_type")]
        self.ai_techniques.choices = choices("ai_technique", skip=("none",))
        return self

    def fill(self, item: Publication) -> PublicationForm:
        if not self.is_submitted():
            for name in ("kind", "title_zh", "title_en", "summary_zh", "summary_en", "body_zh", "body_en",
                         "ai_techniques", "occurred_on"):
                getattr(self, name).data = getattr(item, name)
            self.scam_type.data = item.scam_type or ""
            self.identifiers.data = "\n".join(item.identifiers)
        return self

    def as_input(self, item: Publication | None) -> PublicationIn:
        """The form as the use case's input; an existing draft keeps the alert and reports it came from."""
        text = {name: (getattr(self, name).data or "").strip() or None
                for name in ("title_zh", "title_en", "summary_zh", "summary_en", "body_zh", "body_en")}
        return validate(PublicationIn, {
            "kind": self.kind.data, **text, "scam_type": self.scam_type.data or None,
            "ai_techniques": self.ai_techniques.data or [],
            "identifiers": [line.strip() for line in (self.identifiers.data or "").splitlines() if line.strip()],
            "occurred_on": self.occurred_on.data,
            "source_alert_id": item.source_alert_id if item is not None else None})


class WithdrawForm(BaseForm):
    reason = TextAreaField(_l("Why it is withdrawn"), render_kw={"rows": 3},
                           description=_l("Kept in the audit trail; the public page no longer shows it."))


class PublishForm(BaseForm):
    """Only the CSRF token: the draft as previewed is what is published."""


def _actor() -> Any:
    actor = current_actor()
    assert actor is not None
    return actor


def personal_data_messages(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """The use case's personal-data findings in the visitor's language."""
    out = []
    for err in errors:
        if err.get("code") == "personal_data":
            what = label(err.get("kind", ""), "identifier") if err.get("kind") != "resident_id" else _("ID number")
            err = {**err, "message": _("%(what)s %(value)s: a published text may name no person or account "
                                       "(a warning only the identifiers it declares).", what=what, value=err.get("value", ""))}
        out.append(err)
    return out


@bp.get("/publications")
@allow(*PUBLISHERS)
def publication_list() -> str:
    kind = request.args.get("kind")
    kind = kind if kind in KINDS else None
    uow = request_uow()
    drafts = publications.list_drafts(uow, _actor(), kind)
    published, total = publications.list_published(uow, kind=kind, limit=PUBLISHED_SHOWN)
    return render_template("regulator/publications.html", drafts=drafts, published=published,
                           published_total=total, kind=kind, kinds=KINDS)


def _save(form: PublicationForm, existing: Publication | None) -> Any:
    """Draft (or update ``existing``) from the form; the page to go to next, or None with the
    use case's errors pinned on the form."""
    uow, actor = request_uow(), _actor()
    try:
        data = form.as_input(existing)
        item = publications.update_draft(uow, actor, existing.id, data) if existing is not None \
            else publications.draft(uow, actor, data)
    except Invalid as exc:
        uow.rollback()
        form.pin_errors(exc.errors)
        return None
    uow.commit()
    flash(_("Draft saved.") if existing is not None else _("Draft saved. Check the preview, then publish."), "success")
    return redirect(url_for("regulator.publication", publication_id=item.id), 303)


def _form_page(form: PublicationForm, item: Publication | None) -> Any:
    return render_template("regulator/publication_form.html", form=form, item=item), 422 if form.errors else 200


@bp.route("/publications/new", methods=["GET", "POST"])
@allow(*PUBLISHERS)
def new_publication() -> Any:
    form = PublicationForm().setup()
    if not form.is_submitted():
        form.kind.data = "warning"
    elif form.validate_on_submit():
        return _save(form, None) or _form_page(form, None)
    return _form_page(form, None)


@bp.route("/publications/<int:publication_id>/edit", methods=["GET", "POST"])
@allow(*PUBLISHERS)
def edit_publication(publication_id: int) -> Any:
    item = publications.get(request_uow(), _actor(), publication_id)
    if item.status != DRAFT:
        raise Conflict(f"publication {publication_id} is {item.status}; only a draft is edited")
    form = PublicationForm().setup().fill(item)
    if form.validate_on_submit():
        return _save(form, item) or _form_page(form, item)
    return _form_page(form, item)


def _preview(item: Publication, *, withdraw: WithdrawForm | None = None, refused: list[dict[str, str]] | None = None,
             status: int = 200) -> Any:
    found = personal_data_messages(publications.personal_data_errors(item)) if item.status == DRAFT else []
    return render_template("regulator/publication.html", item=item, problems=refused or found, refused=bool(refused),
                           publish=PublishForm(), withdraw=withdraw or WithdrawForm(), markdown=render_markdown,
                           DRAFT=DRAFT, PUBLISHED=PUBLISHED), status


@bp.get("/publications/<int:publication_id>")
@allow(*PUBLISHERS)
def publication(publication_id: int) -> Any:
    return _preview(publications.get(request_uow(), _actor(), publication_id))


@bp.post("/publications/<int:publication_id>/publish")
@allow(*PUBLISHERS)
def publish_publication(publication_id: int) -> Any:
    if not PublishForm().validate_on_submit():
        abort(400)
    uow = request_uow()
    try:
        item = publications.publish(uow, _actor(), publication_id)
    except Invalid as exc:
        uow.rollback()
        return _preview(publications.get(uow, _actor(), publication_id), refused=personal_data_messages(exc.errors),
                        status=422)
    uow.commit()
    flash(_("Published: the public pages show it now."), "success")
    return redirect(url_for("regulator.publication", publication_id=item.id), 303)


@bp.post("/publications/<int:publication_id>/withdraw")
@allow(*PUBLISHERS)
def withdraw_publication(publication_id: int) -> Any:
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    uow = request_uow()
    try:
        publications.withdraw(uow, _actor(), publication_id, form.reason.data or "")
    except Invalid:
        uow.rollback()
        form.reason.errors = [_("Say why it is withdrawn (at least 5 characters).")]
        return _preview(publications.get(uow, _actor(), publication_id), withdraw=form, status=422)
    uow.commit()
    flash(_("Withdrawn: the public pages no longer show it."), "success")
    return redirect(url_for("regulator.publication", publication_id=publication_id), 303)
