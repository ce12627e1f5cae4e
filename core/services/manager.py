"""Start, stop and inspect the real Kafka, Elasticsearch and PostgreSQL on 127.0.0.1.

    python -m core.services up|down|status [kafka|elasticsearch|postgres ...]
"""

from __future__ import annotations

import argparse
import fcntl
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Protocol

from tierwatch.core.services.elasticsearch import ElasticsearchService
from tierwatch.core.services.jvm import Echo
from tierwatch.core.services.kafka import KafkaService
from tierwatch.core.services.layout import Layout
from tierwatch.core.services.postgres import PostgresService
from tierwatch.core.services.process import ServiceError


class Service(Protocol):
    name: str
    ready_timeout: float

    def prepare(self, echo: Echo) -> None: ...
    def running_pid(self) -> int | None: ...
    def busy_ports(self) -> list[int]: ...
    def launch(self) -> None: ...
    def wait_ready(self, timeout: float) -> None: ...
    def stop(self) -> None: ...
    def endpoint(self) -> str: ...
    def status(self) -> dict[str, object]: ...


# Start order. The JVMs are spawned first and boot side by side while PostgreSQL's blocking
# start runs; `down` goes in reverse.
SERVICES: dict[str, Callable[[Layout], Service]] = {
    "kafka": KafkaService,
    "elasticsearch": ElasticsearchService,
    "postgres": PostgresService,
}


def _select(names: Sequence[str] | None, layout: Layout) -> list[Service]:
    wanted = list(names) if names else list(SERVICES)
    unknown = [n for n in wanted if n not in SERVICES]
    if unknown:
        raise ServiceError(f"unknown service {', '.join(unknown)}; choose from {', '.join(SERVICES)}")
    return [factory(layout) for name, factory in SERVICES.items() if name in wanted]


@contextmanager
def _exclusive(layout: Layout) -> Iterator[None]:
    # Two `up`s at once would both find the ports free and race to start the same service.
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    with (layout.state_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def up(names: Sequence[str] | None = None, *, echo: Echo = print) -> None:
    """Start the named services (all by default) and wait until each answers; print one line each.

    Raises ServiceError if a port is held by another program or a service fails to come up;
    services that did start are left running.
    """
    layout = Layout.from_env()
    services = _select(names, layout)
    with _exclusive(layout):
        for service in services:
            service.prepare(echo)
        running = {s.name: s.running_pid() for s in services}
        conflicts = [f"port {port} is already in use by another program; cannot start {s.name}"
                     for s in services if running[s.name] is None for port in s.busy_ports()]
        if conflicts:
            raise ServiceError("; ".join(conflicts))

        started_at: dict[str, float] = {}
        for service in services:
            if running[service.name] is None:
                started_at[service.name] = time.monotonic()
                service.launch()

        # Wait for all at once, so each start-up time is its own and not its predecessors' too.
        failures = []
        with ThreadPoolExecutor(max_workers=len(services)) as pool:
            waits = {pool.submit(_wait, service): service for service in services}
            for done in as_completed(waits):
                service = waits[done]
                try:
                    ready_at = done.result()
                except ServiceError as error:
                    failures.append(str(error))
                    continue
                where = f"{service.endpoint()}  pid {service.running_pid()}"
                if service.name in started_at:
                    echo(f"{service.name:14} started in {ready_at - started_at[service.name]:4.1f}s  {where}")
                else:
                    echo(f"{service.name:14} already running  {where}")
        if failures:
            raise ServiceError("\n".join(failures))


def _wait(service: Service) -> float:
    service.wait_ready(service.ready_timeout)
    return time.monotonic()


def down(names: Sequence[str] | None = None, *, echo: Echo = print) -> None:
    """Stop the named services (all by default) by pid; print one line each."""
    layout = Layout.from_env()
    with _exclusive(layout):
        for service in reversed(_select(names, layout)):
            pid = service.running_pid()
            if pid is None:
                echo(f"{service.name:14} not running")
                continue
            started = time.monotonic()
            service.stop()
            echo(f"{service.name:14} stopped in {time.monotonic() - started:4.1f}s  (pid {pid})")


def status(names: Sequence[str] | None = None) -> dict[str, dict[str, object]]:
    """Per service: state (running/stopped), pid, port, rss_mb, version, log."""
    layout = Layout.from_env()
    return {service.name: service.status() for service in _select(names, layout)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.services", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("names", nargs="*", metavar="service",
                        help=f"any of {', '.join(SERVICES)} (default: all)")
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            up(args.names)
        elif args.action == "down":
            down(args.names)
        else:
            for name, info in status(args.names).items():
                print(f"{name:14} " + "  ".join(f"{key}={value}" for key, value in info.items()))
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
