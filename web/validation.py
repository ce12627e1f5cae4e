"""Pydantic errors as field-level messages in the visitor's language, for HTML forms.

A form turns its fields into the input of a pydantic model, ``validate`` parses it, and the
form pins the errors on its fields (forms.BaseForm.pin_errors): one validation, the model's.
Messages are chosen by pydantic's error type; a type not listed keeps pydantic's English text
(add it here, with its translation, when a form meets it).
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError

from tierwatch.core.errors import Invalid
from tierwatch.registry.passwords import MAX_LENGTH, MIN_LENGTH
from tierwatch.registry.vocab import MIN_JUSTIFICATION

M = TypeVar("M", bound=BaseModel)

MESSAGES = {
    "missing": _l("This field is required."),
    "string_too_short": _l("Enter at least %(min_length)s characters."),
    "string_too_long": _l("Enter at most %(max_length)s characters."),
    "too_short": _l("Choose at least %(min_length)s."),
    "too_long": _l("At most %(max_length)s entries."),
    "enum": _l("Choose one of the options."),
    "literal_error": _l("Choose one of the options."),
    "greater_than_equal": _l("Must be %(ge)s or more."),
    "less_than_equal": _l("Must be %(le)s or less."),
    "float_parsing": _l("Enter a number, such as 1200 or 99.5."),
    "float_type": _l("Enter a number, such as 1200 or 99.5."),
    "int_parsing": _l("Enter a whole number."),
    "int_type": _l("Enter a whole number."),
    "int_from_float": _l("Enter a whole number."),
    "bool_parsing": _l("Choose yes or no."),
    "date_from_datetime_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_type": _l("Enter a date as YYYY-MM-DD."),
    "string_pattern_mismatch": _l("This is not in the expected form."),
    "extra_forbidden": _l("Unknown field."),
}


# Codes the use cases put on their field errors (core.errors.Invalid entries with a "code"),
# with the values their messages need.
DOMAIN_MESSAGES = {
    "password.wrong": (_l("This is not your current password."), {}),
    "password.too_short": (_l("Use at least %(n)s characters."), {"n": MIN_LENGTH}),
    "password.too_long": (_l("Use at most %(n)s characters."), {"n": MAX_LENGTH}),
    "password.common": (_l("This password is on lists of leaked passwords: choose another."), {}),
    "password.personal": (_l("Do not use your e-mail address or name."), {}),
    "password.repetitive": (_l("Do not repeat one or two characters."), {}),
    "password.sequence": (_l("Do not use a plain sequence of keys."), {}),
    "password.unchanged": (_l("The new password must differ from the current one."), {}),
    "justification.missing": (_l("This answer claims an exemption: explain it in at least %(n)s characters."),
                              {"n": MIN_JUSTIFICATION}),
    "justification.not_claimed": (_l("Write a justification only when your answer claims the exemption: clear this, "
                                     "or change the answer."), {}),
}


def localise(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Field errors from a use case, with the message of their code in the current language
    (errors without a known code keep their message)."""
    out = []
    for err in errors:
        known = DOMAIN_MESSAGES.get(err.get("code", ""))
        out.append({**err, "message": str(known[0]) % known[1]} if known else err)
    return out


def message_for(err: Any) -> str:
    template = MESSAGES.get(err["type"])
    if template is None:
        return str(err["msg"]).removeprefix("Value error, ")
    ctx = {k: format_decimal(v) if isinstance(v, (int, float)) else v for k, v in (err.get("ctx") or {}).items()}
    return str(template) % ctx


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """[{field, code, message}]: the shape of the API's 422 errors, with a code and the message
    in the current language."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "code": err["type"], "message": message_for(err)}
        for err in exc.errors(include_url=False)
    ]


def validate(model: type[M], data: dict[str, Any]) -> M:
    """Form input (strings) -> model, lax as forms need ("12" is 12); Invalid on errors."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None
