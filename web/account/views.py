"""Sign-in, sign-out, password change and the account page, on the registry's accounts (argon2)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tierwatch.core.errors import Invalid
from tierwatch.registry import accounts
from tierwatch.web.account.blueprint import bp
from tierwatch.web.auth import ANYONE, SIGNED_IN, allow, current_user, home_endpoint, login_user, logout_user, request_uow
from tierwatch.web.forms import PasswordChangeForm, SignInForm
from tierwatch.web.i18n import same_site_path
from tierwatch.web.limits import rate_limit
from tierwatch.web.security_log import note_security_event
from tierwatch.web.validation import localise

# What each role may do, as the account page tells its holder.
ROLE_DUTIES = {
    "company": _l("You file your company's AI applications, follow their review and tiers, and report incidents."),
    "regulator": _l("You review filings, decide on them, override tiers with a justification and publish warnings."),
    "analyst": _l("You study scam reports and alerts and label reports to train the detectors."),
    "admin": _l("You manage accounts and rule sets, and may do what regulators and analysts do."),
    "partner": _l("Your account sends scam reports from a partner feed through the API."),
}


@bp.route("/signin", methods=["GET", "POST"])
@allow(ANYONE)
@rate_limit("SIGNIN_LIMIT", methods=["POST"])
def signin() -> Any:
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        uow = request_uow()
        user = accounts.authenticate(uow, form.email.data or "", form.password.data or "")
        if user is not None:
            uow.commit()  # a hash upgraded to the current argon2 parameters
            login_user(user)
            target = request.args.get("next")
            return redirect(same_site_path(target) if target else url_for(home_endpoint(user.role)), 303)
        note_security_event("signin_failed", tried=form.email.data)
        failed = True
    status = 401 if failed else 422 if form.errors else 200
    return render_template("account/signin.html", form=form, failed=failed), status


@bp.post("/signout")
@allow(*SIGNED_IN)
def signout() -> Any:
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("public.index"), 303)


@bp.route("/password", methods=["GET", "POST"])
@allow(*SIGNED_IN)
@rate_limit("SIGNIN_LIMIT", methods=["POST"])  # the current password is checked here too
def password() -> Any:
    form = PasswordChangeForm()
    user = current_user()
    assert user is not None
    if form.validate_on_submit():
        uow = request_uow()
        try:
            accounts.change_password(uow, user, form.current_password.data or "", form.new_password.data or "")
        except Invalid as exc:
            if any(e.get("code") == "password.wrong" for e in exc.errors):
                note_security_event("password_change_failed")
            form.pin_errors(localise(exc.errors))
        else:
            uow.commit()
            login_user(user)  # this session goes on under the new password; every other one ends
            flash(_("Your password is changed. You were signed out everywhere else."), "success")
            return redirect(url_for("account.home"), 303)
    return render_template("account/password.html", form=form), 422 if form.errors else 200


@bp.get("/")
@allow(*SIGNED_IN)
def home() -> str:
    user = current_user()
    assert user is not None
    return render_template("account/home.html", user=user, duties=ROLE_DUTIES[user.role])
