"""The `tierwatch` command. Sub-commands live in their own modules and load only when called;
each takes its adapters from the composition root (tierwatch.cli.common.container)."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

import click

from tierwatch.cli.common import container
from tierwatch.core.settings import SettingsError

# command name -> "module:attribute" of a click command/group defined in its own package
LAZY_COMMANDS = {
    "rules": "tierwatch.cli.rules:rules",
    "registry": "tierwatch.cli.registry:registry",
    "audit": "tierwatch.cli.registry:audit",
    "model": "tierwatch.cli.model:model",
    "intake": "tierwatch.cli.intake:intake",
    "worker": "tierwatch.cli.worker:worker",
    "keys": "tierwatch.cli.keys:keys",
    "alerts": "tierwatch.cli.alerts:alerts",
}


class LazyGroup(click.Group):
    """click's documented lazy-loading pattern: import a sub-command only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attr = LAZY_COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
def cli() -> None:
    """tierwatch: risk tiers for AI applications, AI-scam monitoring."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web app and JSON API (waitress). A fresh data directory or empty database is
    initialised first (migrations); one that is behind the code is refused with the fix."""
    import waitress

    from tierwatch.risk.textmatch import load_segmenter
    from tierwatch.web import create_app

    _ready_database()
    app = create_app(None, container())
    load_segmenter()  # a submission is tiered in its request: no request pays for jieba's dictionary
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="tierwatch")
    # Said once the socket is bound, so the line is true when a script waits for it.
    click.echo(f"tierwatch web on http://{host}:{port} (data directory {container().settings.data_dir})")
    server.run()


def _ready_database() -> None:
    from tierwatch.core.migrate import schema_state, upgrade

    settings = container().settings
    url = settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    state = schema_state(url)
    if state == "fresh":
        upgrade(url, keys=container().keys)
        click.echo(f"initialised a new database at {_redact(url)}")
    elif state == "behind":
        raise click.ClickException(f"the database at {_redact(url)} is older than this code: run `tierwatch db upgrade`")
    elif state == "foreign":
        raise click.ClickException(f"the database at {_redact(url)} holds tables that are not tierwatch's "
                                   "(no migration record): point TIERWATCH_DATABASE_URL at an empty or tierwatch database")


@cli.group()
def db() -> None:
    """Relational store."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (SQLite or PostgreSQL, per TIERWATCH_DATABASE_URL)."""
    from tierwatch.core.keys import NAMES
    from tierwatch.core.migrate import upgrade

    settings = container().settings
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = container().keys
    for name in NAMES:  # created now, so that the operator knows where they are (SECURITY.md)
        keys.key(name)
    upgrade(settings.resolved_database_url, keys=keys)
    click.echo(f"database at {_redact(settings.resolved_database_url)} is up to date")


@db.command("current")
def db_current() -> None:
    """Show the applied migration heads."""
    from tierwatch.core.migrate import current

    click.echo(current(container().settings.resolved_database_url) or "(empty database)")


@cli.command()
@click.argument("action", type=click.Choice(["up", "down", "status"]))
@click.argument("names", nargs=-1, type=click.Choice(["kafka", "elasticsearch", "postgres"]))
def services(action: str, names: tuple[str, ...]) -> None:
    """Start, stop or inspect the real Kafka, Elasticsearch and PostgreSQL on 127.0.0.1."""
    from tierwatch.core.services import ServiceError, manager

    selected = list(names) or None
    try:
        if action == "up":
            manager.up(selected)
        elif action == "down":
            manager.down(selected)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    if action == "status":
        for name, info in manager.status().items():
            click.echo(f"{name:14} " + " ".join(f"{k}={v}" for k, v in info.items()))


@cli.command()
@click.option("--demo/--no-demo", default=True, help="Load demo data first (idempotent).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(demo: bool, host: str, port: int) -> None:
    """Migrate, optionally load demo data, then run web + worker until Ctrl-C."""
    ctx = click.get_current_context()
    ctx.invoke(db_upgrade)
    if demo:
        ctx.invoke(demo_load)
    exe = [sys.executable, "-m", "tierwatch.cli"]
    procs = [
        subprocess.Popen([*exe, "worker"]),
        subprocess.Popen([*exe, "serve", "--host", host, "--port", str(port)]),
    ]
    stop = False

    def _stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop and all(p.poll() is None for p in procs):
        time.sleep(0.5)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        p.wait(timeout=30)


@cli.command("demo")
def demo_load() -> None:
    """Load demo data: rule sets, companies, applications, reports, a trained detector."""
    from tierwatch.demo import load_demo

    load_demo(container(), echo=click.echo)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# exception class name -> (variable, fix): an unreachable backend is one line, not a traceback
_UNREACHABLE = {
    "OperationalError": ("TIERWATCH_DATABASE_URL", "check the URL and that the database server is running"),
    "NoBrokersAvailable": ("TIERWATCH_KAFKA_BOOTSTRAP", "start Kafka (`tierwatch services up kafka`) or set TIERWATCH_BUS=sql"),
    "ConnectionError": ("TIERWATCH_ELASTICSEARCH_URL", "start Elasticsearch (`tierwatch services up elasticsearch`) or set TIERWATCH_SEARCH=fts"),
}


def main() -> None:
    # Files tierwatch creates (SQLite databases with password hashes and reporter contacts, keys,
    # models, evidence uploads) are readable by their owner only.
    os.umask(0o077)
    try:
        code = cli(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except SettingsError as exc:  # a wrong setting is one line, not a traceback
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _is_missing_table(exc) and os.environ.get("TIERWATCH_DEBUG") != "1":
            click.echo(f"error: {_not_initialised()}", err=True)
            sys.exit(2)
        known = _UNREACHABLE.get(type(exc).__name__)
        if known is None or os.environ.get("TIERWATCH_DEBUG") == "1":
            raise
        variable, fix = known
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        click.echo(f"error: {variable}: cannot reach the backend ({first_line}); fix: {fix}", err=True)
        sys.exit(2)


def _is_missing_table(exc: BaseException) -> bool:
    # SQLite: OperationalError "no such table"; PostgreSQL: ProgrammingError from UndefinedTable.
    orig = getattr(exc, "orig", None)
    return "no such table" in str(exc) or type(orig).__name__ == "UndefinedTable"


def _not_initialised() -> str:
    """A reachable database without tierwatch's tables is not "unreachable": say what it is, and
    where it is (a relative data directory is taken from the current directory)."""
    from tierwatch.core.settings import load_settings

    settings = load_settings()
    where = f"the database at {_redact(settings.resolved_database_url)}"
    raw = os.environ.get("TIERWATCH_DATA_DIR", "var")
    relative = "" if os.path.isabs(raw) or os.environ.get("TIERWATCH_DATABASE_URL") else (
        f" (TIERWATCH_DATA_DIR={raw} is relative: taken from the current directory, {os.getcwd()})")
    return (f"{where} has no tierwatch tables{relative}; run `tierwatch db upgrade` to create them, "
            "or run from the directory that holds your data")


if __name__ == "__main__":
    main()
