"""A rule set as plain, frozen data (what a rule file says, once validated), and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

from tierwatch.core.yamlfile import FileError

# Canonical order of tiers; a rule set uses low, medium, high and may add prohibited above high.
TIER_ORDER = ("low", "medium", "high", "prohibited")
TIER_RANK = {tier: rank for rank, tier in enumerate(TIER_ORDER)}


@dataclass(frozen=True, slots=True)
class Text:
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class Obligation:
    """A supervision duty, as data the scheduler reads: `{kind: self_assessment, every: P3M}`."""

    kind: str
    every: str | None = None  # ISO 8601 duration: recurring
    within: str | None = None  # ISO 8601 duration: deadline after an event
    sample: float | None = None  # share of applications picked (spot checks)
    on_request: bool = False
    level: str | None = None
    note: Text | None = None
    working_days: int | None = None  # deadline in Chinese working days (chinese-calendar counts them)
    before: str | None = None  # a deadline that is an event: "launch", "next_change"

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.kind, self.every, self.within, self.sample, self.on_request, self.working_days,
                self.before)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("every", "within", "sample", "level", "working_days", "before"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.on_request:
            out["on_request"] = True
        if self.note is not None:
            out["note"] = self.note.as_dict()
        return out


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    title: Text
    issuer: Text | None = None
    date: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class LegalBasis:
    source: Source
    article: Text
    text: Text

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.key,
            "title": self.source.title.as_dict(),
            "article": self.article.as_dict(),
            "text": self.text.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class Tier:
    id: str
    label: Text
    obligations: tuple[Obligation, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    condition: str
    reason: Text
    legal_basis: tuple[LegalBasis, ...]
    tier: str | None = None  # the tier it implies (a floor under score combination)
    points: int = 0
    obligations: tuple[Obligation, ...] = ()
    title: Text | None = None
    line: int | None = None
    condition_line: int | None = None


@dataclass(frozen=True, slots=True)
class Combine:
    method: str  # "highest" or "score"
    thresholds: tuple[tuple[str, int], ...] = ()  # (tier, minimum points), ascending
    near_threshold: int | None = None  # flag a score this many points (or fewer) below the top threshold


@dataclass(frozen=True, slots=True)
class Signal:
    """Phrases (zh and en) that suggest a practice; see risk.textmatch."""

    name: str
    label: Text
    phrases: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class TextCheck:
    """When the text shows `signal`: raise to `raises_to` if `question` is unanswered or
    "unknown", flag for review if it is answered against the text; nothing if answered for it."""

    id: str
    signal: str
    question: str
    answer: str  # the answer that agrees with the text ("yes", or a code of a choice / multi question)
    raises_to: str | None
    message: Text
    legal_basis: tuple[LegalBasis, ...]
    raise_if: str | None = None  # a condition on the facts that must hold for the raise (else a flag)
    line: int | None = None
    raise_if_line: int | None = None

    @property
    def condition_line(self) -> int | None:  # what RuleRuntimeError names
        return self.raise_if_line


@dataclass(frozen=True, slots=True)
class ReviewCheck:
    """A condition on the facts that puts the filing in the review queue; never moves the tier."""

    id: str
    condition: str
    flag: str  # unanswered, contradiction, attention
    message: Text
    legal_basis: tuple[LegalBasis, ...] = ()
    line: int | None = None
    condition_line: int | None = None


@dataclass(frozen=True, slots=True)
class Exemption:
    """Rules set aside by explicit answers plus a written justification; always flagged."""

    id: str
    requires: tuple[tuple[str, tuple[str, ...]], ...]  # (question, accepted answers), all needed
    justification: str  # the question whose written justification is needed
    suspends: tuple[str, ...]  # rule and finding ids
    reason: Text
    legal_basis: tuple[LegalBasis, ...]
    unless: str | None = None  # a condition on the facts that voids the claim
    obligations: tuple[Obligation, ...] = ()
    line: int | None = None
    unless_line: int | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A compliance gap: an obligation with a deadline, shown beside the tier, never moving it."""

    id: str
    condition: str
    reason: Text
    legal_basis: tuple[LegalBasis, ...]
    obligations: tuple[Obligation, ...]
    title: Text | None = None
    line: int | None = None
    condition_line: int | None = None


@dataclass(frozen=True)
class RuleSet:
    jurisdiction: str
    title: Text
    edition: str
    combine: Combine
    default_tier: str
    tiers: dict[str, Tier]
    rules: tuple[Rule, ...]
    sources: dict[str, Source]
    source_text: str = field(repr=False, default="")
    filename: str = "<text>"
    checksum: str = ""
    description: Text | None = None
    schema_version: int = 1
    signals: dict[str, Signal] = field(default_factory=dict)
    text_checks: tuple[TextCheck, ...] = ()
    review: tuple[ReviewCheck, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    findings: tuple[Finding, ...] = ()

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def obligations_for(self, tier: str, fired_rule_ids: Iterable[str] = ()) -> tuple[Obligation, ...]:
        """The tier's duties, then those a fired rule adds (e.g. Art. 50 transparency)."""
        out = list(self.tiers[tier].obligations)
        seen = {o.key for o in out}
        for rule_id in fired_rule_ids:
            for o in self.rules_by_id[rule_id].obligations if rule_id in self.rules_by_id else ():
                if o.key not in seen:  # the same duty from two rules counts once
                    seen.add(o.key)
                    out.append(o)
        return tuple(out)


class RuleFileError(FileError):
    """An error in a tiering rule file."""


class RuleSetInvalid(ValueError):
    """A rule file that cannot become a rule set; `errors` names file, line and rule id."""

    def __init__(self, errors: list[RuleFileError]):
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class RuleRuntimeError(RuntimeError):
    """A condition failed while evaluating one application: nothing may be stored."""

    def __init__(self, rule: Rule, filename: str, app_ref: object, message: str):
        self.rule_id, self.app_ref, self.detail = rule.id, app_ref, message
        where = f"{filename}:{rule.condition_line or rule.line}"
        super().__init__(f"{where}: rule {rule.id}: condition failed for application {app_ref}: {message}")


class ApplicationDataError(ValueError):
    """An application dict whose field values do not have the types the vocabulary declares."""

    def __init__(self, app_ref: object, field_name: str, message: str):
        self.app_ref, self.field = app_ref, field_name
        super().__init__(f"application {app_ref}: field {field_name}: {message}")
