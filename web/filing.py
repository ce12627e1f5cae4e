"""The filing wizard, declared from the filing vocabulary (registry.vocab).

SECTIONS names the steps and which fields each asks; every field is rendered by its kind in
APPLICATION_FIELDS (text, number, yes/no, one code, several codes, a list, the models table),
so a field added to the vocabulary appears without touching the views: a field no section
names is asked in the last step, "More questions", worded from the vocabulary's own question
text when it has one (registry.vocab.QUESTIONS). A question with exemption answers
(Question.justify) has its written justification asked right below it, saved into the filing's
`justifications`. Input is validated by the API's model (registry.schemas.ApplicationFields) and
registry.schemas.justification_errors, and the errors are pinned beside the fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, FieldList, FormField, RadioField, StringField, TextAreaField
from wtforms import Form as PlainForm
from wtforms.validators import Length

from tierwatch.registry import vocab
from tierwatch.registry.schemas import justification_errors
from tierwatch.registry.vocab import APPLICATION_FIELDS
from tierwatch.web.forms import BaseForm, CheckboxesField, options
from tierwatch.web.i18n import current_language

# Answers to the structured questions, where the vocabulary keeps them apart from the profile.
ANSWER_FIELDS: frozenset[str] = frozenset(getattr(vocab, "ANSWER_FIELDS", ()))
QUESTIONS: dict[str, Any] = dict(getattr(vocab, "QUESTIONS", {}))


@dataclass(frozen=True)
class Section:
    key: str
    title: Any  # lazy translated
    fields: tuple[str, ...]
    intro: Any = None


SECTIONS: tuple[Section, ...] = (
    Section("service", _l("Service"), ("name", "version", "description", "scenario", "deployment_channels"),
            _l("What the service is and how people reach it.")),
    Section("models", _l("Models"), ("models",),
            _l("The models the service runs on, each with its own filing number where it has one.")),
    Section("use", _l("Capabilities and domain"), ("capabilities", "domain")),
    Section("reach", _l("Scale, regions and audiences"), ("monthly_active_users", "regions", "audiences")),
    Section("data", _l("Personal information"), ("personal_info", "cross_border_transfer")),
    Section("safeguards", _l("Safeguards"), ("public_opinion_attributes", "cac_algorithm_filing", "human_oversight",
                                             "content_labelling", "security_assessment_done")),
    # The tiering rules' questions, a few short steps instead of one long one.
    Section("who", _l("Who uses it"), ("offered_to_public", "intended_purpose", "annex_i_product", "safety_component",
                                       "interacts_with_people", "public_interest_text", "human_editorial_control"),
            _l("Who the service is for, what it is used for, and whether it talks to people.")),
    Section("biometrics", _l("Biometrics and emotions"),
            ("rbi_remote", "rbi_real_time", "rbi_public_spaces", "rbi_law_enforcement", "rbi_exception",
             "biometric_verification_only", "biometric_categorisation_sensitive", "infers_emotions",
             "emotion_settings", "emotion_medical_or_safety"),
            _l("Recognising people by their face, voice or other biometric data, and reading their emotions.")),
    Section("practices", _l("Practices the laws restrict"),
            ("manipulative_techniques", "exploits_vulnerabilities", "social_scoring", "crime_prediction_profiling",
             "untargeted_face_scraping", "profiling", "differential_pricing", "edits_real_persons"),
            _l("Practices the EU AI Act prohibits or the Chinese provisions restrict.")),
    Section("exemptions", _l("Exemptions claimed"), ("art6_3_exemption", "fraud_detection_only"),
            _l("An exemption applies only on an explicit answer with a written justification, and a regulator "
               "reviews every claim.")),
)
MORE = Section("questions", _l("More questions"), (), _l("Questions the tiering rules ask about the service."))

# Labels and hints of the profile fields (questions bring their own wording).
FIELD_TEXT: dict[str, tuple[Any, Any]] = {
    "name": (_l("Name of the service"), _l("As users see it, e.g. the app's name.")),
    "version": (_l("Version"), None),
    "description": (_l("Description"), _l("What the service does, for whom, and how it works, in a few sentences.")),
    "scenario": (_l("Scenario"), _l("Where and when it is used, e.g. online customer service.")),
    "deployment_channels": (_l("Channels"), None),
    "models": (_l("Models used"), _l("Name and filing number of each model; leave the number empty if it has none.")),
    "capabilities": (_l("Capabilities"), None),
    "domain": (_l("Domain"), None),
    "monthly_active_users": (_l("Monthly active users"), _l("A whole number, e.g. 120000.")),
    "regions": (_l("Regions served"), _l("One per line or separated by commas, e.g. 广东省.")),
    "audiences": (_l("Audiences"), None),
    "personal_info": (_l("Personal information processed"), _l("Tick none if the service processes none of these.")),
    "cross_border_transfer": (_l("Is personal information transferred abroad?"), None),
    "public_opinion_attributes": (_l("Does the service have public-opinion attributes or social-mobilisation capability?"),
                                  None),
    "human_oversight": (_l("Human oversight"), None),
    "content_labelling": (_l("Is generated content labelled?"), _l("Visible labels or metadata marking, as the labelling measures require.")),
    "security_assessment_done": (_l("Has a security assessment been done?"), None),
}
LONG_TEXT = frozenset({"description", "scenario"})
JUSTIFIED: dict[str, Any] = {code: q for code, q in QUESTIONS.items() if q.justify}  # questions with exemption answers
JUSTIFICATION = "_justification"  # suffix of the form field holding a question's written justification
YES, NO = "yes", "no"
MODEL_ROWS = 3  # empty rows offered beyond the models already filed


def sections() -> tuple[Section, ...]:
    """The steps: the declared ones, then every field no step names (new vocabulary)."""
    named = {f for s in SECTIONS for f in s.fields}
    rest = tuple(f for f in APPLICATION_FIELDS if f not in named)
    return SECTIONS + ((Section(MORE.key, MORE.title, rest, MORE.intro),) if rest else ())


def section(key: str) -> Section | None:
    return next((s for s in sections() if s.key == key), None)


def next_section(key: str) -> Section | None:
    steps = sections()
    keys = [s.key for s in steps]
    return steps[keys.index(key) + 1] if key in keys and keys.index(key) + 1 < len(steps) else None


def section_of(field: str) -> str:
    for s in sections():
        if field.split(".")[0] in s.fields:
            return s.key
    return sections()[0].key


def _pick(pair: tuple[str, str]) -> str:
    return pair[0] if current_language() == "zh_CN" else pair[1]


def label_for(name: str) -> str:
    if name in FIELD_TEXT:
        return str(FIELD_TEXT[name][0])
    question = QUESTIONS.get(name)
    return _pick(question.ask) if question is not None else name.replace("_", " ")


def hint_for(name: str) -> str | None:
    if name in FIELD_TEXT:
        hint = FIELD_TEXT[name][1]
        return str(hint) if hint is not None else None
    question = QUESTIONS.get(name)
    return _pick(question.help) if question is not None else None


def justification_label(question: str) -> str:
    """"Written justification (if you answer: ...)", naming the answers that claim the exemption."""
    q = JUSTIFIED[question]
    claimed = [code for code in (q.choices or {}) if code in q.justify]
    if len(claimed) > 1:  # several long answers make a label no phone can show: the hint says it
        return str(_l("Written justification (if your answer claims an exemption)"))
    return str(_l("Written justification (if you answer: %(answers)s)",
                  answers="、".join(code_label(question, code) for code in claimed)))


def justification_hint(question: str) -> str:
    return _pick(JUSTIFIED[question].justification)


def stored_justification(fields: dict[str, Any], question: str) -> str | None:
    return (fields.get("justifications") or {}).get(question) or None


def shows_justification(fields: dict[str, Any], question: str) -> bool:
    """The review lists a justification where one is asked (an exemption claimed) or given."""
    if question not in JUSTIFIED:
        return False
    return stored_value(fields, question) in JUSTIFIED[question].justify or bool(stored_justification(fields, question))


def choices_for(name: str) -> list[tuple[str, str]]:
    labels = APPLICATION_FIELDS[name][1] or {}
    return [(code, _pick(pair)) for code, pair in labels.items()]


def code_label(name: str, code: Any) -> str:
    """A code as people read it, in the current language."""
    labels = APPLICATION_FIELDS.get(name, ("", None))[1]
    if labels and code in labels:
        return _pick(labels[code])
    return str(code)


class ModelRow(PlainForm):
    name = StringField(_l("Model name"), validators=[Length(max=200)])
    filing_number = StringField(_l("Its filing number"), validators=[Length(max=80)])


def _field(name: str) -> Field:
    kind = APPLICATION_FIELDS[name][0]
    label, hint = label_for(name), hint_for(name)
    if name == "models":
        return FieldList(FormField(ModelRow), label=label, description=hint or "", min_entries=MODEL_ROWS)
    if kind == "set":
        return CheckboxesField(label, description=hint or "", choices=options(choices_for(name)))
    if kind == "enum":
        return RadioField(label, description=hint or "", choices=options(choices_for(name)), validate_choice=False)
    if kind == "bool":
        return RadioField(label, description=hint or "", choices=options([(YES, _l("Yes")), (NO, _l("No"))]),
                          validate_choice=False)
    if kind == "int":
        return StringField(label, description=hint or "", render_kw={"inputmode": "numeric"})
    if kind == "list" or name in LONG_TEXT:
        return TextAreaField(label, description=hint or "")
    return StringField(label, description=hint or "")


def form_class(step: Section) -> type[BaseForm]:
    """A Flask-WTF form with the step's fields (CSRF included); a question with exemption
    answers is followed by its justification's text area (fields keep the order created)."""
    attrs: dict[str, Any] = {}
    field_of: dict[str, str] = {}
    for name in step.fields:
        attrs[name] = _field(name)
        field_of[name] = name
        if name in ANSWER_FIELDS:
            field_of[f"answers.{name}"] = name
        if name in JUSTIFIED:
            attrs[name + JUSTIFICATION] = TextAreaField(justification_label(name), description=justification_hint(name),
                                                        render_kw={"rows": 4})
            field_of[f"justifications.{name}"] = name + JUSTIFICATION
    attrs["FIELD_OF"] = field_of
    return type(f"{step.key.title()}Form", (BaseForm,), attrs)


def is_justification(field_name: str) -> bool:
    return field_name.endswith(JUSTIFICATION) and field_name.removesuffix(JUSTIFICATION) in JUSTIFIED


def stored_value(fields: dict[str, Any], name: str) -> Any:
    if name in ANSWER_FIELDS:
        return (fields.get("answers") or {}).get(name)
    return fields.get(name)


def form_data(step: Section, fields: dict[str, Any]) -> dict[str, Any]:
    """A version's stored values as the step's form data."""
    out: dict[str, Any] = {}
    for name in step.fields:
        value, kind = stored_value(fields, name), APPLICATION_FIELDS[name][0]
        if name == "models":
            rows = [{"name": m.get("name") or "", "filing_number": m.get("filing_number") or ""} for m in value or []]
            out[name] = rows + [{"name": "", "filing_number": ""}] * max(MODEL_ROWS - len(rows), 1)
        elif kind == "bool":
            out[name] = None if value is None else (YES if value else NO)
        elif kind == "list":
            out[name] = "\n".join(value or [])
        elif kind == "int":
            out[name] = "" if value is None else str(value)
        else:
            out[name] = value
        if name in JUSTIFIED:
            out[name + JUSTIFICATION] = stored_justification(fields, name) or ""
    return out


def model_input(step: Section, form: BaseForm) -> dict[str, Any]:
    """The step's form -> the API's input (only the step's fields: a PATCH)."""
    data: dict[str, Any] = {}
    for name in step.fields:
        raw, kind = form[name].data, APPLICATION_FIELDS[name][0]
        if name == "models":
            value: Any = [{"name": (r.get("name") or "").strip(), "filing_number": (r.get("filing_number") or "").strip() or None}
                          for r in raw or [] if (r.get("name") or "").strip() or (r.get("filing_number") or "").strip()]
        elif kind == "set":
            value = list(raw or [])
        elif kind in ("enum", "bool"):
            value = {YES: True, NO: False}.get(raw, raw) if kind == "bool" else raw
            value = None if value in ("", "None") else value
        elif kind == "list":
            value = [item.strip() for item in (raw or "").replace("，", ",").replace(",", "\n").splitlines() if item.strip()]
        else:
            # The name is never cleared: an empty one is refused as too short, not set to nothing.
            value = (raw or "").strip() or ("" if name == "name" else None)
        if name in ANSWER_FIELDS:
            data.setdefault("answers", {})[name] = value
        else:
            data[name] = value
        if name in JUSTIFIED:  # an empty text area clears the justification
            data.setdefault("justifications", {})[name] = (form[name + JUSTIFICATION].data or "").strip() or None
    return data


def check_input(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors between the step's answers and their justifications (both are on the step)."""
    return justification_errors(data.get("answers") or {}, data.get("justifications") or {})


def display_value(name: str, value: Any) -> str:
    """A stored value as a line of text for the review step and the diff."""
    kind = APPLICATION_FIELDS.get(name, ("str", None))[0]
    if value is None or value == "" or value == []:
        return "—"
    if name == "models":
        return "；".join(f"{m.get('name')}（{m.get('filing_number') or '—'}）" for m in value)
    if kind == "bool":
        return str(_l("Yes")) if value else str(_l("No"))
    if kind in ("set", "enum"):
        items = value if isinstance(value, list) else [value]
        return "、".join(code_label(name, v) for v in items)
    if kind == "list":
        return "、".join(str(v) for v in value)
    if kind == "int":
        return f"{value:,}"
    return str(value)
