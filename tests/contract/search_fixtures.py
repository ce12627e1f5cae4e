"""Search-index fixtures: the same `search_index` on SQLite FTS5 and on Elasticsearch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwatch.core.search import SearchIndex


@pytest.fixture(params=["fts", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def search_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    if request.param == "fts":
        from tierwatch.core.search.fts import FtsIndex

        fts = FtsIndex(tmp_path / "search.db")
        yield fts
        fts.close()
        return
    from tierwatch.core.search.elastic import ElasticIndex

    # A prefix per test: the node is shared with other tests and other engineers.
    prefix = f"tw-test-{uuid.uuid4().hex[:10]}-"
    es = ElasticIndex(request.getfixturevalue("elasticsearch_url"), prefix=prefix)
    yield es
    try:
        # Deleting by wildcard is refused by default (action.destructive_requires_name).
        ours = list(es.client.indices.get(index=prefix + "*", expand_wildcards="all"))
        if ours:
            es.client.indices.delete(index=",".join(ours))
    finally:
        es.close()
