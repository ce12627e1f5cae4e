"""The intake worker process: built from the container, run until SIGTERM/SIGINT (or idle).

``tierwatch worker`` is the one entry point. With ``jobs`` the same process runs the scheduled
jobs (tierwatch.jobs); scale-out workers run with ``--no-jobs``.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tierwatch.bootstrap import Container
from tierwatch.monitoring.linking import AppRow, ApplicationLinker, load_applications
from tierwatch.monitoring.scoring import ActiveModelScorer
from tierwatch.monitoring.worker import Stats, Worker

log = logging.getLogger(__name__)


def build_worker(container: Container, stop: threading.Event, batch_size: int | None = None) -> Worker:
    intake = container.settings.intake
    if batch_size is not None:
        intake = intake.model_copy(update={"batch_size": batch_size})

    def load_apps() -> list[AppRow]:
        with container.uow() as uow:
            return load_applications(uow.session)

    from tierwatch.alerting import stream_hook

    return Worker(
        container.bus,
        container.search,
        container.uow,
        ActiveModelScorer(container.settings.models_dir),  # follows `tierwatch model activate`
        ApplicationLinker(load_apps),
        intake,
        stop=stop,
        pseudonym_key=container.keys.key("pseudonym"),
        report_keys=container.report_keys,
        on_stored=stream_hook(container),
    )


def run_worker(
    container: Container,
    *,
    batch_size: int | None = None,
    jobs: bool = True,
    exit_when_idle: float | None = None,
    stats_file: Path | None = None,
) -> Stats:
    from tierwatch.jobs import start_scheduler
    from tierwatch.risk.textmatch import load_segmenter

    load_segmenter()  # text signals' Chinese dictionary: at start-up, never inside a batch or job that tiers
    stop = threading.Event()
    worker = build_worker(container, stop, batch_size)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler = start_scheduler(container) if jobs else None
    # The models, vocabularies and libraries loaded so far live as long as the process: keep the
    # cyclic collector from re-scanning them, and let it run less often, since a 2,000-report batch
    # allocates hundreds of thousands of short-lived (acyclic) objects.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    log.info("worker %s started: group=%s batch=%d scorer=%s", worker.stats.member, worker.settings.group,
             worker.settings.batch_size, worker.scorer.version)
    last_write = [0.0]

    def report(stats: Stats) -> None:
        if stats_file is not None and (stats.batches == 0 or time.monotonic() - last_write[0] > 1.0):
            _write_stats(stats_file, stats)
            last_write[0] = time.monotonic()

    profile_to = os.environ.get("TIERWATCH_WORKER_PROFILE")
    profiler = _start_profiler() if profile_to else None
    try:
        stats = worker.run(exit_when_idle=exit_when_idle, on_batch=report)
    finally:
        if profiler is not None and profile_to:
            profiler.stop()
            Path(profile_to).write_text(profiler.output_text(unicode=True, show_all=False))
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    if stats_file is not None:
        _write_stats(stats_file, stats)
    log.info("worker stopped: %s", json.dumps(asdict(stats)))
    return stats


def _start_profiler() -> Any:
    # Benchmarks only (TIERWATCH_WORKER_PROFILE=FILE): where a worker's time goes, as text.
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    return profiler


def _write_stats(path: Path, stats: Stats) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(asdict(stats)))
    tmp.replace(path)  # atomic: a reader (or a SIGKILL) never sees half a file
