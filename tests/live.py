"""The app on the real services, for tests that need them: a throw-away PostgreSQL database,
Kafka topics and Elasticsearch indices under a prefix of their own, a data directory of its own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tierwatch.bootstrap import Container, build
from tierwatch.core.settings import load_settings
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tests.pg import fresh_database


@contextmanager
def live_container(postgres_url: str, kafka_bootstrap: str, elasticsearch_url: str | None, data_dir: Path,
                   name: str) -> Iterator[Container]:
    """Elasticsearch when its URL is given, else the embedded search index in ``data_dir``."""
    with fresh_database(postgres_url, f"tw_{name}") as database_url:
        tag = secrets.token_hex(4)
        container = build(load_settings(
            data_dir=data_dir, database_url=database_url, bus="kafka",
            search="elasticsearch" if elasticsearch_url else "fts", kafka_bootstrap=kafka_bootstrap,
            elasticsearch_url=elasticsearch_url or "http://127.0.0.1:9200",
            kafka_topic_prefix=f"t{tag}.", index_prefix=f"t{tag}-", kafka_partitions=1,
        ))
        try:
            yield container
        finally:
            container.search.delete_index(REPORTS_INDEX)  # absent is fine
            container.close()
