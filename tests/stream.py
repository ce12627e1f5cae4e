"""A stream of reports through real worker processes: a producer that retries, and the three counts.

Used by the fault suite (tests/faults/) and the pipeline integration tests.

Workers are real `tierwatch worker` processes configured by environment variables, as deployed.
The producer publishes synthetic reports in chunks and, when the broker does not acknowledge a
chunk, sends the same chunk again (same report ids) until it does: what a partner feed or the
API's client does. "published" counts report ids acknowledged; "stored" the rows, "indexed" the
documents; at the end all three must be equal and every row distinct.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwatch.core.bus import EventBus
from tierwatch.core.db import make_engine
from tierwatch.core.search import SearchIndex
from tierwatch.core.search.common import IndexNotFound
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tierwatch.monitoring.loadgen import synthetic_reports
from tierwatch.monitoring.models import Report

REPO = Path(__file__).resolve().parents[2]
SCAM = "reports.scam"


class Stream:
    def __init__(self, tmp: Path, env: dict[str, str], bus: EventBus, search: SearchIndex, database_url: str,
                 tag: str | None = None):
        self.tag = tag or "f" + secrets.token_hex(4)  # report ids start with it
        self.tmp, self.bus, self.search = tmp, bus, search
        self.env = {
            **os.environ,
            "TIERWATCH_DATABASE_URL": database_url,
            "TIERWATCH_DATA_DIR": str(tmp),
            "TIERWATCH_INTAKE_BATCH_SIZE": "500",
            "TIERWATCH_INTAKE_MAX_BACKOFF": "1",
            **env,
        }
        self.engine = make_engine(database_url)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.acknowledged: set[str] = set()
        self.resends = 0  # chunks sent again after the broker did not acknowledge them

    # --- workers ---------------------------------------------------------------------------

    def start_worker(self) -> subprocess.Popen[bytes]:
        n = len(self.workers)
        log = self.tmp / f"worker-{n}.log"
        self.logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tierwatch.cli", "worker", "--no-jobs", "--stats-file", str(self.stats_file(n))],
            cwd=self.tmp, env=self.env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)
        return proc

    def stats_file(self, n: int) -> Path:
        return self.tmp / f"stats-{n}.json"

    def wait_ready(self, *procs: subprocess.Popen[bytes], timeout: float = 90) -> None:
        """Until each worker wrote its first stats file (subscribed; topics and index exist)."""
        wanted = [self.stats_file(self.workers.index(p)) for p in procs]
        self.wait_for("workers ready", lambda: all(f.exists() for f in wanted), timeout)

    def redelivered(self) -> int:
        """Reports the workers found already stored (a redelivery or a resend), as last written."""
        total = 0
        for n in range(len(self.workers)):
            try:
                total += json.loads(self.stats_file(n).read_text())["duplicates"]
            except (OSError, ValueError):
                pass
        return total

    def signal_all(self, sig: int) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(sig)

    def stop_workers(self) -> None:
        self.signal_all(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()

    # --- the producer ----------------------------------------------------------------------

    def reports(self, n: int, seed: int) -> list[tuple[str, bytes]]:
        return [(r["report_id"], json.dumps(r, ensure_ascii=False).encode())
                for r in synthetic_reports(n, seed=seed, prefix=self.tag)]

    def publish(self, items: list[tuple[str, bytes]], rate: float | None = None, chunk: int = 100) -> None:
        self.bus.ensure_topics([SCAM])
        started = time.monotonic()
        for i in range(0, len(items), chunk):
            part = items[i : i + chunk]
            while True:
                try:
                    self.bus.publish_many(SCAM, part)
                    break
                except Exception:  # noqa: BLE001 - not acknowledged: the same ids again
                    self.resends += 1
                    time.sleep(0.5)
            self.acknowledged.update(key for key, _ in part)
            if rate:
                time.sleep(max(0.0, started + (i + chunk) / rate - time.monotonic()))

    def publish_in_background(self, items: list[tuple[str, bytes]], rate: float | None = None) -> threading.Thread:
        thread = threading.Thread(target=self.publish, args=(items, rate), daemon=True)
        thread.start()
        return thread

    # --- counts ----------------------------------------------------------------------------

    def stored(self) -> tuple[int, int] | None:
        """(rows, distinct report ids) of this stream; None while the database is away."""
        try:
            with self.engine.connect() as conn:
                rows, distinct = conn.execute(
                    sa.select(sa.func.count(), sa.func.count(sa.distinct(Report.report_id)))
                    .where(Report.report_id.like(f"{self.tag}-%"))
                ).one()
                return int(rows), int(distinct)
        except sa.exc.OperationalError:
            return None

    def stored_ids(self, ids: list[str]) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(Report.report_id).where(Report.report_id.in_(ids))).scalars())

    def indexed(self) -> int:
        """Documents in this stream's index; 0 until it exists or while its server is away (other
        test runs may restart the shared Elasticsearch: the workers wait that out, so do we)."""
        try:
            self.search.refresh(REPORTS_INDEX)
            return self.search.count(REPORTS_INDEX)
        except IndexNotFound:
            return 0
        except Exception:  # noqa: BLE001 - the figures at the end are asserted exactly
            return 0

    def wait_for(self, what: str, done: Callable[[], bool], timeout: float) -> float:
        """Poll ``done`` until true; fail on a worker that exited by itself. Returns when."""
        deadline = time.monotonic() + timeout
        while not done():
            for proc, log in zip(self.workers, self.logs):
                if proc.poll() not in (None, 0, -signal.SIGKILL, -signal.SIGTERM):
                    pytest.fail(f"worker exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; stored={self.stored()} indexed={self.indexed()}")
            time.sleep(0.25)
        return time.monotonic()

    def wait_stored(self, n: int, timeout: float = 120) -> float:
        return self.wait_for(f"{n} stored", lambda: (self.stored() or (0, 0))[1] >= n, timeout)

    def wait_complete(self, n: int, timeout: float = 240) -> float:
        return self.wait_for(f"{n} stored and indexed",
                             lambda: (self.stored() or (0, 0))[1] >= n and self.indexed() >= n, timeout)

    def figures(self, n: int, drained_at: float, fault_over_at: float, **extra: object) -> dict[str, object]:
        """The counts every scenario asserts and prints."""
        time.sleep(2)  # anything still in flight would show up as an extra row or document now
        rows, distinct = self.stored() or (-1, -1)
        return {"published": len(self.acknowledged), "stored": distinct, "indexed": self.indexed(),
                "duplicate_rows": rows - distinct, "redelivered_or_resent": self.redelivered(),
                "resent_chunks": self.resends, "drain_s": round(drained_at - fault_over_at, 1),
                "reports": n, **extra}

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.bus.close()
        try:
            self.search.delete_index(REPORTS_INDEX)
        except Exception:  # noqa: BLE001 - best effort: a scenario may have broken the index's server
            pass
        self.search.close()
        self.engine.dispose()


def assert_exactly_once(figures: dict[str, object], n: int) -> None:
    assert figures["published"] == n, figures
    assert figures["stored"] == n, figures
    assert figures["indexed"] == n, figures
    assert figures["duplicate_rows"] == 0, figures
