"""`tierwatch worker`: the one entry point of the intake worker (and the scheduled jobs)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tierwatch.cli.common import container


@click.command("worker")
@click.option("--batch-size", type=int, default=None, help="Records per batch (TIERWATCH_INTAKE_BATCH_SIZE).")
@click.option("--jobs/--no-jobs", default=True, show_default=True, help="Run the periodic jobs too.")
@click.option("--exit-when-idle", type=float, default=None, metavar="SECONDS")
@click.option("--stats-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
def worker(batch_size: int | None, jobs: bool, exit_when_idle: float | None, stats_file: Path | None) -> None:
    """Consume the intake topics: validate, link, score, store, index. Stops cleanly on SIGTERM."""
    import logging

    from tierwatch.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tierwatch.core.bus.kafka").setLevel(logging.WARNING)  # librdkafka's chatter
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # otherwise two lines per job run, every few seconds
    stats = run_worker(container(), batch_size=batch_size, jobs=jobs, exit_when_idle=exit_when_idle,
                       stats_file=stats_file)
    click.echo(json.dumps({"stored": stats.stored, "duplicates": stats.duplicates,
                           "dead_lettered": stats.dead_lettered, "indexed": stats.indexed}))
