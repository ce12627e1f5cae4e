"""`tierwatch registry ...` and `tierwatch audit ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, NoReturn, TypeVar

import click

from tierwatch.registry import accounts, audit as audit_trail
from tierwatch.core.actors import Actor
from tierwatch.core.errors import Invalid, DomainError
from tierwatch.registry.schemas import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, TOKEN_SCOPES, CompanyIn, UserIn, parse
from tierwatch.cli.common import container

ADMIN_CLI = Actor(label="cli", role="admin")
T = TypeVar("T")


def _fail(exc: DomainError) -> NoReturn:
    if isinstance(exc, Invalid):
        for err in exc.errors:
            click.echo(f"error: {err['field']}: {err['message']}", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    raise click.exceptions.Exit(1)


def _create(use_case: Callable[..., T], model: type[Any], data: dict[str, Any]) -> T:
    """Validate, run one account use case as the CLI administrator, commit; errors exit 1."""
    try:
        with container().uow() as uow:
            created = use_case(uow, ADMIN_CLI, parse(model, data))
            uow.commit()
            return created
    except DomainError as exc:
        _fail(exc)


@click.group()
def audit() -> None:
    """Audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain; name the first broken entry (exit 1 if any)."""
    with container().uow() as uow:
        result = audit_trail.verify_chain(uow)
    if result.ok:
        click.echo(f"ok: {result.message}")
        return
    click.echo(f"BROKEN at entry #{result.first_broken_id}: {result.message} "
               f"({result.checked} entries before it are intact)", err=False)
    raise click.exceptions.Exit(1)


@click.group()
def registry() -> None:
    """Companies, users and filings."""


@registry.command("create-company")
@click.option("--name", required=True)
@click.option("--credit-code", help="统一社会信用代码 (required for companies in China)")
@click.option("--country", default="CN", show_default=True)
@click.option("--province")
def create_company(name: str, credit_code: str | None, country: str, province: str | None) -> None:
    """Register a company."""
    company = _create(accounts.create_company, CompanyIn, {
        "name": name, "credit_code": credit_code, "country": country, "province": province})
    click.echo(f"company {company.id}: {company.name} {company.credit_code or ''}".rstrip())


@registry.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["company", "regulator", "analyst", "admin", "partner"]), required=True)
@click.option("--company-id", type=int)
@click.password_option(help="At least 10 characters (asked when not given).")
def create_user(email: str, name: str, role: str, company_id: int | None, password: str) -> None:
    """Create a user bound to a company (role company) or to the regulator."""
    user = _create(accounts.create_user, UserIn, {
        "email": email, "name": name, "role": role, "company_id": company_id, "password": password})
    click.echo(f"user {user.id}: {user.email} ({user.role})")


@registry.command("token")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", default="cli", show_default=True)
@click.option("--days", type=click.IntRange(1, MAX_TOKEN_DAYS), default=DEFAULT_TOKEN_DAYS, show_default=True,
              help="Expire after this many days.")
@click.option("--scope", type=click.Choice(TOKEN_SCOPES), default="all", show_default=True)
def token(email: str, name: str, days: int, scope: str) -> None:
    """Issue a personal API token for a user; it is printed once."""
    import sqlalchemy as sa

    from tierwatch.registry.models import User

    with container().uow() as uow:
        user = uow.session.scalars(sa.select(User).where(User.email == email.lower())).first()
        if user is None:
            raise click.ClickException(f"no user {email}")
        _token, plain = accounts.issue_token(uow, user, name, days, scope)
        uow.commit()
    click.echo(plain)


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", "cac-genai", "cac-deep-synthesis", "nl-algoritmeregister", "uk-atrs"]))
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML column->field mapping for files of no known format.")
@click.option("--show-rejected", default=20, show_default=True, help="How many rejected rows to list.")
@click.option("--dry-run", is_flag=True, help="Map and check every row; store nothing.")
def import_file(file: Path, fmt: str, mapping: Path | None, show_rejected: int, dry_run: bool) -> None:
    """Import a list of filings (CSV, XLSX, JSON) and tier every imported application."""
    from tierwatch.registry.importer import ImportFileError, run_import
    from tierwatch.risk.service import tier_imported

    try:
        with container().uow() as uow:
            report = run_import(uow, file, fmt, mapping, dry_run=dry_run)
            tiering = "dry run: nothing stored" if dry_run else tier_imported(uow, report.imported)
            if not dry_run:
                uow.commit()
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    for row, reason in report.rejected[:show_rejected]:
        click.echo(f"  rejected row {row}: {reason}")
    if len(report.rejected) > show_rejected:
        click.echo(f"  ... and {len(report.rejected) - show_rejected} more rejected rows")
    for flag, count in sorted(report.flagged.items(), key=lambda kv: -kv[1]):
        click.echo(f"  flagged ({count} rows): {flag}")
    click.echo(tiering)


@registry.command("supervise")
def supervise() -> None:
    """Run the supervision jobs once: create this period's due tasks, mark overdue ones."""
    from tierwatch.core.clock import utcnow
    from tierwatch.registry import supervision
    from tierwatch.risk.service import supervision_duties

    now = utcnow()
    with container().uow() as uow:
        created = supervision.generate_due_tasks(uow, now, supervision_duties)
        overdue = supervision.mark_overdue(uow, now)
        uow.commit()
    click.echo(f"{created} tasks created, {overdue} marked overdue")
