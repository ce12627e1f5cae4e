"""Use cases of risk tiering: activate or simulate a rule set, tier one application, override.

Functions take a UnitOfWork and leave the commit to the caller (as registry.service does), so an
activation is one transaction: everything is assessed in memory before the first write, and a
broken file or a condition failing for any application raises before anything is written.
Stored assessments keep rule ids, evidence and obligations; reasons and legal texts live in the
rule-set version's source and are joined back by explain().
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, cast

import sqlalchemy as sa

from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.registry import audit
from tierwatch.core.actors import Actor
from tierwatch.core.errors import Forbidden, Invalid, NotFound
from tierwatch.registry.events import FilingSubmitted
from tierwatch.risk.events import TierChanged, TierOverridden
from tierwatch.registry.importer import imported_pairs
from tierwatch.registry.models import Application, ApplicationVersion
from tierwatch.registry.service import version_fields
from tierwatch.registry.supervision import Duty, TierDuties
from tierwatch.risk.engine import Assessment, CompiledRuleSet, compile_ruleset, load_and_compile
from tierwatch.risk.loader import load_ruleset
from tierwatch.risk.models import (
    ACTIVE, MIN_JUSTIFICATION, RETIRED, RiskAssessment, RuleSetVersion, TierOverride,
)
from tierwatch.risk.diff import RuleSetDiff, diff_rulesets, edition_conflict
from tierwatch.risk.ruleset import TIER_ORDER, RuleFileError, RuleSet, RuleSetInvalid
from tierwatch.risk.stored import Previous, RowBuilder, explain_row, previous_of
from tierwatch.risk.textstore import TextMatches, text_hash
from tierwatch.risk.textstore import active_keys as active_text_keys
from tierwatch.risk.textstore import prune as prune_text_matches

_ASSESSMENTS = cast(sa.Table, RiskAssessment.__table__)
Applications = Iterable[tuple[int, int, dict[str, Any]]]  # (application id, version id, fields)
_CHUNK = 2000


class Progress(Protocol):  # what tqdm offers
    def update(self, n: int = 1) -> Any: ...
    def reset(self, total: int | None = None) -> Any: ...
    def set_description(self, desc: str | None = None) -> Any: ...


@dataclass(frozen=True)
class Move:
    application_id: int
    before: str | None  # computed tier under the version in force before (None: never tiered)
    after: str  # computed tier under the new rules
    overridden_to: str | None = None  # an override in force keeps this tier regardless


@dataclass
class TierChangeReport:
    jurisdiction: str
    edition: str
    checksum: str
    assessed: int = 0
    moves: list[Move] = field(default_factory=list)
    matrix: Counter[tuple[str | None, str]] = field(default_factory=Counter)  # (before, after)
    version: int | None = None  # set by activation
    version_id: int | None = None
    retired_version: int | None = None
    # Applications whose override in force differs from the new computed tier, moved or not:
    # a regulator should look at each (the override keeps its tier meanwhile).
    disagreements: int = 0
    flagged: int = 0  # applications the new rules put in the review queue
    edition_warning: str | None = None  # a changed file that kept a stored edition label


@dataclass(frozen=True)
class EffectiveTier:
    jurisdiction: str
    tier: str
    computed_tier: str
    override_id: int | None
    disagrees_with_override: bool


# --- rule-set versions --------------------------------------------------------------------

_COMPILED: dict[str, CompiledRuleSet] = {}


def compiled_version(row: RuleSetVersion) -> CompiledRuleSet:
    """A stored version, compiled once per process (keyed by its checksum)."""
    found = _COMPILED.get(row.checksum)
    if found is None:
        found = _COMPILED[row.checksum] = compile_ruleset(load_ruleset(row.source_text, row.filename))
    return found


def active_versions(uow: UnitOfWork) -> list[RuleSetVersion]:
    stmt = sa.select(RuleSetVersion).where(RuleSetVersion.status == ACTIVE)
    return list(uow.session.scalars(stmt.order_by(RuleSetVersion.jurisdiction)))


def list_versions(uow: UnitOfWork, jurisdiction: str | None = None) -> list[RuleSetVersion]:
    stmt = sa.select(RuleSetVersion).order_by(RuleSetVersion.jurisdiction, RuleSetVersion.version)
    if jurisdiction:
        stmt = stmt.where(RuleSetVersion.jurisdiction == jurisdiction)
    return list(uow.session.scalars(stmt))


def get_version(uow: UnitOfWork, jurisdiction: str, version: int | None = None) -> RuleSetVersion:
    """A version by number, or the active one."""
    stmt = sa.select(RuleSetVersion).where(RuleSetVersion.jurisdiction == jurisdiction)
    stmt = stmt.where(RuleSetVersion.version == version) if version else stmt.where(RuleSetVersion.status == ACTIVE)
    row = uow.session.scalars(stmt).first()
    if row is None:
        raise NotFound(f"no rule set {jurisdiction} {version or '(active)'}")
    return row


# --- simulate and activate ----------------------------------------------------------------

def simulate(uow: UnitOfWork, text_or_path: str | Path, applications: Applications,
             progress: Progress | None = None) -> TierChangeReport:
    """What-if: tier every application under the file and compare; writes nothing."""
    compiled = load_and_compile(text_or_path)
    results = _assess_all(compiled, applications, progress, TextMatches(uow, compiled))
    return _report(uow, compiled.ruleset, results)


def activate_ruleset(uow: UnitOfWork, text_or_path: str | Path, actor: Actor | str,
                     applications: Applications, progress: Progress | None = None) -> TierChangeReport:
    """Make the file the active version of its jurisdiction and re-tier every application.

    Raises RuleSetInvalid (the file, or a changed file that keeps an edition label a stored
    version already uses) or RuleRuntimeError / ApplicationDataError (an application) before
    anything is written; the caller commits. Re-activating identical content is a rollback."""
    compiled = load_and_compile(text_or_path)
    ruleset = compiled.ruleset
    conflict = edition_conflict(ruleset, _stored_editions(uow, ruleset.jurisdiction))
    if conflict is not None:
        raise RuleSetInvalid([RuleFileError(ruleset.filename, _edition_line(ruleset), None, conflict)])
    matches = TextMatches(uow, compiled)
    results = _assess_all(compiled, applications, progress, matches)
    report = _report(uow, ruleset, results)
    session = uow.session
    now = utcnow()
    label = _label(actor)
    previous = session.scalars(sa.select(RuleSetVersion).where(
        RuleSetVersion.jurisdiction == ruleset.jurisdiction, RuleSetVersion.status == ACTIVE)).first()
    if previous is not None:
        previous.status, previous.retired_at = RETIRED, now
        report.retired_version = previous.version
        session.flush()  # the one-active-version index must see the retirement first
    number = (session.scalar(sa.select(sa.func.max(RuleSetVersion.version)).where(
        RuleSetVersion.jurisdiction == ruleset.jurisdiction)) or 0) + 1
    row = RuleSetVersion(
        jurisdiction=ruleset.jurisdiction, version=number, edition=ruleset.edition,
        title=ruleset.title.as_dict(), filename=Path(ruleset.filename).name,
        source_text=ruleset.source_text, checksum=ruleset.checksum, rule_count=len(ruleset.rules),
        status=ACTIVE, created_by=label, activated_at=now, activated_by=label)
    session.add(row)
    session.flush()
    _COMPILED.setdefault(row.checksum, compiled)
    report.version, report.version_id = number, row.id
    _store(uow, ruleset, row.id, results, progress)
    matches.save(uow)
    prune_text_matches(uow, active_text_keys(uow, compiled_version))
    audit.record(uow, actor, "ruleset.activate", "rule_set_version", row.id, changes={
        "jurisdiction": ruleset.jurisdiction, "version": number, "edition": ruleset.edition,
        "checksum": ruleset.checksum, "retired_version": report.retired_version,
        "assessed": report.assessed, "moved": len(report.moves)})
    return report


def _assess_all(compiled: CompiledRuleSet, applications: Applications, progress: Progress | None,
                matches: TextMatches) -> list[tuple[int, int, Assessment]]:
    if progress is not None:
        progress.set_description(f"{compiled.jurisdiction}: assessing")
    versions: dict[int, int] = {}
    pairs = []
    for app_id, version_id, fields in applications:
        versions[app_id] = version_id
        pairs.append((app_id, matches.attach(fields)))
    results: list[tuple[int, int, Assessment]] = []
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start:start + _CHUNK]
        for ref, assessment in compiled.assess_many(chunk):
            app_id = ref  # type: ignore[assignment]  # the ids we passed in
            results.append((app_id, versions[app_id], assessment))
        if progress is not None:
            progress.update(len(chunk))
    return results


def _report(uow: UnitOfWork, ruleset: RuleSet, results: list[tuple[int, int, Assessment]]) -> TierChangeReport:
    report = TierChangeReport(ruleset.jurisdiction, ruleset.edition, ruleset.checksum, assessed=len(results))
    current = {app_id: tier for app_id, tier in uow.session.execute(
        sa.select(RiskAssessment.application_id, RiskAssessment.computed_tier)
        .where(RiskAssessment.jurisdiction == ruleset.jurisdiction, RiskAssessment.is_current))}
    overrides = _overrides_in_force(uow, ruleset.jurisdiction)
    for app_id, _version_id, a in results:
        before = current.get(app_id)
        report.matrix[(before, a.tier)] += 1
        override = overrides.get(app_id)
        if override is not None and override.tier != a.tier:
            report.disagreements += 1
        if a.flags:
            report.flagged += 1
        if before != a.tier:
            report.moves.append(Move(app_id, before, a.tier, override.tier if override else None))
    report.edition_warning = edition_conflict(ruleset, _stored_editions(uow, ruleset.jurisdiction))
    return report


def _edition_line(ruleset: RuleSet) -> int | None:
    for number, line in enumerate(ruleset.source_text.splitlines(), start=1):
        if line.startswith("edition:"):
            return number
    return None


def _stored_editions(uow: UnitOfWork, jurisdiction: str) -> list[tuple[int, str, str]]:
    rows = uow.session.execute(sa.select(RuleSetVersion.version, RuleSetVersion.edition, RuleSetVersion.checksum)
                               .where(RuleSetVersion.jurisdiction == jurisdiction))
    return [(version, edition, checksum) for version, edition, checksum in rows]


# --- diff ---------------------------------------------------------------------------------

_REF = re.compile(r"^(?P<jurisdiction>[\w-]+)@(?:v(?P<version>\d+)|(?P<active>active))$")


def is_version_ref(ref: str) -> bool:
    """`cn-gd@v3` (a stored version) or `cn-gd@active`."""
    return _REF.match(ref) is not None


def resolve(uow: UnitOfWork, ref: str | Path) -> CompiledRuleSet:
    """A stored version by reference (`JURISDICTION@vN`, `JURISDICTION@active`), or a rule file
    (a path, or the text itself)."""
    match = _REF.match(ref) if isinstance(ref, str) else None
    if match is None:
        return load_and_compile(ref)
    version = int(match["version"]) if match["version"] else None
    return compiled_version(get_version(uow, match["jurisdiction"], version))


def diff(uow: UnitOfWork, old: str | Path, new: str | Path,
         filings: Iterable[tuple[object, Mapping[str, Any]]] | None = None) -> RuleSetDiff:
    """`rules diff OLD NEW`: rules added, removed or changed, and which filings move with the
    rules causing each move, over `filings` or (None) every current application of the registry.
    Writes nothing."""
    before, after = resolve(uow, old), resolve(uow, new)
    if before.jurisdiction != after.jurisdiction:
        raise Invalid.one("new", f"cannot compare {before.jurisdiction} with {after.jurisdiction}: "
                                 f"a diff is between two versions of one jurisdiction")
    if filings is None:
        from tierwatch.registry.service import iter_current_applications

        filings = ((app_id, fields) for app_id, _version, fields in iter_current_applications(uow))
    return diff_rulesets(before, after, filings, _stored_editions(uow, after.jurisdiction))

def _store(uow: UnitOfWork, ruleset: RuleSet, version_id: int,
           results: list[tuple[int, int, Assessment]], progress: Progress | None) -> None:
    session = uow.session
    overrides = _overrides_in_force(uow, ruleset.jurisdiction)
    previous = _previous_rows(uow, ruleset.jurisdiction)
    before = dict(session.execute(sa.select(RiskAssessment.application_id, RiskAssessment.tier).where(
        RiskAssessment.jurisdiction == ruleset.jurisdiction, RiskAssessment.is_current)).all())
    session.execute(sa.update(RiskAssessment).where(
        RiskAssessment.jurisdiction == ruleset.jurisdiction, RiskAssessment.is_current).values(is_current=False))
    if progress is not None:
        progress.reset()
        progress.set_description(f"{ruleset.jurisdiction}: storing")
    build = RowBuilder(ruleset, version_id, utcnow())
    moved: list[tuple[int, str | None, str]] = []
    for start in range(0, len(results), _CHUNK):
        chunk = results[start:start + _CHUNK]
        rows = [build.row(app_id, app_version, a, overrides.get(app_id), previous.get(app_id))
                for app_id, app_version, a in chunk]
        session.execute(sa.insert(_ASSESSMENTS), rows)  # Core executemany: no ORM per-row work
        moved += [(r["application_id"], before.get(r["application_id"]), r["tier"]) for r in rows
                  if before.get(r["application_id"]) != r["tier"]]
        if progress is not None:
            progress.update(len(chunk))
    if moved:
        uow.publish(TierChanged(ruleset.jurisdiction, tuple(moved), "ruleset"))


def _previous_rows(uow: UnitOfWork, jurisdiction: str) -> dict[int, Previous]:
    """Current rows that carry something forward: a review of their flags, findings' dates."""
    stmt = sa.select(RiskAssessment.application_id, RiskAssessment.application_version_id,
                     RiskAssessment.flags, RiskAssessment.findings, RiskAssessment.flags_reviewed_at,
                     RiskAssessment.flags_reviewed_by, RiskAssessment.flags_review_note).where(
        RiskAssessment.jurisdiction == jurisdiction, RiskAssessment.is_current)
    return {row.application_id: previous_of(row) for row in uow.session.execute(stmt)
            if row.findings or row.flags_reviewed_at is not None}


def _overrides_in_force(uow: UnitOfWork, jurisdiction: str, app_id: int | None = None) -> dict[int, TierOverride]:
    stmt = sa.select(TierOverride).where(TierOverride.jurisdiction == jurisdiction, TierOverride.in_force)
    if app_id is not None:
        stmt = stmt.where(TierOverride.application_id == app_id)
    return {o.application_id: o for o in uow.session.scalars(stmt)}


# --- one application ----------------------------------------------------------------------

def assess_application(uow: UnitOfWork, app_id: int, version_id: int,
                       fields: dict[str, Any]) -> list[RiskAssessment]:
    """Tier one application version under every active rule set (on submission, amendment).
    A condition failing for it raises RuleRuntimeError; the caller's transaction rolls back."""
    rows = []
    now = utcnow()
    for version in active_versions(uow):
        compiled = compiled_version(version)
        matches = TextMatches(uow, compiled, [text_hash(fields)])
        a = compiled.assess(matches.attach(fields), app_id)
        matches.save(uow)  # computed at submission, read by later re-tierings
        override = _overrides_in_force(uow, version.jurisdiction, app_id).get(app_id)
        current = _current_row(uow, app_id, version.jurisdiction)
        previous = previous_of(current) if current is not None else None
        before = current.tier if current is not None else None
        uow.session.execute(sa.update(RiskAssessment).where(*_current(app_id, version.jurisdiction))
                            .values(is_current=False))
        row = RiskAssessment(**RowBuilder(compiled.ruleset, version.id, now).row(
            app_id, version_id, a, override, previous))
        uow.session.add(row)
        rows.append(row)
        if before != row.tier:
            uow.publish(TierChanged(version.jurisdiction, ((app_id, before, row.tier),), "assessment"))
    uow.session.flush()
    return rows


def current_assessments(uow: UnitOfWork, app_id: int) -> list[RiskAssessment]:
    stmt = sa.select(RiskAssessment).where(RiskAssessment.application_id == app_id, RiskAssessment.is_current)
    return list(uow.session.scalars(stmt.order_by(RiskAssessment.jurisdiction)))


def effective_tier(uow: UnitOfWork, app_id: int, jurisdiction: str) -> EffectiveTier | None:
    """The tier in force: an override wins over the rules; None if never tiered there."""
    row = _current_row(uow, app_id, jurisdiction)
    if row is None:
        return None
    return EffectiveTier(jurisdiction, row.tier, row.computed_tier, row.override_id,
                         row.disagrees_with_override)


def explain(uow: UnitOfWork, row: RiskAssessment) -> dict[str, Any]:
    """A stored assessment with each fired rule's reasons (zh, en), legal basis and evidence
    (the filed values, looked up from the version it assessed), findings with deadlines, review
    flags with their evidence, exemptions applied and the margin."""
    version = uow.session.get(RuleSetVersion, row.rule_set_version_id)
    assert version is not None  # a foreign key
    filed = uow.session.get(ApplicationVersion, row.application_version_id)
    assert filed is not None  # a foreign key
    explained = explain_row(row, compiled_version(version), version_fields(filed))
    return {"application_id": row.application_id, "application_version_id": row.application_version_id,
            "jurisdiction": row.jurisdiction, "rule_set_version": version.version,
            "edition": version.edition, "tier": row.tier, "computed_tier": row.computed_tier,
            "score": row.score, "override_id": row.override_id,
            "disagrees_with_override": row.disagrees_with_override, **explained,
            "obligations": row.obligations, "assessed_at": row.created_at.isoformat()}


def _current(app_id: int, jurisdiction: str) -> tuple[Any, ...]:
    return (RiskAssessment.application_id == app_id, RiskAssessment.jurisdiction == jurisdiction,
            RiskAssessment.is_current)


def _current_row(uow: UnitOfWork, app_id: int, jurisdiction: str) -> RiskAssessment | None:
    return uow.session.scalars(sa.select(RiskAssessment).where(*_current(app_id, jurisdiction))).first()


# --- overrides ----------------------------------------------------------------------------

def override_tier(uow: UnitOfWork, app_id: int, jurisdiction: str, tier: str, justification: str,
                  actor: Actor | str) -> TierOverride:
    """A regulator sets the tier by hand, with a written justification; audited. It stays in
    force through later re-tiers (which record the computed tier beside it) until ended."""
    _check_regulator(actor)
    justification = (justification or "").strip()
    errors = []
    if tier not in TIER_ORDER:
        errors.append({"field": "tier", "message": f"unknown tier {tier!r} (one of {', '.join(TIER_ORDER)})"})
    if len(justification) < MIN_JUSTIFICATION:
        errors.append({"field": "justification",
                       "message": f"a written justification of at least {MIN_JUSTIFICATION} characters is required"})
    known = list(uow.session.scalars(sa.select(RuleSetVersion.jurisdiction).distinct()))
    if jurisdiction not in known:
        errors.append({"field": "jurisdiction", "message": f"no rule set for jurisdiction {jurisdiction!r} "
                                                           f"(known: {', '.join(sorted(known)) or 'none yet'})"})
    if errors:
        raise Invalid(errors)
    if uow.session.get(Application, app_id) is None:
        raise NotFound(f"application {app_id}")
    current = _current_row(uow, app_id, jurisdiction)
    if current is not None and tier not in _ruleset_of(uow, current).tiers:
        raise Invalid.one("tier", f"the {jurisdiction} rule set has no tier {tier!r}")
    before = current.tier if current is not None else None
    for old in _overrides_in_force(uow, jurisdiction, app_id).values():
        _end(old, actor, "superseded by a new override")
    uow.session.flush()
    override = TierOverride(application_id=app_id, jurisdiction=jurisdiction, tier=tier,
                            computed_tier=current.computed_tier if current is not None else None,
                            justification=justification, actor=_label(actor),
                            actor_id=actor.user_id if isinstance(actor, Actor) else None)
    uow.session.add(override)
    uow.session.flush()
    if current is not None:
        _apply(uow, current, override)
    audit.record(uow, actor, "risk.override", "application", app_id, reason=justification, changes={
        "jurisdiction": jurisdiction, "tier": {"before": before, "after": tier},
        "computed_tier": override.computed_tier, "override_id": override.id})
    uow.publish(TierOverridden(app_id, jurisdiction, tier, before))
    return override


def end_override(uow: UnitOfWork, app_id: int, jurisdiction: str, reason: str,
                 actor: Actor | str) -> None:
    """Lift the override in force: the computed tier applies again; audited."""
    _check_regulator(actor)
    if len((reason or "").strip()) < MIN_JUSTIFICATION:
        raise Invalid.one("reason", f"a written reason of at least {MIN_JUSTIFICATION} characters is required")
    overrides = _overrides_in_force(uow, jurisdiction, app_id)
    if not overrides:
        raise NotFound(f"no override in force for application {app_id} under {jurisdiction}")
    override = overrides[app_id]
    _end(override, actor, reason.strip())
    current = _current_row(uow, app_id, jurisdiction)
    if current is not None:
        _apply(uow, current, None)
    audit.record(uow, actor, "risk.override_end", "application", app_id, reason=reason.strip(), changes={
        "jurisdiction": jurisdiction, "override_id": override.id,
        "tier": {"before": override.tier, "after": current.tier if current is not None else None}})
    if current is not None and current.tier != override.tier:
        uow.publish(TierChanged(jurisdiction, ((app_id, override.tier, current.tier),), "override_end"))


def _ruleset_of(uow: UnitOfWork, row: RiskAssessment) -> RuleSet:
    version = uow.session.get(RuleSetVersion, row.rule_set_version_id)
    assert version is not None  # a foreign key
    return compiled_version(version).ruleset


def _apply(uow: UnitOfWork, row: RiskAssessment, override: TierOverride | None) -> None:
    ruleset = _ruleset_of(uow, row)
    row.tier = override.tier if override is not None else row.computed_tier
    row.override_id = override.id if override is not None else None
    row.disagrees_with_override = override is not None and override.tier != row.computed_tier
    fired = [f["rule_id"] for f in row.fired_rules]
    row.obligations = [o.as_dict() for o in ruleset.obligations_for(row.tier, fired)]


def _end(override: TierOverride, actor: Actor | str, reason: str) -> None:
    override.in_force, override.ended_at = False, utcnow()
    override.ended_by, override.end_reason = _label(actor), reason


def _check_regulator(actor: Actor | str) -> None:
    if isinstance(actor, Actor) and actor.role not in ("regulator", "admin", "system"):
        raise Forbidden("only a regulator may override a tier")


def _label(actor: Actor | str) -> str:
    return actor if isinstance(actor, str) else actor.label


# --- what the registry asks of tiering (wired by the composition root) ---------------------


def on_filing_submitted(uow: UnitOfWork, event: FilingSubmitted) -> None:
    """A submitted version is tiered at once, under every active rule set, in the same
    transaction: the filing and its tier are stored together or not at all."""
    assess_application(uow, event.application_id, event.version_id, event.fields)


def supervision_duties(uow: UnitOfWork, app_id: int) -> list[TierDuties]:
    """Each jurisdiction's effective tier of the application and that tier's scheduled duties."""
    return [
        TierDuties(row.jurisdiction, row.tier, tuple(_duty(o) for o in row.obligations))
        for row in current_assessments(uow, app_id)
    ]


def _duty(data: dict[str, Any]) -> Duty:
    # An obligation "on request" is the regulator's to invoke, never a scheduled task.
    every = None if data.get("on_request") else data.get("every")
    return Duty(kind=data["kind"], every=every, within=data.get("within"), sample=data.get("sample"))


def tier_imported(uow: UnitOfWork, app_ids: Iterable[int]) -> str:
    """Tier each imported application under every active rule set; says so when none is active."""
    active = active_versions(uow)
    ids = list(app_ids)
    if not ids:
        return "nothing new to tier"
    if not active:
        return (f"not tiered: no rule set is active yet; run `tierwatch rules activate FILE` "
                f"(activation tiers all {len(ids)} imported applications)")
    for app_id, version_id, fields in imported_pairs(uow, ids):
        assess_application(uow, app_id, version_id, fields)
    names = ", ".join(f"{v.jurisdiction} v{v.version}" for v in active)
    return f"tiered {len(ids)} applications under {names}"


# --- what the portals ask ------------------------------------------------------------------


def preview(uow: UnitOfWork, fields: dict[str, Any]) -> list[dict[str, Any]]:
    """The tiers a draft would get under every active rule set, explained as explain() does;
    nothing is stored. Unanswered fields read as the rule files say (unset)."""
    out = []
    for version in active_versions(uow):
        compiled = compiled_version(version)
        a = compiled.assess(fields, "preview")
        rules = compiled.ruleset.rules_by_id
        fired = [{"rule_id": f.rule_id, "tier": rules[f.rule_id].tier, "points": rules[f.rule_id].points,
                  "reason": rules[f.rule_id].reason.as_dict(), "evidence": f.evidence,
                  "legal_basis": [b.as_dict() for b in rules[f.rule_id].legal_basis]} for f in a.fired]
        out.append({"jurisdiction": version.jurisdiction, "rule_set_version": version.version,
                    "edition": version.edition, "tier": a.tier, "computed_tier": a.tier, "score": a.score,
                    "override_id": None, "disagrees_with_override": False, "fired_rules": fired,
                    "obligations": [o.as_dict() for o in a.obligations]})
    return out


def overrides_of(uow: UnitOfWork, app_id: int) -> list[TierOverride]:
    """Every override of an application, newest first (those in force and ended ones)."""
    stmt = sa.select(TierOverride).where(TierOverride.application_id == app_id).order_by(TierOverride.id.desc())
    return list(uow.session.scalars(stmt))


def rollback(uow: UnitOfWork, jurisdiction: str, version: int, actor: Actor | str,
             applications: Applications, progress: Progress | None = None) -> TierChangeReport:
    """Make an earlier version's rules active again: activated as a new version with the same
    text (history keeps every step), re-tiering every application."""
    old = get_version(uow, jurisdiction, version)
    if old.status == ACTIVE:
        raise Invalid.one("version", f"version {version} of {jurisdiction} is the active one")
    report = activate_ruleset(uow, old.source_text, actor, applications, progress)
    audit.record(uow, actor, "ruleset.rollback", "rule_set_version", report.version_id,
                 changes={"jurisdiction": jurisdiction, "to_version": version, "new_version": report.version})
    return report
