"""The public forms: the scam report (a wizard of short steps), the dispute of a checked
identifier. Labels, hints and messages go through the translation function; choices are built
per request (``setup``) so they come in the visitor's language.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from tierwatch.antifraud import vocab
from tierwatch.web.forms import REQUIRED, BaseForm, CheckboxesField
from tierwatch.web.labels import choices

MAX_IDENTIFIERS = 20  # per box; the message schema takes 50
MAX_AMOUNT = Decimal("1000000000000")
EARLIEST = date(2000, 1, 1)
# The registry's rule for an address (registry.schemas): something@something.something, no spaces.
# Deliverability is not checked: it would need a DNS query, and the address is optional.
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address such as name@example.cn."))


def _lines(text: str | None) -> list[str]:
    """A box of one identifier per line (commas and Chinese commas also separate)."""
    return [part.strip() for part in re.split(r"[\n\r,，、;；]+", text or "") if part.strip()]


def parse_amount(raw: str | None) -> Decimal | None:
    """"1,200", "¥1200.50", "1200元", "１２００" -> Decimal; None for an empty box; ValueError else."""
    text = re.sub(r"[\s,，¥￥元]|RMB|CNY", "", (raw or "").strip(), flags=re.I)
    text = text.translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    if not text:
        return None
    if not re.fullmatch(r"\d+(?:\.\d{1,2})?", text):
        raise ValueError(text)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None


def _amount(form: Any, field: Any) -> None:
    try:
        value = parse_amount(field.data)
    except ValueError:
        raise ValidationError(str(_l("Enter an amount in yuan, such as 1200 or 99.50."))) from None
    if value is not None and value > MAX_AMOUNT:
        raise ValidationError(str(_l("That amount is too large.")))


def _identifier_lines(form: Any, field: Any) -> None:
    lines = _lines(field.data)
    if len(lines) > MAX_IDENTIFIERS:
        raise ValidationError(str(_l("At most %(n)s, one per line.", n=MAX_IDENTIFIERS)))
    if any(len(line) > 300 for line in lines):
        raise ValidationError(str(_l("One of the lines is too long: put one per line.")))


def _past_date(form: Any, field: Any) -> None:
    from tierwatch.core.clock import CHINA_TZ, utcnow

    if field.data is None:
        return
    if field.data > utcnow().astimezone(CHINA_TZ).date():
        raise ValidationError(str(_l("This date is in the future.")))
    if field.data < EARLIEST:
        raise ValidationError(str(_l("Enter a date from 2000 on.")))


class ReportForm(BaseForm):
    """Every answer of the report. The page shows one step's fields and carries the others in
    hidden fields, so the form works without JavaScript and without storing anything between
    steps (not in the cookie either: a report may be long, and it is nobody else's business)."""

    STEPS = ("what", "how", "who", "money", "contact", "preview")
    STEP_FIELDS: dict[str, tuple[str, ...]] = {
        "what": ("description", "occurred_on", "city"),
        "how": ("channel", "ai_techniques", "app_name"),
        "who": ("phones", "urls", "accounts", "payment_accounts"),
        "money": ("amount", "payment_method"),
        "contact": ("contact_name", "contact_phone", "contact_email"),
        "preview": (),
    }
    # Message schema field -> form field (monitoring.messages.ScamReport), for errors the intake finds.
    FIELD_OF = {
        "description": "description", "occurred_at": "occurred_on", "region": "city", "channel": "channel",
        "ai_techniques": "ai_techniques", "app_name": "app_name", "identifiers.phones": "phones",
        "identifiers.urls": "urls", "identifiers.accounts": "accounts",
        "identifiers.payment_accounts": "payment_accounts", "amount_lost": "amount",
        "payment_method": "payment_method", "reporter_contact.name": "contact_name",
        "reporter_contact.phone": "contact_phone", "reporter_contact.email": "contact_email",
    }

    step = HiddenField(default="what")
    # Chosen by the server when the form is first shown; the report's id derives from it, so a
    # report sent twice (a double tap, a reload) is one report.
    submission_id = HiddenField()

    description = TextAreaField(
        _l("What happened?"), validators=[DataRequired(REQUIRED), Length(max=5000)],
        description=_l("In your own words: who contacted you, what they said, what they asked you to do."),
        render_kw={"rows": 8, "maxlength": 5000})
    occurred_on = DateField(
        _l("When did it happen?"), validators=[Optional(), _past_date],
        description=_l("The day of the first contact, if you know it."))
    city = SelectField(_l("Where do you live?"), validators=[Optional()], choices=[],
                       description=_l("So that the police and the regulator see where scams strike."))

    channel = RadioField(_l("How did they contact you?"), validators=[DataRequired(REQUIRED)], choices=[])
    ai_techniques = CheckboxesField(
        _l("Did any of these seem to be involved?"), choices=[],
        description=_l("Tick all that apply. Leave all empty if you are not sure."))
    app_name = StringField(_l("App or platform they used (optional)"), validators=[Optional(), Length(max=200)],
                           description=_l("For example the app they asked you to install."))

    phones = TextAreaField(_l("Phone numbers they used"), validators=[Optional(), _identifier_lines],
                           description=_l("One per line, in any format."),
                           render_kw={"rows": 2, "autocomplete": "off", "inputmode": "tel"})
    urls = TextAreaField(_l("Websites or links"), validators=[Optional(), _identifier_lines],
                         description=_l("One per line. Copy the link; do not open it again."),
                         render_kw={"rows": 2, "autocomplete": "off", "spellcheck": "false"})
    accounts = TextAreaField(_l("Their chat or social media accounts"), validators=[Optional(), _identifier_lines],
                             description=_l("WeChat, QQ, Douyin, Telegram... one per line, e.g. \"WeChat abc123\"."),
                             render_kw={"rows": 2, "autocomplete": "off", "spellcheck": "false"})
    payment_accounts = TextAreaField(
        _l("Accounts you paid into"), validators=[Optional(), _identifier_lines],
        description=_l("Bank card numbers, Alipay or WeChat Pay accounts, one per line."),
        render_kw={"rows": 2, "autocomplete": "off", "inputmode": "text"})

    amount = StringField(_l("How much money did you lose, in yuan?"), validators=[Optional(), _amount],
                         description=_l("Leave empty if you lost nothing."),
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    payment_method = RadioField(_l("How did you pay?"), validators=[Optional()], choices=[])

    contact_name = StringField(_l("Your name"), validators=[Optional(), Length(max=100)],
                               render_kw={"autocomplete": "name"})
    contact_phone = StringField(_l("Your phone number"), validators=[Optional(), Length(max=50)],
                                render_kw={"autocomplete": "tel", "inputmode": "tel"})
    contact_email = EmailField(_l("Your e-mail address"),
                               validators=[Optional(), EMAIL, Length(max=200)],
                               render_kw={"autocomplete": "email"})

    def setup(self) -> "ReportForm":
        self.city.choices = [("", str(_l("Choose a city (optional)"))), *choices("city"),
                             ("other", str(_l("Outside Guangdong")))]
        self.channel.choices = choices("channel")
        self.ai_techniques.choices = choices("ai_technique", skip=("none",))
        self.payment_method.choices = choices("payment_method")
        return self

    @property
    def current_step(self) -> str:
        return self.step.data if self.step.data in self.STEPS else "what"

    def step_number(self, step: str | None = None) -> int:
        return self.STEPS.index(step or self.current_step) + 1

    def fields_of(self, step: str) -> list[Any]:
        return [self[name] for name in self.STEP_FIELDS[step]]

    def carried(self, step: str) -> list[Any]:
        """The answers of the other steps, kept as hidden fields on this one."""
        shown = set(self.STEP_FIELDS[step])
        return [self[name] for step_ in self.STEPS for name in self.STEP_FIELDS[step_] if name not in shown]

    def validate_step(self, step: str) -> bool:
        ok = True
        for f in self.fields_of(step):
            ok = f.validate(self) and ok
        return ok

    def first_step_with_errors(self) -> str | None:
        return next((s for s in self.STEPS if any(f.errors for f in self.fields_of(s))), None)

    def report_data(self) -> dict[str, Any]:
        """The answers as a scam report for the intake (monitoring.intake.submission)."""
        from tierwatch.core.clock import CHINA_TZ
        from datetime import datetime, time

        data: dict[str, Any] = {"description": self.description.data, "channel": self.channel.data}
        if self.occurred_on.data:
            # Noon in Guangdong: the day stays the same day in every time zone it is shown in.
            data["occurred_at"] = datetime.combine(self.occurred_on.data, time(12), CHINA_TZ).isoformat()
        if self.city.data in vocab.GD_CITIES:
            data["region"] = vocab.city_region(self.city.data)
        if self.ai_techniques.data:
            data["ai_techniques"] = list(self.ai_techniques.data)
        if (self.app_name.data or "").strip():
            data["app_name"] = self.app_name.data.strip()
        identifiers = {name: _lines(self[name].data) for name in ("phones", "urls", "accounts", "payment_accounts")}
        if any(identifiers.values()):
            data["identifiers"] = identifiers
        amount = parse_amount(self.amount.data)
        if amount is not None:
            data["amount_lost"] = float(amount)
        if self.payment_method.data:
            data["payment_method"] = self.payment_method.data
        contact = {k: (self[f"contact_{k}"].data or "").strip() for k in ("name", "phone", "email")}
        if any(contact.values()):
            data["reporter_contact"] = {k: v for k, v in contact.items() if v}
        return data


class DisputeForm(BaseForm):
    FIELD_OF = {"contact.name": "contact_name", "contact.phone": "contact_phone", "contact.email": "contact_email"}

    identifier = HiddenField()
    relation = RadioField(_l("What is your relation to it?"), validators=[DataRequired(REQUIRED)], choices=[])
    reason = TextAreaField(_l("Why is it not a scam?"), validators=[DataRequired(REQUIRED), Length(min=5, max=2000)],
                           description=_l("For example: it is the number of my shop, and here is how customers know it."),
                           render_kw={"rows": 5, "maxlength": 2000})
    contact_name = StringField(_l("Your name (optional)"), validators=[Optional(), Length(max=100)],
                               render_kw={"autocomplete": "name"})
    contact_phone = StringField(_l("A phone number to reach you (optional)"), validators=[Optional(), Length(max=50)],
                                render_kw={"autocomplete": "tel", "inputmode": "tel"})
    contact_email = EmailField(_l("An e-mail address to reach you (optional)"),
                               validators=[Optional(), EMAIL, Length(max=200)],
                               render_kw={"autocomplete": "email"})

    def setup(self) -> "DisputeForm":
        self.relation.choices = [("owner", str(_l("It is mine (my number, site or account)"))),
                                 ("not_scam", str(_l("It is not a scam, but not mine")))]
        return self

    def dispute_data(self) -> dict[str, Any]:
        contact = {k: (self[f"contact_{k}"].data or "").strip() for k in ("name", "phone", "email")}
        data: dict[str, Any] = {"identifier": self.identifier.data or "", "relation": self.relation.data,
                                "reason": self.reason.data or ""}
        if any(contact.values()):
            data["contact"] = {k: v for k, v in contact.items() if v}
        return data


class DecisionForm(BaseForm):
    decision = RadioField(_l("Decision"), validators=[DataRequired(REQUIRED)], choices=[])
    note = TextAreaField(_l("Reason for the decision"), validators=[DataRequired(REQUIRED), Length(min=4, max=2000)],
                         render_kw={"rows": 4})

    def setup(self) -> "DecisionForm":
        self.decision.choices = [("upheld", str(_l("Uphold: it is not a scam; set the reports aside on public pages"))),
                                 ("rejected", str(_l("Reject: the reports stand")))]
        return self
