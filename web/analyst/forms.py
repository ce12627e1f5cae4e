"""The console's triage forms. Every field is optional here: which ones an action needs is the
use case's to say (``monitoring.alerts.service.act``), and its field errors are pinned beside
these fields. Each action's form on the alert page has its own prefix, so the ids stay unique."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from tierwatch.monitoring.alerts.service import BULK_ACTIONS
from tierwatch.web.forms import BaseForm, options
from tierwatch.web.labels import choices, label

TEXT_LIMIT = 2000


def _none_if_blank(value: Any) -> Any:
    return value if value not in ("", None) else None


class TriageForm(BaseForm):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=TEXT_LIMIT)])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=TEXT_LIMIT)])
    assignee_id = SelectField(_l("Analyst"), choices=[], validate_choice=False, coerce=str)
    tier_review = BooleanField(_l("Ask the regulator to review the linked application's tier"))
    label_reports = RadioField(_l("Label the alert's scam reports for retraining"), choices=[],
                               validate_choice=False, default="")
    scam_type = SelectField(_l("Scam type"), choices=[], validate_choice=False)
    mute_days = IntegerField(_l("Silence this key for (days)"), validators=[Optional(), NumberRange(0, 30)],
                             description=_l("0 to 30; 7 when left empty."))

    def setup(self, staff: list[Any], verdict: str | None = None) -> TriageForm:
        self.assignee_id.choices = options([("", _l("Nobody (unassign)")),
                                            *((str(u.id), f"{u.name} · {label(u.role, 'role')}") for u in staff)])
        self.scam_type.choices = options([("", _l("As the detector judged")), *choices("scam_type")])
        default = {"resolve": "scam", "false_positive": "not_scam"}.get(verdict or "", "leave")
        self.label_reports.choices = options([
            ("scam", _l("Scam (default when resolving)") if default == "scam" else _l("Scam")),
            ("not_scam", _l("Not a scam (default for a false positive)") if default == "not_scam" else _l("Not a scam")),
            ("leave", _l("Leave them unlabelled"))])
        if not self.label_reports.data:
            self.label_reports.data = default
        return self

    def action_fields(self, action: str) -> dict[str, Any]:
        """What the use case reads for ``action``, from the fields this action's form shows."""
        data: dict[str, Any] = {"comment": _none_if_blank((self.comment.data or "").strip())}
        if action in ("escalate", "false_positive", "reopen"):
            data["reason"] = _none_if_blank((self.reason.data or "").strip())
        if action == "escalate":
            data["tier_review"] = bool(self.tier_review.data)
        if action == "assign":
            raw = self.assignee_id.data or ""
            data["unassign"] = raw == ""
            data["assignee_id"] = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
        if action in ("resolve", "false_positive"):
            data["label_reports"] = _none_if_blank(self.label_reports.data)
            data["scam_type"] = _none_if_blank(self.scam_type.data)
        if action == "false_positive":
            data["mute_days"] = self.mute_days.data
        return data


BULK_TEXT = {"acknowledge": _l("Acknowledge"), "assign": _l("Assign to"), "escalate": _l("Escalate"),
             "resolve": _l("Resolve"), "false_positive": _l("False positive"), "comment": _l("Comment")}


class BulkForm(BaseForm):
    ids = SelectMultipleField(_l("Alerts"), choices=[], validate_choice=False, coerce=str)
    action = SelectField(_l("With the selected alerts"), choices=[], validate_choice=False)
    assignee_id = SelectField(_l("Analyst"), choices=[], validate_choice=False, coerce=str)
    comment = TextAreaField(_l("Comment or reason"), validators=[Length(max=TEXT_LIMIT)],
                            description=_l("Required to comment and to mark false positives."))
    back = HiddenField()

    def setup(self, staff: list[Any]) -> BulkForm:
        self.action.choices = options((a, BULK_TEXT[a]) for a in BULK_ACTIONS)
        self.assignee_id.choices = options([("", _l("Nobody (unassign)")),
                                            *((str(u.id), u.name) for u in staff)])
        return self

    def alert_ids(self) -> list[int]:
        return [int(v) for v in self.ids.data or [] if v.isascii() and v.isdigit() and len(v) < 10]
