"""CPU seconds used by each process of a benchmark run, read from /proc (Linux).

On a machine whose cores are shared by the broker, the search engine, the database and the
worker, wall-clock rates move with whatever else runs; CPU per report is the steadier figure and
says which process to make cheaper.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields after "pid (comm) "


def process_cpu(pid: int, *, children: bool = False) -> float:
    """utime + stime of ``pid`` (+ its reaped children's, e.g. PostgreSQL's ended backends)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / _TICK


def tree_cpu(root: int) -> float:
    """CPU of a process, its reaped children and its live children (one level, like postmaster)."""
    total = process_cpu(root, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == root:
                total += process_cpu(int(entry.name))
    return total


def service_pids() -> dict[str, int]:
    from tierwatch.core.services.manager import status

    return {name: int(info["pid"]) for name, info in status().items() if info.get("pid")}


class CpuMeter:
    """Snapshot CPU seconds of named processes; ``since`` gives the difference per name."""

    def __init__(self, sources: dict[str, Callable[[], float]]):
        self.sources = sources
        self.start = self.read()

    def read(self) -> dict[str, float]:
        return {name: read() for name, read in self.sources.items()}

    def since(self) -> dict[str, float]:
        now = self.read()
        return {name: now[name] - self.start[name] for name in now}


def meter(workers: Iterable[int]) -> CpuMeter:
    """Services (PostgreSQL with its backends), the worker processes and this process."""
    pids = service_pids()
    worker_pids = list(workers)
    sources: dict[str, Callable[[], float]] = {
        name: (lambda pid=pid: tree_cpu(pid)) if name == "postgres" else (lambda pid=pid: process_cpu(pid))
        for name, pid in pids.items()
    }
    sources["worker"] = lambda: sum(process_cpu(p) for p in worker_pids)
    sources["benchmark"] = lambda: process_cpu(os.getpid())
    return CpuMeter(sources)
