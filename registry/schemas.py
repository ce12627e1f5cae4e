"""Input models for the registry's use cases, with field-level errors.

Enum and set fields accept exactly the codes in `registry.vocab`; unknown fields are refused, so a
typo never disappears silently.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel, ConfigDict, Field, StringConstraints, ValidationError, create_model, field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from tierwatch.core.db import ID_MAX
from tierwatch.core.errors import Invalid
from tierwatch.registry.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from tierwatch.registry.vocab import (
    FILING_FIELDS, MAX_JUSTIFICATION, MIN_JUSTIFICATION, QUESTIONS, Question,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NAMED = re.compile(r"^(\w+): (.+)$", re.S)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def validate_credit_code(value: str) -> str:
    """A unified social credit code (GB 32100-2015), check digit included; returns it compact."""
    try:
        return uscc.validate(value)
    except StdnumError as exc:
        raise ValueError(f"not a valid unified social credit code ({exc})") from None


def _check_codes(field: str, value: Any) -> Any:
    kind, vocab = FILING_FIELDS[field]
    if vocab is None or value is None:
        return value
    codes = [value] if kind == "enum" else value
    unknown = [c for c in codes if c not in vocab]
    if unknown:
        raise ValueError(f"unknown code {unknown[0]!r}; expected one of: {', '.join(vocab)}")
    if kind == "set":
        return list(dict.fromkeys(value))  # a set: drop repeats, keep the filer's order
    return value


def _answer_type(q: Question) -> Any:
    if q.kind == "multi":
        return (list[str] | None, None)
    if q.kind == "text":
        return (str | None, Field(default=None, max_length=100))
    return (str | None, None)


def _check_answer(value: Any, info: Any) -> Any:
    q = QUESTIONS[info.field_name]
    if value is None or q.kind == "text":
        return value
    codes = value if q.kind == "multi" else [value]
    unknown = [c for c in codes if c not in (q.choices or {})]
    if unknown:
        raise ValueError(f"unknown answer {unknown[0]!r}; expected one of: {', '.join(q.choices or ())}")
    if q.kind == "multi":
        if "none" in value and len(value) > 1:
            raise ValueError("\"none\" (none of these) cannot be combined with other answers")
        return list(dict.fromkeys(value))
    return value


# One optional field per structured question (registry.vocab.QUESTIONS): a bad answer is an
# error named answers.<question>; null clears an answer (the question is unanswered again).
Answers = create_model(  # type: ignore[call-overload]
    "Answers", __base__=_In, __validators__={"codes": field_validator(*QUESTIONS)(_check_answer)},
    **{code: _answer_type(q) for code, q in QUESTIONS.items()},
)
# Written reasons, only for questions with an exemption answer (Question.justify).
Justifications = create_model(  # type: ignore[call-overload]
    "Justifications", __base__=_In,
    **{code: (str | None, Field(default=None, max_length=MAX_JUSTIFICATION))
       for code, q in QUESTIONS.items() if q.justify},
)


class ModelRef(_In):
    name: str = Field(min_length=1, max_length=200)
    filing_number: str | None = Field(default=None, max_length=80)


class ApplicationFields(_In):
    """Every filing field; all optional so drafts can be saved half-done (see SUBMIT_REQUIRED)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    version: str | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=5000)
    scenario: str | None = Field(default=None, max_length=5000)
    deployment_channels: list[str] | None = None
    models: list[ModelRef] | None = None
    capabilities: list[str] | None = None
    domain: str | None = None
    monthly_active_users: int | None = Field(default=None, ge=0, le=10_000_000_000)
    regions: list[str] | None = None
    audiences: list[str] | None = None
    personal_info: list[str] | None = None
    cross_border_transfer: bool | None = None
    public_opinion_attributes: bool | None = None
    human_oversight: str | None = None
    content_labelling: bool | None = None
    security_assessment_done: bool | None = None
    answers: Answers | None = None  # type: ignore[valid-type]
    justifications: Justifications | None = None  # type: ignore[valid-type]

    @field_validator(
        "deployment_channels", "capabilities", "domain", "audiences", "personal_info", "human_oversight"
    )
    @classmethod
    def _codes(cls, value: Any, info: Any) -> Any:
        return _check_codes(info.field_name, value)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not r.strip() or len(r) > 50 for r in value):
            raise ValueError("each region is a non-empty name or code of at most 50 characters")
        return value

    def given(self) -> dict[str, Any]:
        """Only the fields the caller sent (a PATCH changes nothing else)."""
        data = self.model_dump(exclude_unset=True, mode="json")
        if self.models is not None:  # every model entry carries both keys, set or not
            data["models"] = [m.model_dump() for m in self.models]
        for name in ("answers", "justifications"):  # merged question by question; null clears one
            if data.get(name) is None:
                data.pop(name, None)
        return data


# A filing cannot be submitted until these are stated; an empty list is a statement for
# personal_info ("none processed") but not for the others. The structured questions are not
# required here: an unanswered one never lowers a tier (the rules fall back on the profile) and
# puts the filing in the regulator's review queue (risk.service.review_queue).
SUBMIT_REQUIRED = tuple(FILING_FIELDS)
MAY_BE_EMPTY = frozenset({"personal_info"})


def missing_for_submission(fields: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    for name in SUBMIT_REQUIRED:
        value = fields.get(name)
        if value is None or value == "" or (value == [] and name not in MAY_BE_EMPTY):
            errors.append({"field": name, "message": "required before submission"})
    return errors


def justification_errors(answers: dict[str, Any], justifications: dict[str, Any]) -> list[dict[str, str]]:
    """Answers and written reasons that do not go together, for questions with an exemption
    answer: an exemption claimed without a justification of MIN_JUSTIFICATION characters (the
    rules would not apply it), or a justification beside an answer that claims none (it would
    be kept on the record, explaining nothing). Errors are named justifications.<question>."""
    errors = []
    for code, q in QUESTIONS.items():
        if not q.justify:
            continue
        text = (justifications.get(code) or "").strip()
        claimed = answers.get(code) in q.justify
        if claimed and len(text) < MIN_JUSTIFICATION:
            errors.append({"field": f"justifications.{code}", "code": "justification.missing",
                           "message": f"an answer claiming an exemption needs a written justification "
                                      f"of at least {MIN_JUSTIFICATION} characters"})
        elif text and not claimed:
            errors.append({"field": f"justifications.{code}", "code": "justification.not_claimed",
                           "message": "a written justification is only given for an answer claiming an "
                                      "exemption: clear it, or choose that answer"})
    return errors


class CompanyIn(_In):
    name: str = Field(min_length=2, max_length=200)
    credit_code: str | None = None
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    province: str | None = Field(default=None, max_length=50)
    contact_name: str | None = Field(default=None, max_length=100)
    contact_email: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=50)

    @field_validator("credit_code")
    @classmethod
    def _uscc(cls, value: str | None) -> str | None:
        return validate_credit_code(value) if value else None

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _check_email(value) if value else None

    @model_validator(mode="after")
    def _code_in_china(self) -> "CompanyIn":
        if self.country == "CN" and not self.credit_code:
            raise ValueError("credit_code: required for a company registered in China")
        return self


# A password is kept exactly as typed: no trimming (the model's default strips other text).
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=MAX_LENGTH)]
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=MIN_LENGTH, max_length=MAX_LENGTH)]


class _NewPassword(_In):
    """A new password, checked against the rules of registry.passwords with the account's
    e-mail and name."""

    @model_validator(mode="after")
    def _acceptable(self) -> "_NewPassword":
        problem = password_problem(self.password, self.email, self.name)  # type: ignore[attr-defined]
        if problem:
            raise PydanticCustomError("password", "password: {problem}", {"problem": problem})
        return self


class UserIn(_NewPassword):
    email: str = Field(max_length=200)
    name: str = Field(min_length=1, max_length=100)
    password: NewPassword
    role: Literal["company", "regulator", "analyst", "admin", "partner"] = "company"
    company_id: int | None = Field(default=None, ge=1, le=ID_MAX)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value)


class SelfRegistrationIn(_In):
    company: CompanyIn
    user: "AccountIn"


class AccountIn(_NewPassword):
    email: str = Field(max_length=200)
    name: str = Field(min_length=1, max_length=100)
    password: NewPassword

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value)


class LoginIn(_In):
    email: str = Field(max_length=200)
    password: Password


# Tokens expire: 90 days unless asked otherwise, a year at most.
DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS = 90, 365
TOKEN_SCOPES = ("all", "read", "report")


class TokenIn(_In):
    name: str = Field(default="api", min_length=1, max_length=100)
    days: int = Field(default=DEFAULT_TOKEN_DAYS, ge=1, le=MAX_TOKEN_DAYS)
    scope: Literal["all", "read", "report"] = "all"


class ReasonIn(_In):
    reason: str | None = Field(default=None, max_length=4000)


class AmendIn(_In):
    change_note: str = Field(min_length=2, max_length=4000)
    changed_on: date | None = None


class ShutdownIn(_In):
    stopped_on: date


class CreateApplicationIn(ApplicationFields):
    name: str = Field(min_length=1, max_length=200)
    company_id: int | None = Field(default=None, ge=1, le=ID_MAX)  # admins filing on a company's behalf


class OverrideIn(_In):
    # Tier codes and the justification's minimum length are the risk service's to check.
    jurisdiction: str = Field(min_length=1, max_length=40)
    tier: str = Field(min_length=1, max_length=20)
    justification: str = Field(max_length=4000)


class CompleteTaskIn(_In):
    note: str | None = Field(default=None, max_length=4000)


SelfRegistrationIn.model_rebuild()


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an e-mail address")
    return value.lower()


def parse(model: type[BaseModel], data: Any) -> Any:
    """Validate `data` into `model`, or raise Invalid with one entry per bad field."""
    if not isinstance(data, dict):
        raise Invalid.one("", "expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = {"answers": "unknown question",
                       "justifications": "no written justification is asked for this question (only for an "
                                         "answer claiming an exemption)"}.get(str(err["loc"][0]), "unknown field")
        named = _NAMED.match(message)
        if named and (not err["loc"] or err["loc"][-1] != named[1]):  # model-level checks name their field
            field = ".".join([*map(str, err["loc"]), named[1]])
            message = named[2]
        errors.append({"field": field, "message": message})
    return errors
