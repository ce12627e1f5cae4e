"""`tierwatch alerts ...`: validate, list and show alert rule files; dry-run a rule over the last
days of indexed reports (what it would raise, when and why, and what it costs), or compare two
versions of a rule on the same data."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from tierwatch.cli.common import container
from tierwatch.core.clock import utcnow

if TYPE_CHECKING:
    from tierwatch.monitoring.alerts.model import AlertRule
    from tierwatch.monitoring.alerts.replay import Cost, Replay

PATH = click.Path(exists=True, path_type=Path)


def _local(container_tz: str, at: datetime) -> str:
    return at.astimezone(ZoneInfo(container_tz)).strftime("%Y-%m-%d %H:%M")


def _load(paths: tuple[Path, ...]) -> list[AlertRule]:
    """Rules from files and directories, or the configured rule directory; exits 1 on errors."""
    from tierwatch.monitoring.alerts.model import AlertRuleInvalid
    from tierwatch.monitoring.alerts.rules import STARTER_RULES, load_rule, load_rules

    rules: list[AlertRule] = []
    errors: list[str] = []
    targets: list[Path | None] = list(paths) or [container().settings.alerts.rules_dir]
    for target in targets:
        try:
            if target is None:
                rules += load_rules(STARTER_RULES)
            elif target.is_dir():
                rules += load_rules(target)
            else:
                rules.append(load_rule(target))
        except AlertRuleInvalid as exc:
            errors += [str(e) for e in exc.errors]
    if errors:
        for line in errors:
            click.echo(line, err=True)
        raise click.exceptions.Exit(1)
    return rules


def _requests_per_hour(rule: AlertRule) -> float:
    from tierwatch.monitoring.alerts.types import TYPES

    return (timedelta(hours=1) / rule.schedule.every) * len(TYPES[rule.type].requests(rule, utcnow()))


@click.group()
def alerts() -> None:
    """Alert rules: validate, list, show, test-rule."""


@alerts.command("validate")
@click.argument("paths", nargs=-1, type=PATH)
def validate(paths: tuple[Path, ...]) -> None:
    """Check rule files (or directories); every error as FILE:LINE: rule ID: message."""
    rules = _load(paths)
    click.echo(f"{len(rules)} alert rules valid")


@alerts.command("list")
@click.argument("paths", nargs=-1, type=PATH)
@click.option("--group", default=None, help="Only this rule group.")
def list_rules(paths: tuple[Path, ...], group: str | None) -> None:
    """One line per rule: id, type, severity, owner, group, window, schedule, requests/h alone."""
    from tierwatch.monitoring.alerts.model import format_duration

    click.echo(f"{'id':<28} {'type':<11} {'severity':<22} {'owner':<15} {'group':<13} {'window':>6} {'every':>5} {'req/h':>6}")
    for r in sorted(_load(paths), key=lambda r: r.id):
        if group and r.group != group:
            continue
        window = getattr(r.options, "window", None) or getattr(r.options, "lookback", None)
        severity = (f"{r.severity.high}/{r.severity.medium}/{r.severity.low}" if r.severity.by_tier
                    else r.severity.high)
        click.echo(f"{r.id:<28} {r.type:<11} {severity:<22} {r.owner:<15} {r.group:<13} "
                   f"{format_duration(window) if window else '-':>6} {format_duration(r.schedule.every):>5} "
                   f"{_requests_per_hour(r):>6.0f}{'' if r.enabled else '  (disabled)'}")


@alerts.command("show")
@click.argument("rule")
def show(rule: str) -> None:
    """A rule (by id from the rule directory, or a file), normalised, and the requests it makes."""
    from dataclasses import asdict

    from tierwatch.monitoring.alerts.model import format_duration, vars_of
    from tierwatch.monitoring.alerts.schedule import latest_end
    from tierwatch.monitoring.alerts.types import TYPES

    path = Path(rule)
    found = _load((path,)) if path.exists() else [r for r in _load(()) if r.id == rule]
    if not found:
        raise click.ClickException(f"no alert rule {rule!r} (give its id or a file)")
    r = found[0]
    click.echo(f"{r.id}: {r.title.zh} / {r.title.en}  ({r.filename}:{r.line})")
    click.echo(f"  type {r.type}, owner {r.owner}, group {r.group}, enabled {r.enabled}, checksum {r.checksum[:12]}")
    click.echo(f"  severity {asdict(r.severity)}")
    click.echo(f"  options {', '.join(f'{k}={_option(v)}' for k, v in vars_of(r.options).items())}")
    click.echo(f"  filter text={r.filter.text!r} match={dict(r.filter.filters)} exclude={dict(r.filter.exclude)} "
               f"range={ {k: (b.gte, b.lt) for k, b in r.filter.ranges.items()} }")
    click.echo(f"  schedule every {format_duration(r.schedule.every)}, buffer {format_duration(r.schedule.buffer)}; "
               f"realert {format_duration(r.realert.after)}"
               f"{' up to ' + format_duration(r.realert.max) if r.realert.max else ''}; pending "
               f"{format_duration(r.pending)}, clear after {format_duration(r.clear_after)}, reopen within "
               f"{format_duration(r.reopen_within)}, auto-resolve "
               f"{format_duration(r.auto_resolve_after) if r.auto_resolve_after else 'never (waits for a verdict)'}")
    end = latest_end(r.schedule, utcnow())
    for i, request in enumerate(TYPES[r.type].requests(r, end), 1):
        click.echo(f"  request {i} at the window end {end:%Y-%m-%d %H:%M} UTC: {_describe(request)}")


def _option(value: object) -> str:
    from tierwatch.monitoring.alerts.model import Tiered, format_duration

    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Tiered):
        return (f"high {value.high:g} / medium {value.medium:g} / low {value.low:g} / untiered {value.untiered:g}"
                if value.by_tier else f"{value.high:g}")
    return repr(value)


def _describe(request: object) -> str:
    from tierwatch.core.search import GroupQuery

    if isinstance(request, GroupQuery):
        windows = ", ".join(f"[{w.gte:%m-%d %H:%M}, {w.lt:%m-%d %H:%M})" for w in request.windows)
        metrics = ", ".join(f"{m.op}({m.field})" for m in request.metrics) or "none"
        return (f"counts per {request.group_by or 'one group'} on {request.date_field} in {windows}; "
                f"metrics {metrics}; groups with at least {request.min_count}; "
                f"{'keys ' + str(len(request.keys)) if request.keys else 'every key, pages of ' + str(request.size)}")
    return f"reports matching the filter: {request}"


@alerts.command("test-rule")
@click.argument("file", type=PATH)
@click.option("--days", type=float, default=1.0, show_default=True, help="Replay the last N days.")
@click.option("--end", "end_at", type=click.DateTime(("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")),
              default=None, help="End of the period, local time (default: now).")
@click.option("--compare", "versions", nargs=2, type=PATH, default=None, metavar="OLD NEW",
              help="Compare the alerts two versions of a rule would have raised (FILE is ignored).")
@click.option("--samples", type=int, default=20, show_default=True, help="Evaluations timed for the cost.")
def test_rule(file: Path, days: float, end_at: datetime | None, versions: tuple[Path, Path] | None,
              samples: int) -> None:
    """Dry run over indexed reports: what would have fired, when, why, and the rule's cost.
    Writes nothing."""
    from tierwatch.monitoring.alerts import replay as rp
    from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA

    c = container()
    tz = c.settings.timezone
    end = end_at.replace(tzinfo=ZoneInfo(tz)) if end_at else utcnow()
    if days <= 0 or days > 90:
        raise click.BadParameter("between 0 and 90 days", param_hint="--days")
    c.search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
    rule_set = [r for r in c.alert_rules.rules()]
    if versions:
        old, new = (_load((v,))[0] for v in versions)
        runs = [rp.replay(c.search, REPORTS_INDEX, r, days, end) for r in (old, new)]
        for label, result in zip(("OLD", "NEW"), runs):
            _print_replay(result, tz, label)
        diff = rp.compare(*runs)
        click.echo(f"\nonly OLD: {len(diff.only_old)}, only NEW: {len(diff.only_new)}, both: {len(diff.both)}")
        for e in diff.only_old:
            click.echo(f"  - {_local(tz, e.at)}  {e.key}  {e.reason}")
        for e in diff.only_new:
            click.echo(f"  + {_local(tz, e.at)}  {e.key}  {e.reason}")
        for a, b in diff.both:
            shift = int((b.at - a.at).total_seconds() // 60)
            click.echo(f"  = {_local(tz, a.at)}  {a.key}" + (f"  (NEW {shift:+d} min)" if shift else ""))
        for label, r in zip(("OLD", "NEW"), (old, new)):
            _print_cost(rp.cost(c.search, REPORTS_INDEX, r, days, end, rule_set, samples), label)
        return
    rule = _load((file,))[0]
    _print_replay(rp.replay(c.search, REPORTS_INDEX, rule, days, end), tz)
    _print_cost(rp.cost(c.search, REPORTS_INDEX, rule, days, end, rule_set, samples))


def _print_replay(r: Replay, tz: str, label: str = "") -> None:
    from tierwatch.monitoring.alerts.model import format_duration

    rule = r.rule
    head = f"{label}: " if label else ""
    click.echo(f"{head}{rule.id} ({rule.type}, every {format_duration(rule.schedule.every)}): "
               f"{r.evaluations} evaluations from {_local(tz, r.start)} to {_local(tz, r.end)} ({tz}), "
               f"{r.requests} search requests in {r.round_trips} round trips")
    for e in r.events:
        numbers = f" value {e.value:g} (threshold {e.threshold:g}) {e.severity}" if e.value is not None else ""
        merged = r.updates.get(e.alert, 0) if e.action in ("open", "pend") else 0
        extra = f", then {merged} more matches merged into it" if merged else ""
        click.echo(f"  {_local(tz, e.at)}  #{e.alert:<3} {e.action:<12} {e.key or '(all)'}{numbers}"
                   f"{'  - ' + e.reason if e.reason else ''}{extra}")
    raised = r.raised
    held = ", ".join(f"{k} {v}" for k, v in sorted(r.held_back.items())) or "none"
    click.echo(f"  would raise {len(raised)} alerts ({len({e.key for e in raised})} keys); held back: {held}")
    for error in r.errors:
        click.echo(f"  error: {error}")


def _print_cost(c: Cost, label: str = "") -> None:
    head = f"{label} " if label else ""
    line = (f"{head}cost: {c.evaluations_per_hour:g} evaluations/h x {c.requests_per_evaluation:.1f} requests "
            f"= {c.requests_per_hour:.0f} search requests/h alone; ")
    if c.added_to_rule_set is not None:
        shares = f" (shares a request with {', '.join(c.shares_with)})" if c.shares_with else ""
        line += f"{c.added_to_rule_set} more per evaluation with the rule set{shares}; "
    line += f"p95 query {c.p95_ms:.0f} ms ({c.samples} evaluations at random ends)"
    click.echo(line)
