"""Shared fixtures. Service fixtures fail (not skip) when TIERWATCH_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The code is imported only as the installed `tierwatch` package: `python -m pytest` puts the
# working directory first on sys.path, where `core`, `registry`, ... would import a second time
# under bare names (a second Base.metadata, a second set of mappers).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO]
REQUIRE_SERVICES = os.environ.get("TIERWATCH_REQUIRE_SERVICES") == "1"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} (TIERWATCH_REQUIRE_SERVICES=1, so this is a failure, not a skip)")
    pytest.skip(what)


def _port_open(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    servers = os.environ.get("TIERWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    if not _port_open(servers.split(",")[0]):
        _unavailable(f"Kafka not reachable at {servers}; start it with `tierwatch services up`")
    return servers


@pytest.fixture(scope="session")
def elasticsearch_url() -> str:
    url = os.environ.get("TIERWATCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    host_port = url.split("://", 1)[1].rstrip("/")
    if not _port_open(host_port):
        _unavailable(f"Elasticsearch not reachable at {url}; start it with `tierwatch services up`")
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get(
        "TIERWATCH_TEST_POSTGRES_URL",
        "postgresql+psycopg://tierwatch:tierwatch@127.0.0.1:5432/tierwatch_test",
    )
    if not _port_open("127.0.0.1:5432"):
        _unavailable(f"PostgreSQL not reachable for {url}; start it with `tierwatch services up`")
    return url


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data: real datasets. Absent outside CI -> skip; absent in CI -> fail."""
    path = Path(os.environ.get("TIERWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        if IN_CI or REQUIRE_SERVICES:
            pytest.fail(f"shared datasets missing at {path}")
        pytest.skip(f"shared datasets not present at {path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def migrated_sqlite(sqlite_url: str) -> Iterator[str]:
    from tierwatch.core.migrate import upgrade

    upgrade(sqlite_url)
    yield sqlite_url


SERVICE_MARKERS = ("kafka", "elasticsearch", "postgres")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """Print how many tests ran against each real service, so a skipped service shows."""
    counts = {m: {"passed": 0, "failed": 0, "skipped": 0} for m in SERVICE_MARKERS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            keywords = getattr(report, "keywords", {})
            if getattr(report, "when", "call") != "call" and outcome == "passed":
                continue
            for marker in SERVICE_MARKERS:
                if marker in keywords:
                    counts[marker]["failed" if outcome == "error" else outcome] += 1
    terminalreporter.section("tests per real service")
    for marker, c in counts.items():
        terminalreporter.write_line(
            f"{marker:14} passed={c['passed']} failed={c['failed']} skipped={c['skipped']}"
        )
