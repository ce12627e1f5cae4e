"""HTML forms: Flask-WTF renders the fields and checks the CSRF token; the input is validated by
the pydantic model or the use case behind the form, whose field errors the form pins beside its
fields (``pin_errors``). Every label, hint and message goes through the translation function.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from tierwatch.registry.passwords import MAX_LENGTH, MIN_LENGTH

REQUIRED = _l("This field is required.")


def options(pairs: Any) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    """A set of checkboxes (a fieldset with a legend in the ``field`` macro)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class BaseForm(FlaskForm):
    """A form whose errors may come from a model or a use case, named by model field paths."""

    # Model field path -> form field, where the names differ ("identifiers.phones" -> "phones").
    FIELD_OF: ClassVar[dict[str, str]] = {}

    def field_for(self, model_field: str) -> str | None:
        """The form field that shows errors of ``model_field``: the longest declared prefix of
        its path ("identifiers.phones.2" -> "phones"), else a form field of the same name."""
        parts = model_field.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            found = self.FIELD_OF.get(prefix) or (prefix if prefix in self._fields else None)
            if found and found != "csrf_token":
                return found
        return None

    def pin_errors(self, errors: list[dict[str, str]], only: set[str] | None = None) -> list[dict[str, str]]:
        """Attach field errors to the form's fields (those in ``only``, when given); returns the
        errors no field took, for the page to show above the form."""
        left = []
        for err in errors:
            name = self.field_for(err["field"])
            if name is None or (only is not None and name not in only):
                left.append(err)
                continue
            field = self[name]
            field.errors = [*(field.errors or []), err["message"]]  # type: ignore[misc]
        return left

    def error_fields(self) -> list[Any]:
        """Fields with errors, in form order (the error summary links to each)."""
        return [f for f in self if f.errors and f.name != "csrf_token"]


class SignInForm(BaseForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=200)],
                       render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(REQUIRED)],
        description=_l("At least %(n)s characters. Long phrases are good; common or leaked passwords are refused.", n=MIN_LENGTH),
        render_kw={"autocomplete": "new-password"})
    new_password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(REQUIRED), EqualTo("new_password", _l("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"})
