"""CLI: ``tierwatch intake replay FILE.jsonl`` and ``tierwatch worker``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import click

from tierwatch.core.bus import EventBus
from tierwatch.monitoring.intake import publish_raw
from tierwatch.core.settings import IntakeSettings
from tierwatch.monitoring.topics import ensure_topics


@click.group("intake")
def intake() -> None:
    """Report intake: replay partner feeds onto the intake topics."""


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        for line in fh:
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield line


def _route(line: bytes, topics: dict[str, str], default: str) -> str:
    # Only a peek at "kind": validation is the worker's job, and a bad line must still reach it
    # so that it is dead-lettered with a reason.
    try:
        kind = json.loads(line).get("kind")
    except (ValueError, AttributeError):
        return default
    return topics.get(kind, default) if isinstance(kind, str) else default


@intake.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rate", type=float, default=None, help="Messages per second (default: as fast as possible).")
@click.option("--topic", default=None, help="Publish every line to this topic (default: by each line's 'kind').")
@click.option("--chunk", type=int, default=500, show_default=True, help="Messages per acknowledged batch.")
def replay(file: Path, rate: float | None, topic: str | None, chunk: int) -> None:
    """Publish FILE.jsonl (one report per line) to the intake topics, with broker acknowledgement."""
    from tierwatch.bootstrap import build

    settings = IntakeSettings()
    topics = settings.kind_topics()
    container = build()
    bus = container.bus
    ensure_topics(bus, settings)
    if rate:
        chunk = max(1, min(chunk, int(rate // 10) or 1))  # ~10 sends a second keeps the pace smooth
    sent, started = 0, time.monotonic()
    pending: dict[str, list[bytes]] = {}
    try:
        for line in _lines(file):
            target = topic or _route(line, topics, topics["scam"])
            pending.setdefault(target, []).append(line)
            if sum(map(len, pending.values())) >= chunk:
                sent += _flush(bus, pending)
                if rate:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        sent += _flush(bus, pending)
    finally:
        container.close()
    elapsed = time.monotonic() - started
    click.echo(f"published {sent} messages in {elapsed:.1f}s ({sent / max(elapsed, 1e-9):.0f}/s)")


def _flush(bus: EventBus, pending: dict[str, list[bytes]]) -> int:
    count = sum(publish_raw(bus, t, lines) for t, lines in pending.items() if lines)
    pending.clear()
    return count


@click.command("worker")
@click.option("--batch-size", type=int, default=None, help="Records per batch (TIERWATCH_INTAKE_BATCH_SIZE).")
@click.option("--jobs/--no-jobs", default=True, show_default=True, help="Run the periodic jobs too.")
@click.option("--exit-when-idle", type=float, default=None, metavar="SECONDS")
@click.option("--stats-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
def worker(batch_size: int | None, jobs: bool, exit_when_idle: float | None, stats_file: Path | None) -> None:
    """Consume the intake topics: validate, link, score, store, index. Stops cleanly on SIGTERM."""
    import logging

    from tierwatch.monitoring.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stats = run_worker(batch_size=batch_size, jobs=jobs, exit_when_idle=exit_when_idle, stats_file=stats_file)
    click.echo(json.dumps({"stored": stats.stored, "duplicates": stats.duplicates,
                           "dead_lettered": stats.dead_lettered, "indexed": stats.indexed}))
