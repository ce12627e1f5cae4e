"""`tierwatch keys ...`: where the keys outside the database are, and rotating one."""

from __future__ import annotations

import click

from tierwatch.bootstrap import Container
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
@click.argument("name", type=click.Choice(["contacts", "pseudonym", "session", "tracking"]))
def rotate(name: str) -> None:
    """Make a new current key NAME; the old one is kept as NAME.key.1 to read older data.
    For "contacts", every stored contact is then re-encrypted with the new key."""
    c = container()
    try:
        c.keys.rotate(name)
    except KeyRingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name}: new key in use; the previous one is kept as {name}.key.1")
    if name == "contacts":
        _reseal(c)
    click.echo("restart the web and worker processes: they read a key once, when they start")


@keys.command("reseal")
@click.argument("name", type=click.Choice(["contacts"]))
def reseal(name: str) -> None:
    """Re-encrypt every stored contact with the current key (after the processes were restarted
    on a rotated key, for rows they wrote with the old one meanwhile)."""
    _reseal(container())


def _reseal(c: Container) -> None:
    from tierwatch.monitoring.contacts import ContactCipher, InvalidToken, reseal as reseal_contacts

    import sqlalchemy as sa

    if not sa.inspect(c.engine).has_table("report_contacts"):
        click.echo("contacts: the database has no reports yet, nothing to re-encrypt")
        return
    cipher = ContactCipher.from_ring(c.keys)  # read afresh: the container's may predate a rotation
    try:
        with c.uow() as uow:
            n = reseal_contacts(uow.session, cipher)
            uow.commit()
    except InvalidToken:
        raise click.ClickException("a stored contact was encrypted with a key that is not in the keys "
                                   "directory any more; nothing was changed") from None
    click.echo(f"contacts: {n} re-encrypted with the current key")
