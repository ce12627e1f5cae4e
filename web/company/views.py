"""The company portal's landing page and the company sign-up."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField

from tierwatch.core.errors import Invalid, NotFound
from tierwatch.core.clock import utcnow
from tierwatch.monitoring import replies
from tierwatch.registry import service, signup, supervision
from tierwatch.registry.passwords import MIN_LENGTH
from tierwatch.registry.schemas import SelfRegistrationIn
from tierwatch.web.auth import ANYONE, allow, current_actor, current_user, login_user, request_uow
from tierwatch.web.company.blueprint import bp
from tierwatch.web.errors import error_page
from tierwatch.web.forms import BaseForm
from tierwatch.web.limits import rate_limit
from tierwatch.web.pagination import Page, offset, page_number
from tierwatch.web.validation import localise, validate

PAGE_SIZE = 20


@bp.get("/")
@allow("company")
def home() -> str:
    actor, user = current_actor(), current_user()
    assert actor is not None and user is not None
    uow = request_uow()
    number = page_number()
    apps, total = service.list_applications(uow, actor, limit=PAGE_SIZE, offset=offset(number, PAGE_SIZE))
    due = supervision.calendar_entries(uow, actor, supervision.CalendarFilter(), limit=200)
    return render_template("company/home.html", company=user.company, page=Page(apps, number, PAGE_SIZE, total),
                           due=due, overdue=[e for e in due if e.task.status == supervision.OVERDUE],
                           named=len(replies.notices(uow, actor, utcnow())),
                           alerted=len({n.alert_id for n in replies.alert_notices(uow, actor, utcnow())}))


class SignupForm(BaseForm):
    company_name = StringField(_l("Company name"), description=_l("As on the business licence."))
    credit_code = StringField(_l("Unified social credit code"), description=_l("18 characters, on the business licence."),
                              render_kw={"autocomplete": "off", "spellcheck": "false"})
    contact_name = StringField(_l("Contact person"), description=_l("Who the regulator contacts about your filings."))
    contact_phone = StringField(_l("Contact phone"), render_kw={"autocomplete": "tel"})
    name = StringField(_l("Your name"), render_kw={"autocomplete": "name"})
    email = EmailField(_l("Your work e-mail"), description=_l("We send a link to confirm it."),
                       render_kw={"autocomplete": "email", "spellcheck": "false"})
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "new-password"},
                             description=_l("At least %(n)s characters. Long phrases are good; common or leaked passwords are refused.", n=MIN_LENGTH))
    FIELD_OF = {"company.name": "company_name", "company.credit_code": "credit_code",
                "company.contact_name": "contact_name", "company.contact_phone": "contact_phone",
                "company.contact_email": "email", "user.name": "name", "user.email": "email",
                "user.password": "password", "user": "password", "company": "credit_code"}


@bp.route("/signup", methods=["GET", "POST"])
@allow(ANYONE)
@rate_limit("PUBLIC_FORM_LIMIT", methods=["POST"])
def signup_page() -> Any:
    form = SignupForm()
    if form.validate_on_submit():
        uow = request_uow()
        data = {"company": {"name": form.company_name.data or "", "credit_code": form.credit_code.data or None,
                            "contact_name": form.contact_name.data or None,
                            "contact_phone": form.contact_phone.data or None,
                            "contact_email": form.email.data or None},
                "user": {"name": form.name.data or "", "email": form.email.data or "",
                         "password": form.password.data or ""}}
        try:
            signup.request_signup(uow, validate(SelfRegistrationIn, data))
        except Invalid as exc:
            form.pin_errors(localise(exc.errors))
        else:
            uow.commit()
            # The same page whether or not the address has an account already.
            return render_template("company/signup_sent.html", email=form.email.data), 200
    return render_template("company/signup.html", form=form), 422 if form.errors else 200


@bp.get("/signup/confirm/<token>")
@allow(ANYONE)
def confirm_signup(token: str) -> Any:
    uow = request_uow()
    try:
        user = signup.confirm_signup(uow, token)
    except NotFound:
        return error_page(404, _("This link is unknown, used or expired. Sign up again, or sign in if you have an account."))
    uow.commit()
    login_user(user)
    return redirect(url_for("company.home"), 303)
