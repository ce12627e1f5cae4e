"""`tierwatch rules ...`: validate, simulate and activate rule files; list and show versions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from tqdm import tqdm

from tierwatch.core.actors import Actor
from tierwatch.core.errors import DomainError
from tierwatch.risk import sandbox, service
from tierwatch.risk.engine import load_and_compile
from tierwatch.risk.models import RiskAssessment
from tierwatch.risk.ruleset import ApplicationDataError, RuleRuntimeError, RuleSetInvalid, TIER_ORDER
from tierwatch.cli.common import container

CLI_ACTOR = Actor(label="cli", role="admin")
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _fail(lines: Any) -> None:
    for line in lines:
        click.echo(str(line), err=True)
    raise click.exceptions.Exit(1)


def _sandboxed(path: Path) -> None:
    """The file is loaded here only after it passed the sandbox's time and memory budget."""
    try:
        sandbox.check(path.read_text(encoding="utf-8"), str(path))
    except RuleSetInvalid as exc:
        _fail(exc.errors)


def _applications(uow: Any) -> list[tuple[int, int, dict[str, Any]]]:
    from tierwatch.registry.service import iter_current_applications

    return list(iter_current_applications(uow))


def _print_report(report: service.TierChangeReport, names: dict[int, str], limit: int) -> None:
    if report.edition_warning and report.version is None:
        click.echo(f"WARNING: activation would be refused: {report.edition_warning}", err=True)
    click.echo(f"{report.jurisdiction} {report.edition}: {report.assessed} applications assessed, "
               f"{len(report.moves)} change tier, {report.disagreements} disagree with an override in force, "
               f"{report.flagged} flagged for review")
    befores = sorted({b for b, _a in report.matrix}, key=lambda t: -1 if t is None else TIER_ORDER.index(t))
    afters = [t for t in TIER_ORDER if any(a == t for _b, a in report.matrix)]
    if afters:
        click.echo("  before \\ after  " + "".join(f"{t:>11}" for t in afters))
        for before in befores:
            row = "".join(f"{report.matrix.get((before, t), 0):>11}" for t in afters)
            click.echo(f"  {before or '(none)':<15}" + row)
    shown = report.moves if limit == 0 else report.moves[:limit]
    for m in shown:
        kept = f"  (override keeps {m.overridden_to})" if m.overridden_to else ""
        click.echo(f"  #{m.application_id} {names.get(m.application_id, '')}: "
                   f"{m.before or '(none)'} -> {m.after}{kept}")
    if len(shown) < len(report.moves):
        click.echo(f"  ... {len(report.moves) - len(shown)} more (--limit 0 lists all)")


@click.group()
def rules() -> None:
    """Risk-tiering rule files: validate, simulate, diff, activate; explain and override tiers."""
    from tierwatch.risk.textmatch import load_segmenter

    load_segmenter()


@rules.command("validate")
@click.argument("files", nargs=-1, required=True, type=FILE)
def validate(files: tuple[Path, ...]) -> None:
    """Check rule files; errors read `file:line: rule <id>: message` (exit 1)."""
    errors: list[Any] = []
    for path in files:
        try:
            sandbox.check(path.read_text(encoding="utf-8"), str(path))
            compiled = load_and_compile(path)
        except RuleSetInvalid as exc:
            errors += exc.errors
            continue
        rs = compiled.ruleset
        extra = "".join(f", {n} {what}" for n, what in (
            (len(rs.signals), "signals"), (len(rs.text_checks), "text checks"), (len(rs.exemptions), "exemptions"),
            (len(rs.review), "review checks"), (len(rs.findings), "findings")) if n)
        click.echo(f"{path}: ok — {rs.jurisdiction} {rs.edition}, {len(rs.rules)} rules, "
                   f"{compiled.translated} of {len(compiled.checks)} conditions on the fast path, "
                   f"combine {rs.combine.method}{extra}")
    if errors:
        _fail(errors)


@rules.command("simulate")
@click.argument("file", type=FILE)
@click.option("--limit", default=50, show_default=True, help="moves to list; 0 lists all")
def simulate(file: Path, limit: int) -> None:
    """What-if over the whole registry: which applications would change tier. Writes nothing."""
    _sandboxed(file)
    with container().uow() as uow:
        apps = _applications(uow)
        try:
            report = service.simulate(uow, file, apps)
        except RuleSetInvalid as exc:
            _fail(exc.errors)
        except (RuleRuntimeError, ApplicationDataError) as exc:
            _fail([exc])
    _print_report(report, {a: f.get("name") or "" for a, _v, f in apps}, limit)


def _ref_or_file(ref: str) -> str | Path:
    """OLD / NEW of `rules diff`: a stored version (`cn-gd@v3`, `cn-gd@active`) or a file, which
    passes the sandbox first."""
    if service.is_version_ref(ref):
        return ref
    path = Path(ref)
    if not path.is_file():
        _fail([f"error: {ref} is neither a file nor a stored version (JURISDICTION@vN or JURISDICTION@active)"])
    _sandboxed(path)
    return path


def read_filings(path: Path) -> list[tuple[object, dict[str, Any]]]:
    """A JSON or YAML list of filings (each may carry an "id"), or the case suite's YAML
    (tests/cases/tiering.yaml: its profiles with the defaults applied)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("cases"), list):
        defaults = data.get("defaults") or {}
        return [(c["id"], {**defaults, **c["profile"]}) for c in data["cases"]]
    if not isinstance(data, list) or not all(isinstance(f, dict) for f in data):
        raise click.BadParameter("expected a list of filings (JSON or YAML) or the case suite", param_hint="--filings")
    return [(f.pop("id", i), f) for i, f in enumerate(data, start=1)]


@rules.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--filings", type=FILE, help="a file of filings instead of the stored registry")
@click.option("--limit", default=50, show_default=True, help="moves to list; 0 lists all")
@click.option("--json", "as_json", is_flag=True, help="the diff as JSON (what the API returns)")
def diff(old: str, new: str, filings: Path | None, limit: int, as_json: bool) -> None:
    """What changed between two rule-set versions and whom it moves. OLD and NEW are rule files
    or stored versions (`cn-gd@v3`, `cn-gd@active`). Writes nothing."""
    import json

    from tierwatch.risk.diff import render

    old_ref, new_ref = _ref_or_file(old), _ref_or_file(new)
    given = read_filings(filings) if filings else None
    with container().uow() as uow:
        try:
            result = service.diff(uow, old_ref, new_ref, given)
        except RuleSetInvalid as exc:
            _fail(exc.errors)
        except (DomainError, RuleRuntimeError, ApplicationDataError) as exc:
            _fail([f"error: {exc}"])
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo("\n".join(render(result, limit)))


@rules.command("activate")
@click.argument("file", type=FILE)
@click.option("--limit", default=50, show_default=True, help="moves to list; 0 lists all")
def activate(file: Path, limit: int) -> None:
    """Make FILE the active version of its jurisdiction and re-tier every application.
    A file that does not validate, or a condition failing on any application, changes nothing."""
    _sandboxed(file)
    with container().uow() as uow:
        apps = _applications(uow)
        try:
            with tqdm(total=len(apps), unit="app") as bar:
                report = service.activate_ruleset(uow, file, CLI_ACTOR, apps, progress=bar)
        except RuleSetInvalid as exc:
            _fail(exc.errors)
        except (RuleRuntimeError, ApplicationDataError) as exc:
            _fail([exc, "nothing was changed"])
        uow.commit()
    retired = f", version {report.retired_version} retired" if report.retired_version else ""
    click.echo(f"activated {report.jurisdiction} version {report.version}{retired}")
    _print_report(report, {a: f.get("name") or "" for a, _v, f in apps}, limit)


@rules.command("list")
@click.option("--jurisdiction")
def list_(jurisdiction: str | None) -> None:
    """Rule-set versions, newest last."""
    with container().uow() as uow:
        rows = service.list_versions(uow, jurisdiction)
        for r in rows:
            when = r.activated_at.strftime("%Y-%m-%d %H:%M") if r.activated_at else "-"
            click.echo(f"{r.jurisdiction:<8} v{r.version:<4} {r.status:<8} {r.edition:<16} "
                       f"{r.rule_count:>3} rules  activated {when} by {r.activated_by or '-'}  "
                       f"{r.checksum[:12]}")
    if not rows:
        click.echo("no rule sets yet: `tierwatch rules activate rules/cn-gd.yaml`")


@rules.command("show")
@click.argument("jurisdiction")
@click.option("--version", type=int, help="default: the active version")
@click.option("--source", is_flag=True, help="print the rule file as activated")
def show(jurisdiction: str, version: int | None, source: bool) -> None:
    """One version: its rules and how many applications sit in each tier."""
    with container().uow() as uow:
        try:
            row = service.get_version(uow, jurisdiction, version)
        except DomainError as exc:
            _fail([f"error: {exc}"])
        if source:
            click.echo(row.source_text)
            return
        counts = Counter({tier: n for tier, n in uow.session.execute(
            sa.select(RiskAssessment.tier, sa.func.count()).where(
                RiskAssessment.rule_set_version_id == row.id, RiskAssessment.is_current)
            .group_by(RiskAssessment.tier))})
        rs = service.compiled_version(row).ruleset
        click.echo(f"{row.jurisdiction} v{row.version} ({row.status}) {rs.title.zh} / {rs.title.en}")
        click.echo(f"edition {row.edition}, combine {rs.combine.method}, checksum {row.checksum}")
    click.echo("tiers: " + ", ".join(f"{t} ({rs.tiers[t].label.zh}) {counts.get(t, 0)}" for t in rs.tiers))
    for rule in rs.rules:
        outcome = " ".join(x for x in (rule.tier or "", f"+{rule.points}" if rule.points else "") if x)
        title = f"{rule.title.zh} / {rule.title.en}" if rule.title else rule.reason.en
        click.echo(f"  {rule.id:<20} {outcome:<14} {title}")


@rules.command("explain")
@click.argument("application_id", type=int)
def explain(application_id: int) -> None:
    """An application's current tiers, with the reasons and legal basis of each fired rule."""
    with container().uow() as uow:
        explained = [service.explain(uow, row) for row in service.current_assessments(uow, application_id)]
    if not explained:
        _fail([f"application {application_id} has no current assessment"])
    for e in explained:
        overridden = f" (override; rules say {e['computed_tier']})" if e["override_id"] else ""
        margin = f" — {e['margin']['text']['zh']} / {e['margin']['text']['en']}" if e.get("margin") else ""
        click.echo(f"{e['jurisdiction']} v{e['rule_set_version']}: {e['tier']}{overridden}, score {e['score']}{margin}")
        for f in e["fired_rules"]:
            click.echo(f"  {f['rule_id']}: {f['reason']['zh']}")
            click.echo(f"  {' ' * len(f['rule_id'])}  {f['reason']['en']}")
            for b in f["legal_basis"]:
                click.echo(f"    {b['title']['zh']} {b['article']['zh']}")
        for s in e["suspended"]:
            click.echo(f"  set aside: {s['id']} by exemption {s['by']}")
        click.echo("  obligations: " + ", ".join(o["kind"] for o in e["obligations"]))
        for f in e["findings"]:
            due = "; ".join(f"{o['kind']} " + (f"due {o['due_on']}" if o.get("due_on") else f"before {o.get('before')}")
                            for o in f["obligations"])
            click.echo(f"  finding {f['finding_id']} (found {f['found_on']}): {due}")
            if f["reason"]:
                click.echo(f"    {f['reason']['zh']}")
        for flag in e["flags"]:
            click.echo(f"  review flag {flag['id']} [{flag['kind']}]: {flag['message']['zh']}")
            click.echo(f"    {flag['message']['en']}")
            if flag.get("evidence"):
                click.echo(f"    evidence: {flag['evidence']}")


@rules.command("queue")
@click.option("--jurisdiction")
@click.option("--kind", help="only filings with a flag of this kind, e.g. text_contradicts_answer")
@click.option("--limit", default=50, show_default=True)
def queue(jurisdiction: str | None, kind: str | None, limit: int) -> None:
    """The review queue: filings whose current assessment carries review flags, with the evidence."""
    from tierwatch.risk.flags import review_queue

    with container().uow() as uow:
        found = review_queue(uow, CLI_ACTOR, jurisdiction, kind, limit)
    click.echo(f"{found.total} flagged filings; by kind: "
               + ", ".join(f"{k} {n}" for k, n in sorted(found.by_kind.items())) if found.total else "queue empty")
    for item in found.items:
        click.echo(f"#{item.application_id} {item.name} ({item.company}) {item.jurisdiction} {item.tier}")
        for flag in item.flags:
            evidence = f"  {flag['evidence']}" if flag.get("evidence") else ""
            click.echo(f"  {flag['id']} [{flag['kind']}] {flag['message']['zh']}{evidence}")


@rules.command("override")
@click.argument("application_id", type=int)
@click.argument("jurisdiction")
@click.argument("tier", type=click.Choice(TIER_ORDER))
@click.option("--justification", required=True, help="written reason (at least 20 characters)")
def override(application_id: int, jurisdiction: str, tier: str, justification: str) -> None:
    """Set an application's tier by hand, with a written justification (audited)."""
    with container().uow() as uow:
        try:
            service.override_tier(uow, application_id, jurisdiction, tier, justification, CLI_ACTOR)
        except DomainError as exc:
            _fail([f"error: {exc}"])
        uow.commit()
    click.echo(f"application {application_id}: {jurisdiction} tier set to {tier}")
