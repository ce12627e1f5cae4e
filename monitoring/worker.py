"""The intake worker: a consumer-group member that validates, links, scores, stores and indexes.

Per batch: parse (invalid -> dead-letter topic with the reason, keep going) -> store in one
transaction (idempotent by report_id) -> bulk index (doc id = report_id) -> commit offsets.
Database or search outages are retried with exponential backoff, never skipped; offsets are
committed only after both succeeded. SIGTERM/SIGINT: finish the batch, commit, exit.

Run: ``tierwatch worker`` (built by tierwatch.worker from TIERWATCH_* / TIERWATCH_INTAKE_* settings).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from tierwatch.core.bus import EventBus, Record
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.ids import new_id
from tierwatch.core.search import SearchIndex
from tierwatch.monitoring.appevents import retier_reports
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA, report_document
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.messages import ApplicationEvent, InvalidMessage, parse_report
from tierwatch.monitoring.reporters import contact_key, source_key
from tierwatch.monitoring.scoring import Scorer
from tierwatch.monitoring.store import Prepared, ReportKeys, persist, prepare
from tierwatch.core.settings import IntakeSettings
from tierwatch.monitoring.topics import ensure_topics

log = logging.getLogger(__name__)
T = TypeVar("T")


class Stopped(Exception):
    """Shutdown was asked for while a batch was still waiting on an outage: leave it uncommitted."""


PHASES = ("poll", "prepare", "database", "index", "commit")
# A batch slower than this is logged with its phases (a lock wait, an outage, a stall).
SLOW_BATCH_S, SLOW_PER_RECORD_S = 1.0, 0.0005


@dataclass
class Stats:
    member: str
    batches: int = 0
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    indexed: int = 0
    retries: int = 0
    conflicts: int = 0  # batches rolled back by a deadlock or serialisation failure, and retried
    started: float = field(default_factory=time.time)
    # Wall seconds per phase, summed over batches: where a worker's time goes (bench_pipeline).
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))


class Worker:
    def __init__(
        self,
        bus: EventBus,
        search: SearchIndex,
        uow: Callable[[], UnitOfWork],
        scorer: Scorer,
        linker: ApplicationLinker,
        settings: IntakeSettings,
        *,
        member_id: str | None = None,
        stop: threading.Event | None = None,
        pseudonym_key: bytes | None = None,
        report_keys: ReportKeys,
        on_stored: Callable[[Session, list[dict[str, Any]], datetime], Any] | None = None,
    ):
        self.bus, self.search, self.uow = bus, search, uow
        self.scorer, self.linker, self.settings = scorer, linker, settings
        # The key ring's "pseudonym" key: a report that arrives without a reporter key gets one
        # from its contact, else its source (monitoring.reporters), so reporters can be counted.
        self.pseudonym_key = pseudonym_key
        self.report_keys = report_keys  # tracking codes (as the web process makes them) and contacts' cipher
        # Called in each batch's transaction with the stored reports' documents (threshold
        # alert rules fire from the stream); what it writes commits with the reports.
        self.on_stored = on_stored
        self._applications: set[int] = set()  # application events of the batch: re-tier their reports
        self.stop = stop or threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer")
        self.stats = Stats(member=member_id or f"worker-{os.getpid()}-{new_id()[:8]}")
        topics = settings.kind_topics()
        self._report_kinds = {topics["scam"]: "scam", topics["incident"]: "incident"}
        self._topics = [topics["scam"], topics["incident"], topics["application"]]

    # --- the loop --------------------------------------------------------------------------

    def run(self, *, exit_when_idle: float | None = None, on_batch: Callable[[Stats], None] | None = None) -> Stats:
        self._retry("bus", lambda: ensure_topics(self.bus, self.settings))
        self._retry("search index", lambda: self.search.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA))
        consumer = self._retry(
            "bus", lambda: self.bus.consumer(self.settings.group, self._topics, member_id=self.stats.member)
        )
        idle_since = time.monotonic()
        if on_batch:
            on_batch(self.stats)  # "ready": subscribed, topics and index exist
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                records = self._retry(
                    "bus", lambda: consumer.poll(self.settings.batch_size, self.settings.poll_timeout)
                )
                self._timed("poll", started)
                if not records:
                    if exit_when_idle is not None and time.monotonic() - idle_since > exit_when_idle:
                        break
                    continue
                started = time.monotonic()
                phases = self.process(records)
                self._retry("bus", consumer.commit)
                phases["commit"] = self._timed("commit", started + sum(phases.values()))
                if sum(phases.values()) > SLOW_BATCH_S + SLOW_PER_RECORD_S * len(records):
                    log.warning("slow batch of %d records: %s", len(records),
                                ", ".join(f"{k} {v:.2f}s" for k, v in phases.items()))
                idle_since = time.monotonic()
                if on_batch:
                    on_batch(self.stats)
        except Stopped:
            log.info("stopping with an unfinished batch; it will be redelivered")
        finally:
            consumer.close()
            self._pool.shutdown(wait=True)
        return self.stats

    def process(self, records: Sequence[Record]) -> dict[str, float]:
        """One batch, all the way to the index. Returns only when it is stored and indexed, with
        the wall seconds each phase took."""
        phases = self._process_reports(records)
        if self._applications:
            started = time.monotonic()
            ids, self._applications = sorted(self._applications), set()
            self._retry("search index", lambda: retier_reports(self.uow, self.search, ids))
            phases["index"] = phases.get("index", 0.0) + self._timed("index", started)
        return phases

    def _process_reports(self, records: Sequence[Record]) -> dict[str, float]:
        started, now = time.monotonic(), utcnow()
        batch: dict[str, Prepared] = {}
        sources: dict[str, list[Record]] = {}  # report_id -> the records that carried it
        for record in records:
            prepared = self._prepare(record, now)
            if prepared is not None:
                batch.setdefault(prepared.report_id, prepared)
                sources.setdefault(prepared.report_id, []).append(record)
        self.stats.batches += 1
        self.stats.records += len(records)
        phases = {"prepare": self._timed("prepare", started)}
        if not batch:
            return phases
        items = list(batch.values())
        # New reports are sent to the index as soon as they are scored, while the database writes
        # them, so the two servers can work at the same time (on 2 busy cores this measured the
        # same as indexing after the commit: bench/README.md). Search may therefore show a report
        # before its row is committed, for at most one attempt (one transaction): an attempt that
        # fails takes back what it indexed early, before it is retried, so no document outlives a
        # row that was not written. Offsets are committed only after both succeeded.
        early: list[tuple[Future[int], set[str]]] = []

        def index_early(scored: dict[str, dict[str, Any]]) -> None:
            docs = [self._document(batch[r], cols) for r, cols in scored.items()]
            early.append((self._pool.submit(self.search.bulk_index, REPORTS_INDEX, docs), set(scored)))

        def take_back_early() -> None:
            sent: set[str] = set()
            for future, ids in early:  # a failed attempt's request ends before the next one starts
                wait([future])
                sent |= ids
            early.clear()
            if sent:
                self._retry("search index", lambda: self.search.delete(REPORTS_INDEX, sorted(sent)))

        def attempt() -> dict[str, dict[str, Any]]:
            try:
                return self._persist(items, now, index_early)
            except Exception:
                take_back_early()
                raise

        started = time.monotonic()
        try:
            stored = self._retry("database", attempt)
        except BadBatch as exc:
            log.warning("a batch of %d reports failed on its data (%s); finding the message at fault",
                        len(items), exc.reason)
            stored = self._store_isolating(items, now, sources)
            items = [p for p in items if p.report_id in stored]
        phases["database"] = self._timed("database", started)
        started = time.monotonic()
        indexed: set[str] = set()
        if early:
            future, ids = early[0]
            try:
                future.result()
                indexed = ids
            except Exception as exc:  # noqa: BLE001 - retried below like any index failure
                log.warning("search index unavailable (%s: %s); retrying", type(exc).__name__, exc)
        # Campaigns are joined after scoring: a document indexed early lacks its campaign_id.
        rest = [self._document(p, stored[p.report_id]) for p in items
                if p.report_id not in indexed or stored[p.report_id].get("campaign_id") is not None]
        if rest:
            self._retry("search index", lambda: self.search.bulk_index(REPORTS_INDEX, rest))
        self.stats.indexed += len(items)
        phases["index"] = self._timed("index", started)  # what is left after the database part
        return phases

    def _store_isolating(
        self, items: list[Prepared], now: Any, sources: dict[str, list[Record]]
    ) -> dict[str, dict[str, Any]]:
        """Store ``items`` in halves, each in its own transaction, until the reports whose data the
        database refuses stand alone; those become dead letters with the database's reason and
        the rest is stored. log2(batch) extra transactions per bad report."""
        try:
            return self._retry("database", lambda: self._persist(items, now, None))
        except BadBatch as exc:
            if len(items) == 1:
                reason = f"database: {exc.reason}"[:1000]
                for record in sources[items[0].report_id]:
                    self._retry("bus", partial(self.bus.dead_letter, record, reason))
                    self.stats.dead_lettered += 1
                return {}
        middle = len(items) // 2
        return {**self._store_isolating(items[:middle], now, sources),
                **self._store_isolating(items[middle:], now, sources)}

    def _document(self, prepared: Prepared, stored: dict[str, Any]) -> dict[str, Any]:
        tier = self.linker.tier_of(stored.get("application_id"))
        row = {**prepared.row, **stored}
        return report_document(row, list(prepared.keys), tier)

    def _timed(self, phase: str, started: float) -> float:
        took = time.monotonic() - started
        self.stats.seconds[phase] += took
        return took

    def _prepare(self, record: Record, now: Any) -> Prepared | None:
        kind = self._report_kinds.get(record.topic)
        try:
            if kind is None:
                event = ApplicationEvent.model_validate_json(record.value, strict=True)
                self.linker.invalidate()  # a new or renamed application: reload names and tiers
                if event.application_id.isdigit():
                    self._applications.add(int(event.application_id))
                return None
            prepared = prepare(parse_report(record.value, kind), now, self.report_keys)
            if kind == "scam" and self.pseudonym_key is not None and not prepared.row.get("reporter_key"):
                prepared.row["reporter_key"] = (contact_key(prepared.contact, self.pseudonym_key)
                                                or source_key(prepared.row.get("source"), self.pseudonym_key))
            return prepared
        except InvalidMessage as exc:
            reason = exc.reason
        except ValueError as exc:  # pydantic's ValidationError on an application event
            reason = f"schema: {str(exc).splitlines()[0]}"
        except Exception as exc:  # noqa: BLE001 - a bug on one message must not stop the stream
            log.exception("could not process %s/%s@%s", record.topic, record.partition, record.offset)
            reason = f"processing error: {type(exc).__name__}: {exc}"
        self._retry("bus", lambda: self.bus.dead_letter(record, reason[:1000]))
        self.stats.dead_lettered += 1
        return None

    def _persist(
        self, items: list[Prepared], now: Any, on_scored: Callable[..., None] | None
    ) -> dict[str, dict[str, Any]]:
        with self.uow() as uow:
            stored, new = persist(uow.session, items, self.scorer, self.linker, now, on_scored)
            if self.on_stored is not None:
                self.on_stored(uow.session, [self._document(p, stored[p.report_id]) for p in items], now)
            uow.commit()
        self.stats.stored += new
        self.stats.duplicates += len(items) - new
        return stored

    def _retry(self, what: str, fn: Callable[[], T]) -> T:
        """Wait out outages of ``what``; a database error caused by the batch's data raises
        BadBatch instead (retrying it would stop the stream for everyone)."""
        delay, races = 0.2, 0
        while True:
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - outages are waited out, never skipped
                if self.stop.is_set():
                    raise Stopped from exc
                kind = classify_database_error(exc) if what == "database" else "outage"
                if kind == "race" and races < MAX_RACE_RETRIES:
                    # Two workers' batches locked shared rows in opposite orders, or one merged a
                    # campaign the other was joining; PostgreSQL rolled this one back. Go again.
                    races += 1
                    self.stats.retries += 1
                    self.stats.conflicts += 1
                    log.info("%s: %s; retrying the batch", what, str(exc).splitlines()[0])
                    continue
                if kind != "outage":
                    raise BadBatch(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from exc
                self.stats.retries += 1
                # The first failure of a streak with its traceback: a bug looks like an outage here.
                log.warning(
                    "%s unavailable (%s: %s); retrying in %.1fs", what, type(exc).__name__, exc, delay,
                    exc_info=delay == 0.2,
                )
                self.stop.wait(delay)
                delay = min(delay * 2, self.settings.max_backoff)


class BadBatch(Exception):
    """The database refused the batch because of what it contains, not because it is away."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# A conflict between workers that keeps coming back for the same batch is not a race any more.
MAX_RACE_RETRIES = 20
# SQLSTATEs of a transaction that lost to another one: deadlock, serialisation failure, and a
# foreign key to a campaign row another worker merged away meanwhile.
_RACE_STATES = ("40P01", "40001", "23503")


def classify_database_error(exc: BaseException) -> str:
    """"outage" (wait and retry), "race" (retry at once) or "data" (the batch's content)."""
    from sqlalchemy import exc as sa_exc

    sqlstate = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    if sqlstate in _RACE_STATES:
        return "race"
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return "outage"
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                        sa_exc.TimeoutError, ConnectionError, TimeoutError)):
        return "outage"
    if isinstance(exc, sa_exc.DBAPIError) and sqlstate is not None and sqlstate[:2] in ("08", "53", "57", "58"):
        return "outage"  # connection exception, insufficient resources, operator intervention, system
    return "data"
