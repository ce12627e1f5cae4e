"""`tierwatch intake replay FILE.jsonl`: partner feeds onto the intake topics.

The replay records how far the broker acknowledged it in ``FILE.jsonl.progress`` (line number,
byte offset, a digest of the bytes acknowledged) after every acknowledged chunk. When the broker
stays away longer than the send timeout it stops with that position instead of a traceback, and
``--resume`` carries on from there. Lines of the chunk that failed are sent again: the worker
stores a report_id once, so a line sent twice is still one report.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from tierwatch.core.bus import EventBus
from tierwatch.cli.common import container
from tierwatch.monitoring.intake import publish_raw
from tierwatch.monitoring.topics import ensure_topics

EX_TEMPFAIL = 75  # sysexits.h: try again later


@click.group("intake")
def intake() -> None:
    """Report intake: replay partner feeds onto the intake topics."""


@dataclass
class Progress:
    """What the broker acknowledged of one file: lines 1..line, bytes [0, offset)."""

    line: int = 0
    offset: int = 0
    published: int = 0  # messages acknowledged (blank lines are skipped, not published)
    prefix_blake2b: str = hashlib.blake2b(b"", digest_size=16).hexdigest()


def progress_file(feed: Path) -> Path:
    return feed.with_name(feed.name + ".progress")


def _load_progress(feed: Path) -> Progress:
    path = progress_file(feed)
    try:
        return Progress(**json.loads(path.read_text()))
    except FileNotFoundError:
        raise click.UsageError(f"no progress file {path}: nothing to resume (replay without --resume)") from None
    except (ValueError, TypeError) as exc:
        raise click.UsageError(f"{path} is not a replay progress file ({exc}); use --from-line") from None


def _save_progress(feed: Path, progress: Progress) -> bool:
    path = progress_file(feed)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(asdict(progress)) + "\n")
        tmp.replace(path)  # atomic: a crash never leaves half a file
        return True
    except OSError:
        return False


class _Feed:
    """Lines of the file with their numbers, from a start line, hashing every byte read so the
    saved position can be checked against the file on resume."""

    def __init__(self, path: Path, progress: Progress):
        self.path, self.start = path, progress
        self.digest = hashlib.blake2b(digest_size=16)
        self.number = self.offset = 0  # lines and bytes read so far

    def position(self, published: int) -> Progress:
        return Progress(self.number, self.offset, published, self.digest.hexdigest())

    def lines(self, from_line: int) -> Iterator[tuple[int, bytes]]:
        """(line number, line) for lines >= from_line that are not blank."""
        with self.path.open("rb") as fh:
            for raw in fh:
                self.number += 1
                self.offset += len(raw)
                self.digest.update(raw)
                number = self.number
                if number == self.start.line and self.start.line and self.digest.hexdigest() != self.start.prefix_blake2b:
                    raise click.UsageError(
                        f"{self.path} changed in lines 1-{number} since {progress_file(self.path).name} was "
                        "saved; choose where to start with --from-line")
                line = raw.rstrip(b"\r\n")
                if number >= from_line and line.strip():
                    yield number, line
        if self.number < self.start.line:
            raise click.UsageError(f"{self.path} has {self.number} lines, fewer than the {self.start.line} acknowledged")


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
@click.option("--resume", is_flag=True, help="Start after the last line acknowledged (FILE.progress).")
@click.option("--from-line", type=click.IntRange(min=1), default=None,
              help="Start at this line (1 = the first); earlier lines count as done for a later --resume.")
def replay(file: Path, rate: float | None, topic: str | None, chunk: int, resume: bool, from_line: int | None) -> None:
    """Publish FILE.jsonl (one report per line) to the intake topics, with broker acknowledgement."""
    if resume and from_line is not None:
        raise click.UsageError("--resume and --from-line exclude each other")
    done = _load_progress(file) if resume else Progress()
    start = done.line + 1 if resume else (from_line or 1)
    if not resume and start > 1:
        done = Progress(line=0)  # --from-line: what came before is not known to be acknowledged
    settings = container().settings.intake
    topics = settings.kind_topics()
    bus = container().bus
    feed = _Feed(file, done)
    progress = done
    resumable = resume  # the progress file on disk says where this run stands
    if rate:
        chunk = max(1, min(chunk, int(rate // 10) or 1))  # ~10 sends a second keeps the pace smooth
    sent, started = 0, time.monotonic()
    pending: dict[str, list[bytes]] = {}
    try:
        ensure_topics(bus, settings)
        for _number, line in feed.lines(start):
            target = topic or _route(line, topics, topics["scam"])
            pending.setdefault(target, []).append(line)
            if sum(map(len, pending.values())) >= chunk:
                sent += _flush(bus, pending)
                # The chunk ended with the line just read: everything up to it is acknowledged.
                progress = feed.position(done.published + sent)
                resumable = _save_progress(file, progress)
                if rate:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        sent += _flush(bus, pending)
    except click.UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - the broker is away: say how far it got, no traceback
        _stopped(file, progress, start, exc, settings.send_timeout, resumable)
    progress = feed.position(done.published + sent)
    _save_progress(file, progress)  # a feed that grows later: --resume sends only the new lines
    elapsed = time.monotonic() - started
    click.echo(f"published {sent} messages in {elapsed:.1f}s ({sent / max(elapsed, 1e-9):.0f}/s); "
               f"acknowledged up to line {progress.line}")


def _stopped(file: Path, progress: Progress, start: int, exc: Exception, timeout: float, resumable: bool) -> None:
    if progress.line >= start:
        where = (f"acknowledged up to line {progress.line} (byte offset {progress.offset}, "
                 f"{progress.published} messages)")
    else:
        where = f"nothing acknowledged from line {start} on"
    again = "--resume" if resumable else f"--from-line {max(progress.line + 1, start)}"
    click.echo(
        f"error: the broker did not acknowledge within {timeout:g}s ({type(exc).__name__}: {exc}).\n"
        f"{file}: {where}. When the broker is back: tierwatch intake replay {file} {again}\n"
        f"Lines after {max(progress.line, start - 1)} may have arrived too: sending them again does not "
        "store them twice.",
        err=True,
    )
    raise SystemExit(EX_TEMPFAIL)


def _flush(bus: EventBus, pending: dict[str, list[bytes]]) -> int:
    count = sum(publish_raw(bus, t, lines) for t, lines in pending.items() if lines)
    pending.clear()
    return count

