"""`tierwatch intake replay FILE.jsonl`: partner feeds onto the intake topics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import click

from tierwatch.core.bus import EventBus
from tierwatch.cli.common import container
from tierwatch.monitoring.intake import publish_raw
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
    settings = container().settings.intake
    topics = settings.kind_topics()
    bus = container().bus
    ensure_topics(bus, settings)
    if rate:
        chunk = max(1, min(chunk, int(rate // 10) or 1))  # ~10 sends a second keeps the pace smooth
    sent, started = 0, time.monotonic()
    pending: dict[str, list[bytes]] = {}
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
    elapsed = time.monotonic() - started
    click.echo(f"published {sent} messages in {elapsed:.1f}s ({sent / max(elapsed, 1e-9):.0f}/s)")


def _flush(bus: EventBus, pending: dict[str, list[bytes]]) -> int:
    count = sum(publish_raw(bus, t, lines) for t, lines in pending.items() if lines)
    pending.clear()
    return count
