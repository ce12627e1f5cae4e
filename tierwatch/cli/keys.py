"""`tierwatch keys ...`: where the keys outside the database are, and rotating one."""

from __future__ import annotations

import click

from tierwatch.cli.common import container
from tierwatch.core.keys import NAMES, KeyRingError


@click.group("keys")
def keys() -> None:
    """Secrets kept outside the database (see SECURITY.md)."""


@keys.command("list")
def list_() -> None:
    """Each key's source (environment or file) and how many earlier versions are kept."""
    ring = container().keys
    for name in NAMES:
        ring.key(name)
        source = f"TIERWATCH_KEY_{name.upper()}" if ring.from_environment(name) else str(ring.directory / f"{name}.key")
        click.echo(f"{name:10} {source}  (earlier versions kept: {len(ring.previous(name))})")


@keys.command("rotate")
@click.argument("name", type=click.Choice(["contacts", "pseudonym", "session"]))
def rotate(name: str) -> None:
    """Make a new current key NAME; the old one is kept as NAME.key.1 to read older data."""
    try:
        container().keys.rotate(name)
    except KeyRingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name}: new key in use; the previous one is kept as {name}.key.1")
