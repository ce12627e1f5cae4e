"""`tierwatch rules diff OLD NEW`: what changed between two rule-set versions, and whom it moves.

Pure: two compiled rule sets and (optionally) filings in, a RuleSetDiff out. The service feeds it
the stored registry or a file of filings; the CLI and the API print or serialise it.

- Items are compared by id: rules, text checks, review checks, findings, exemptions (added,
  removed, or changed and in which attributes), signals (phrases added and removed), the
  combination thresholds and each tier's obligations.
- A filing moves when its tier differs. Its causes are the ids that contribute to one
  assessment and not the other (a rule that fires only under NEW, an exemption applied only
  under OLD ...), plus contributors to both whose definition changed, plus the thresholds if
  they changed under score combination.
- An edition label names one content: `edition_conflict` says why a file may not be activated
  when a stored version of the jurisdiction has the same edition and another checksum.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from tierwatch.risk.engine import Assessment, CompiledRuleSet
from tierwatch.risk.ruleset import RuleSet

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ItemChange:
    kind: str  # rule, text_check, review, finding, exemption, signal, combine, tier
    id: str
    change: str  # added, removed, changed
    attributes: tuple[str, ...] = ()  # what changed (for "changed")
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "change": self.change, "attributes": list(self.attributes),
                "detail": self.detail}


@dataclass(frozen=True)
class Move:
    ref: object
    name: str
    before: str
    after: str
    caused_by: tuple[str, ...]
    score_before: int
    score_after: int

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "name": self.name, "before": self.before, "after": self.after,
                "caused_by": list(self.caused_by), "score_before": self.score_before, "score_after": self.score_after}


@dataclass
class RuleSetDiff:
    jurisdiction: str
    old_edition: str
    new_edition: str
    old_checksum: str
    new_checksum: str
    items: list[ItemChange] = field(default_factory=list)
    assessed: int = 0
    moves: list[Move] = field(default_factory=list)
    matrix: Counter[tuple[str, str]] = field(default_factory=Counter)
    flags_added: int = 0  # filings that gain a review flag kind they did not have
    findings_changed: int = 0
    edition_conflict: str | None = None  # why activating NEW would be refused (a reused label)

    @property
    def same_edition_changed(self) -> bool:
        return self.old_edition == self.new_edition and self.old_checksum != self.new_checksum

    def as_dict(self, moves: int | None = None) -> dict[str, Any]:
        """`moves`: list at most this many moves (the count is always whole)."""
        return {"jurisdiction": self.jurisdiction, "old": {"edition": self.old_edition, "checksum": self.old_checksum},
                "new": {"edition": self.new_edition, "checksum": self.new_checksum},
                "same_edition_changed": self.same_edition_changed,
                "items": [i.as_dict() for i in self.items], "assessed": self.assessed,
                "moved": len(self.moves), "moves": [m.as_dict() for m in self.moves[:moves]],
                "matrix": [{"before": b, "after": a, "count": n} for (b, a), n in sorted(self.matrix.items())],
                "flags_added": self.flags_added, "findings_changed": self.findings_changed,
                "edition_conflict": self.edition_conflict}


class DiffRefused(ValueError):
    """Two files of different jurisdictions cannot be compared."""


def diff_rulesets(old: CompiledRuleSet, new: CompiledRuleSet,
                  filings: Iterable[tuple[object, Mapping[str, Any]]] = (),
                  stored: Iterable[tuple[int, str, str]] = ()) -> RuleSetDiff:
    """`stored`: the jurisdiction's stored (version, edition, checksum), for the edition guard."""
    a, b = old.ruleset, new.ruleset
    if a.jurisdiction != b.jurisdiction:
        raise DiffRefused(f"cannot compare {a.jurisdiction} with {b.jurisdiction}")
    out = RuleSetDiff(a.jurisdiction, a.edition, b.edition, a.checksum, b.checksum, items=item_changes(a, b))
    out.edition_conflict = edition_conflict(b, stored)
    changed_ids = {i.id for i in out.items if i.change == "changed"}
    thresholds_changed = a.combine != b.combine and b.combine.method == "score"
    for ref, app in filings:
        before, after = old.assess(app, ref), new.assess(app, ref)
        out.assessed += 1
        out.matrix[(before.tier, after.tier)] += 1
        if after.flag_kinds - before.flag_kinds:
            out.flags_added += 1
        if {f.finding_id for f in before.findings} != {f.finding_id for f in after.findings}:
            out.findings_changed += 1
        if before.tier != after.tier:
            causes = _causes(before, after, changed_ids, thresholds_changed)
            out.moves.append(Move(ref, str(app.get("name") or ""), before.tier, after.tier, causes,
                                  before.score, after.score))
    return out


def _contributors(a: Assessment) -> set[str]:
    applied = {f.id for f in a.flags if f.kind == "exemption_applied"}
    return {f.rule_id for f in a.fired} | applied


def _causes(before: Assessment, after: Assessment, changed: set[str], thresholds_changed: bool) -> tuple[str, ...]:
    old, new = _contributors(before), _contributors(after)
    causes = sorted((old ^ new) | ((old & new) & changed))
    if thresholds_changed:
        causes.append("combine.thresholds")
    return tuple(causes)


# --- what changed in the file -----------------------------------------------------------------

def item_changes(a: RuleSet, b: RuleSet) -> list[ItemChange]:
    out: list[ItemChange] = []
    sections = (
        ("rule", a.rules, b.rules, _rule_view),
        ("text_check", a.text_checks, b.text_checks, _plain_view),
        ("review", a.review, b.review, _plain_view),
        ("finding", a.findings, b.findings, _plain_view),
        ("exemption", a.exemptions, b.exemptions, _plain_view),
    )
    for kind, old_items, new_items, view in sections:
        old_by = {i.id: view(i) for i in old_items}
        new_by = {i.id: view(i) for i in new_items}
        out += [ItemChange(kind, i, "removed") for i in old_by if i not in new_by]
        out += [ItemChange(kind, i, "added", detail=_summary(new_by[i])) for i in new_by if i not in old_by]
        for i in [i for i in new_by if i in old_by]:  # in NEW's file order
            attributes = tuple(k for k in sorted(old_by[i].keys() | new_by[i].keys())
                               if old_by[i].get(k) != new_by[i].get(k))
            if attributes:
                out.append(ItemChange(kind, i, "changed", attributes, _attribute_detail(old_by[i], new_by[i], attributes)))
    for name in sorted(a.signals.keys() | b.signals.keys()):
        old_terms = _terms(a.signals.get(name))
        new_terms = _terms(b.signals.get(name))
        if name not in b.signals:
            out.append(ItemChange("signal", name, "removed"))
        elif name not in a.signals:
            out.append(ItemChange("signal", name, "added", detail=f"{len(new_terms)} phrases"))
        elif old_terms != new_terms:
            plus, minus = sorted(new_terms - old_terms), sorted(old_terms - new_terms)
            out.append(ItemChange("signal", name, "changed", ("phrases",),
                                  " ".join([f"+{t}" for t in plus] + [f"-{t}" for t in minus])))
    if a.combine != b.combine:
        out.append(ItemChange("combine", "combine", "changed", ("method", "thresholds", "near_threshold"),
                              f"{_combine(a)} -> {_combine(b)}"))
    for tier in sorted(a.tiers.keys() | b.tiers.keys()):
        if tier not in b.tiers:
            out.append(ItemChange("tier", tier, "removed"))
        elif tier not in a.tiers:
            out.append(ItemChange("tier", tier, "added"))
        elif a.tiers[tier].obligations != b.tiers[tier].obligations:
            out.append(ItemChange("tier", tier, "changed", ("obligations",)))
    return out


def _rule_view(r: Any) -> dict[str, Any]:
    return {"condition": _SPACE.sub(" ", r.condition).strip(), "tier": r.tier, "points": r.points,
            "obligations": r.obligations, "legal_basis": r.legal_basis, "reason": r.reason, "title": r.title}


def _plain_view(item: Any) -> dict[str, Any]:
    view = {k: getattr(item, k) for k in item.__dataclass_fields__ if not k.endswith("line")}
    for k in ("condition", "unless", "raise_if"):
        if isinstance(view.get(k), str):
            view[k] = _SPACE.sub(" ", view[k]).strip()
    view.pop("id", None)
    return view


def _summary(view: Mapping[str, Any]) -> str:
    parts = []
    if view.get("tier"):
        parts.append(f"tier {view['tier']}")
    if view.get("points"):
        parts.append(f"+{view['points']}")
    if view.get("raises_to"):
        parts.append(f"raises to {view['raises_to']}")
    return ", ".join(parts)


def _attribute_detail(old: Mapping[str, Any], new: Mapping[str, Any], attributes: tuple[str, ...]) -> str:
    shown = []
    for k in attributes:
        if k in ("tier", "points", "raises_to", "flag"):
            shown.append(f"{k} {old.get(k)} -> {new.get(k)}")
    return "; ".join(shown)


def _terms(signal: Any) -> set[str]:
    if signal is None:
        return set()
    return set(signal.phrases) | {f"{i}:{t}" for i, g in enumerate(signal.groups) for t in g}


def _combine(rs: RuleSet) -> str:
    c = rs.combine
    if c.method == "highest":
        return "highest"
    return "score " + ", ".join(f"{t}>={p}" for t, p in c.thresholds)


def edition_conflict(new: RuleSet, stored: Iterable[tuple[int, str, str]]) -> str | None:
    """Why `new` may not be activated, given the jurisdiction's stored (version, edition,
    checksum) rows; None when it may. Re-activating identical content is allowed (a rollback)."""
    for version, edition, checksum in stored:
        if edition == new.edition and checksum != new.checksum:
            return (f"edition {new.edition!r} is already used by version {version} with different content; "
                    f"give the changed file a new edition label")
    return None


def render(d: RuleSetDiff, limit: int = 50) -> list[str]:
    """The diff as text lines (the CLI prints them)."""
    lines = [f"{d.jurisdiction}: {d.old_edition} ({d.old_checksum[:12]}) -> {d.new_edition} ({d.new_checksum[:12]})"]
    if d.edition_conflict:
        lines.append(f"  WARNING: activation would be refused: {d.edition_conflict}")
    elif d.same_edition_changed:
        lines.append("  WARNING: the content changed but the edition label did not; give NEW a new edition label")
    counts = Counter((i.kind, i.change) for i in d.items)
    lines.append("  " + ", ".join(f"{kind} {change}: {n}" for (kind, change), n in sorted(counts.items())) or "  no changes")
    mark = {"added": "+", "removed": "-", "changed": "~"}
    for i in d.items:
        extra = f" [{', '.join(i.attributes)}]" if i.attributes else ""
        detail = f"  {i.detail}" if i.detail else ""
        lines.append(f"  {mark[i.change]} {i.kind:<10} {i.id}{extra}{detail}")
    if d.assessed:
        lines.append(f"  {d.assessed} filings assessed, {len(d.moves)} change tier, {d.flags_added} gain a review "
                     f"flag, {d.findings_changed} change findings")
        order = ["low", "medium", "high", "prohibited"]
        befores = [t for t in order if any(b == t for b, _a in d.matrix)]
        afters = [t for t in order if any(a == t for _b, a in d.matrix)]
        lines.append("  before \\ after " + "".join(f"{t:>11}" for t in afters))
        for before in befores:
            lines.append(f"  {before:<15}" + "".join(f"{d.matrix.get((before, t), 0):>11}" for t in afters))
        for m in d.moves[:limit] if limit else d.moves:
            lines.append(f"  #{m.ref} {m.name}: {m.before} -> {m.after}  caused by {', '.join(m.caused_by)}")
        if limit and len(d.moves) > limit:
            lines.append(f"  ... {len(d.moves) - limit} more")
    return lines
