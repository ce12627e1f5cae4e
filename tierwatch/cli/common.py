"""What every `tierwatch` sub-command shares: the container of this invocation."""

from __future__ import annotations

import click

from tierwatch.bootstrap import Container, build


def container() -> Container:
    """The container the root command built (``ctx.obj``), or a new one when a sub-command is
    invoked on its own (tests call groups directly)."""
    ctx = click.get_current_context()
    found = ctx.find_object(Container)
    if found is None:
        found = ctx.find_root().obj = build()
        ctx.call_on_close(found.close)
    return found
