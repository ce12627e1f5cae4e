"""Long work started from a page (activating a rule set re-tiers every application), run in a
thread of the web process with its progress kept here for the page that shows it.

Progress lives in this process's memory: the job's outcome is in the database (rule-set
versions, the audit trail) either way, and the page falls back to that when the process that ran
it is gone. One waitress process serves the app (README "Web"), so every request sees the job.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from flask import Flask, current_app

from tierwatch.core.clock import utcnow

log = logging.getLogger(__name__)
RUNNING, DONE, FAILED = "running", "done", "failed"
KEEP = 50  # finished jobs remembered


@dataclass
class Job:
    id: str
    kind: str
    started_by: int | None
    started_at: datetime = field(default_factory=utcnow)
    status: str = RUNNING
    phase: str = ""
    done: int = 0
    total: int | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    # The Progress protocol of risk.service (what tqdm offers).
    def update(self, n: int = 1) -> None:
        self.done += n

    def reset(self, total: int | None = None) -> None:
        self.done, self.total = 0, total if total is not None else self.total

    def set_description(self, desc: str | None = None) -> None:
        self.phase = desc or ""

    @property
    def percent(self) -> int | None:
        return min(100, int(self.done * 100 / self.total)) if self.total else None


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, started_by: int | None, total: int | None,
              work: Callable[[Job], dict[str, Any]]) -> Job:
        job = Job(secrets.token_hex(12), kind, started_by, total=total)
        with self._lock:
            finished = [j for j in self._jobs.values() if j.status != RUNNING]
            for old in finished[:max(0, len(finished) - KEEP)]:
                del self._jobs[old.id]
            self._jobs[job.id] = job

        def run() -> None:
            try:
                job.result = work(job)
                job.status = DONE
            except Exception as exc:  # noqa: BLE001 - the page shows why; nothing was committed
                log.warning("job %s (%s) failed: %s", job.id, kind, exc)
                job.error, job.status = str(exc), FAILED

        threading.Thread(target=run, name=f"job-{kind}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)


def jobs() -> Jobs:
    return current_app.extensions["tierwatch_jobs"]


def init_app(app: Flask) -> None:
    app.extensions["tierwatch_jobs"] = Jobs()
