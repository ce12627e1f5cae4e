"""Assessments as the tier pages show them: each regime side by side, its tier, the rules that
fired (field, reason, legal basis), the obligations of that tier with their deadlines, and
whatever else an assessment carries (findings, margins, review flags), in the visitor's language.

Input is what risk.service.explain() and preview() return (plain dicts), so the stored tier
and the preview of a draft read the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from collections.abc import Sequence
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _

from tierwatch.core.clock import utcnow
from tierwatch.registry.supervision import china_today, period_of
from tierwatch.web import filing
from tierwatch.web.i18n import current_language
from tierwatch.web.labels import label

# Keys every explained assessment has; anything else is shown in its own list.
KNOWN = frozenset({"application_id", "application_version_id", "jurisdiction", "rule_set_version", "edition",
                   "tier", "computed_tier", "score", "override_id", "disagrees_with_override", "fired_rules",
                   "obligations", "assessed_at"})


@dataclass
class RuleView:
    rule_id: str
    tier: str | None
    points: int
    reason: str
    fields: list[tuple[str, str]]  # (field label, the filed value the rule read)
    legal_basis: list[dict[str, str]]  # title, article, text


@dataclass
class ObligationView:
    kind: str
    text: str
    deadline: str


@dataclass
class TierView:
    jurisdiction: str
    regime: str
    tier: str
    computed_tier: str
    overridden: bool
    score: int | None
    version: Any
    edition: str | None
    rules: list[RuleView]
    obligations: list[ObligationView]
    extras: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading, lines)
    override_reason: str | None = None  # the regulator's written justification, when overridden


def pick(value: Any) -> str:
    """{"zh": ..., "en": ...} -> the text in the visitor's language; anything else as text."""
    if isinstance(value, dict) and ("zh" in value or "en" in value):
        return str(value.get("zh" if current_language() == "zh_CN" else "en") or value.get("en") or value.get("zh"))
    return "" if value is None else str(value)


def duration_text(iso: str) -> str:
    """P3M, P1Y, PT24H ... in words."""
    units = {"Y": (_("year"), _("years")), "M": (_("month"), _("months")), "W": (_("week"), _("weeks")),
             "D": (_("day"), _("days")), "H": (_("hour"), _("hours"))}
    parts = []
    for number, unit in re.findall(r"(\d+)([YMWDH])", iso.replace("T", "")):
        n = int(number)
        parts.append(f"{n} {units[unit][0 if n == 1 else 1]}")
    return " ".join(parts) or iso


def obligation_view(ob: dict[str, Any], today: date) -> ObligationView:
    kind = ob.get("kind", "")
    note = pick(ob.get("note")) if ob.get("note") else ""
    if ob.get("on_request"):
        deadline = _("when the regulator asks")
    elif ob.get("every"):
        try:
            _key, due = period_of(today, ob["every"])
            deadline = _("every %(period)s; this period's is due %(date)s", period=duration_text(ob["every"]),
                         date=format_date(due, "medium"))
        except ValueError:
            deadline = duration_text(ob["every"])
        if ob.get("sample"):
            deadline += " · " + _("%(share)s%% of applications are picked", share=round(ob["sample"] * 100))
    elif ob.get("within"):
        deadline = _("within %(period)s", period=duration_text(ob["within"]))
    else:
        deadline = note or "—"
    text = label(kind, "obligation")
    if ob.get("level"):
        text += f" ({label(ob['level'], 'level')})"
    return ObligationView(kind, text, deadline if not (note and deadline != note) else f"{deadline} · {note}")


def tier_view(item: dict[str, Any], reasons: dict[int, str] | None = None) -> TierView:
    today = china_today(utcnow())
    rules = []
    for r in item.get("fired_rules", []):
        evidence = r.get("evidence") or {}
        rules.append(RuleView(
            r.get("rule_id", ""), r.get("tier"), int(r.get("points") or 0), pick(r.get("reason")),
            [(filing.label_for(k) if k in filing.APPLICATION_FIELDS else k, filing.display_value(k, v))
             for k, v in evidence.items()],
            [{"title": pick(b.get("title")), "article": pick(b.get("article")), "text": pick(b.get("text"))}
             for b in r.get("legal_basis", [])]))
    extras = []
    for key, value in item.items():
        if key in KNOWN or value in (None, [], {}):
            continue
        lines = [describe(v) for v in value] if isinstance(value, list) else [describe(value)]
        extras.append((label(key, "assessment"), lines))
    return TierView(
        jurisdiction=item["jurisdiction"], regime=label(item["jurisdiction"], "jurisdiction"),
        tier=item["tier"], computed_tier=item.get("computed_tier", item["tier"]),
        overridden=bool(item.get("override_id")), score=item.get("score"), version=item.get("rule_set_version"),
        edition=item.get("edition"), rules=rules,
        obligations=[obligation_view(o, today) for o in item.get("obligations", [])], extras=extras,
        override_reason=(reasons or {}).get(item.get("override_id") or 0))


def describe(value: Any) -> str:
    """Any part of an assessment as one line: texts in the visitor's language, the rest as key: value."""
    if isinstance(value, dict):
        if "zh" in value or "en" in value:
            return pick(value)
        return "; ".join(f"{label(k, 'assessment')}: {describe(v)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, list):
        return ", ".join(describe(v) for v in value)
    return pick(value)


def tier_views(items: list[dict[str, Any]], overrides: Sequence[Any] = ()) -> list[TierView]:
    """``overrides``: the application's TierOverride rows, whose justifications are shown."""
    reasons = {o.id: o.justification for o in overrides}
    return [tier_view(i, reasons) for i in items]
