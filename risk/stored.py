"""Stored assessments: the row an Assessment becomes, and the explanation read back from it.

A row keeps what the rules decided and why, without copying what is kept elsewhere: fired rules
name the filing fields their condition read (the values are in the immutable application
version the row references), reasons and legal texts are in the rule-set version's source.
What only the assessment knows is stored as it is: text evidence, review flags with their
evidence, exemptions applied, findings with their deadlines, the margin.

Findings carry dates: the day a gap was first found on the application (kept through later
re-tierings while the gap stays) and each obligation's due date counted from it (calendar days,
or Chinese working days via registry.supervision). A regulator's review of the flags is kept
through a re-tiering that shows the same flags on the same version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from tierwatch.core.clock import CHINA_TZ
from tierwatch.registry.supervision import add_workdays
from tierwatch.risk.engine import Assessment, CompiledRuleSet, FindingResult, filed_values
from tierwatch.risk.models import RiskAssessment, TierOverride
from tierwatch.risk.ruleset import LegalBasis, Obligation, RuleSet, Text

_DAYS = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class Previous:
    """What a new row keeps from the current row it replaces."""

    version_id: int
    flags_key: tuple[tuple[str, str], ...]
    reviewed: tuple[Any, str | None, str | None] | None  # (at, by, note)
    found_on: Mapping[str, str]  # finding id -> ISO date first found


def previous_of(row: RiskAssessment | Any) -> Previous:
    return Previous(row.application_version_id, flags_key(row.flags),
                    (row.flags_reviewed_at, row.flags_reviewed_by, row.flags_review_note)
                    if row.flags_reviewed_at is not None else None,
                    {f["finding_id"]: f["found_on"] for f in row.findings or () if f.get("found_on")})


def flags_key(flags: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((f["id"], f["kind"]) for f in flags))


class RowBuilder:
    """Assessment -> row values for one rule-set version. Filings share Assessment objects
    (risk.engine), so the parts that depend only on the assessment are built once per object."""

    def __init__(self, ruleset: RuleSet, version_id: int, now: datetime):
        self.ruleset, self.version_id, self.now = ruleset, version_id, now
        self.today = now.astimezone(CHINA_TZ).date()
        self._parts: dict[int, tuple[Assessment, dict[str, Any]]] = {}
        self._due: dict[tuple[str, Obligation], str | None] = {}

    def row(self, app_id: int, app_version: int, a: Assessment, override: TierOverride | None,
            previous: Previous | None = None) -> dict[str, Any]:
        cached = self._parts.get(id(a))
        if cached is None or cached[0] is not a:
            cached = (a, self._static(a))
            self._parts[id(a)] = cached  # the Assessment is kept alive with its parts
        parts = cached[1]
        tier = override.tier if override is not None else a.tier
        obligations = parts["obligations"] if tier == a.tier else \
            [o.as_dict() for o in self.ruleset.obligations_for(tier, a.fired_ids)]
        row = {
            "application_id": app_id, "application_version_id": app_version,
            "rule_set_version_id": self.version_id, "jurisdiction": self.ruleset.jurisdiction,
            "computed_tier": a.tier, "tier": tier, "score": a.score,
            "fired_rules": parts["fired_rules"], "obligations": obligations,
            "override_id": override.id if override is not None else None,
            "disagrees_with_override": override is not None and override.tier != a.tier,
            "is_current": True, "created_at": self.now,
            "flags": parts["flags"], "flag_count": len(parts["flags"]),
            "findings": self._findings(a.findings, previous) if a.findings else [],
            "suspended": parts["suspended"], "margin": parts["margin"],
            "flags_reviewed_at": None, "flags_reviewed_by": None, "flags_review_note": None,
        }
        if (previous is not None and previous.reviewed is not None and previous.version_id == app_version
                and previous.flags_key == parts["flags_key"]):
            row["flags_reviewed_at"], row["flags_reviewed_by"], row["flags_review_note"] = previous.reviewed
        return row

    def _static(self, a: Assessment) -> dict[str, Any]:
        flags = [f.as_dict() for f in a.flags]
        return {
            "fired_rules": [{"rule_id": f.rule_id, "fields": list(f.fields), **({"evidence": dict(f.evidence)}
                                                                             if f.evidence else {})}
                            for f in a.fired],
            "obligations": [o.as_dict() for o in a.obligations],
            "flags": flags, "flags_key": flags_key(flags),
            "suspended": [list(s) for s in a.suspended],
            "margin": a.margin.as_dict() if a.margin is not None else None,
        }

    def _findings(self, findings: tuple[FindingResult, ...], previous: Previous | None) -> list[dict[str, Any]]:
        out = []
        for f in findings:
            found_on = (previous.found_on.get(f.finding_id) if previous else None) or self.today.isoformat()
            out.append({"finding_id": f.finding_id, "fields": list(f.fields), "found_on": found_on,
                        "obligations": [dict(o.as_dict(), due_on=self.due_on(found_on, o)) for o in f.obligations]})
        return out

    def due_on(self, found_on: str, o: Obligation) -> str | None:
        """The date an obligation of a finding is due (None: due before an event, e.g. launch)."""
        key = (found_on, o)
        if key not in self._due:
            self._due[key] = due_date(date.fromisoformat(found_on), o)
        return self._due[key]


def due_date(start: date, o: Obligation) -> str | None:
    if o.working_days is not None:
        return add_workdays(start, o.working_days)[0].isoformat()
    match = _DAYS.match(o.within or "")
    if match and any(match.groups()):
        weeks, days = (int(x or 0) for x in match.groups())
        return (start + timedelta(days=7 * weeks + days)).isoformat()
    return None


# --- reading a row back -------------------------------------------------------------------

def _legal(bases: Iterable[LegalBasis]) -> list[dict[str, Any]]:
    return [b.as_dict() for b in bases]


def _reasons(ruleset: RuleSet) -> dict[str, tuple[str | None, int, Text, tuple[LegalBasis, ...]]]:
    """id -> (tier, points, reason, legal basis) for rules and text checks (both can fire)."""
    out = {r.id: (r.tier, r.points, r.reason, r.legal_basis) for r in ruleset.rules}
    out.update({t.id: (t.raises_to, 0, t.message, t.legal_basis) for t in ruleset.text_checks})
    return out


def shown_flags(flags: Iterable[Mapping[str, Any]], compiled: CompiledRuleSet,
                filing: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Stored flags as a reviewer reads them: with the filed values of the fields they name
    (answers, justifications) and, for text evidence, the sentence quoted from the filing."""
    out = []
    for f in flags:
        shown = dict(f)
        if f.get("fields"):
            shown["values"] = filed_values(f["fields"], filing)
        if (f.get("evidence") or {}).get("signal"):
            shown["evidence"] = compiled.quote(filing, f["evidence"])
        out.append(shown)
    return out


def explain_row(row: RiskAssessment, compiled: CompiledRuleSet, filing: Mapping[str, Any]) -> dict[str, Any]:
    """Fired rules with reasons, legal basis and evidence (the filed values looked up from the
    assessed version; a row stored before issue 14 keeps its values in `evidence`), findings
    with reasons and due dates, review flags, what exemptions set aside, and the margin."""
    ruleset = compiled.ruleset
    reasons = _reasons(ruleset)
    fired = []
    for f in row.fired_rules:
        tier, points, reason, bases = reasons[f["rule_id"]]
        evidence = filed_values(f["fields"], filing) if "fields" in f else dict(f.get("evidence") or {})
        if "fields" in f and f.get("evidence"):
            evidence.update(compiled.quote(filing, f["evidence"]))  # a text check: phrases and sentence
        fired.append({"rule_id": f["rule_id"], "tier": tier, "points": points, "reason": reason.as_dict(),
                      "evidence": evidence, "legal_basis": _legal(bases)})
    by_id = {f.id: f for f in ruleset.findings}
    findings = []
    for f in row.findings or ():
        finding = by_id.get(f["finding_id"])
        findings.append({**f, "reason": finding.reason.as_dict() if finding else None,
                         "title": finding.title.as_dict() if finding and finding.title else None,
                         "legal_basis": _legal(finding.legal_basis) if finding else [],
                         "evidence": filed_values(f.get("fields", ()), filing)})
    return {"fired_rules": fired, "findings": findings, "flags": shown_flags(row.flags or (), compiled, filing),
            "suspended": [{"id": target, "by": exemption} for target, exemption in row.suspended or ()],
            "margin": row.margin,
            "review": {"flagged": bool(row.flag_count), "reviewed_at": row.flags_reviewed_at.isoformat()
                       if row.flags_reviewed_at else None, "reviewed_by": row.flags_reviewed_by,
                       "note": row.flags_review_note}}
