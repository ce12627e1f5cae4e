"""Search index port: bulk index, get, full-text search with filters, counts and aggregations.

Two implementations share this interface and one contract test suite:
``core.search.elastic.ElasticIndex`` (Elasticsearch 8.x client) and ``core.search.fts.FtsIndex``
(SQLite FTS5, for the embedded default).

Chinese must behave the same on both: a query term matches any document whose text fields contain
it as a substring of Han characters, including two-character terms such as 诈骗 or 换脸
(Elasticsearch's standard analyzer splits Han text into single characters and we use phrase
queries; FTS5's trigram tokenizer needs a LIKE scan for terms under three characters).
Several whitespace-separated terms must all match (AND).

Documents are JSON-like dicts with a string ``id``. Date fields may be given as aware datetimes
or ISO-8601 strings with an offset; ``get`` and search hits return the document as indexed, with
dates as ISO-8601 strings in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Interval = Literal["hour", "day", "week", "month"]
FilterValue = str | int | float | bool | Sequence[str]


@dataclass(frozen=True)
class IndexSchema:
    """Field types of one index. A keyword field may hold a list of strings (multi-valued)."""

    text: tuple[str, ...] = ()
    keyword: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    number: tuple[str, ...] = ()
    boolean: tuple[str, ...] = ()

    def kind_of(self, field_name: str) -> str:
        for kind in ("text", "keyword", "date", "number", "boolean"):
            if field_name in getattr(self, kind):
                return kind
        raise KeyError(f"unknown field {field_name!r}")


@dataclass(frozen=True)
class Range:
    gte: datetime | float | None = None
    lt: datetime | float | None = None


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    # keyword/boolean field -> value, or list of values (any of them matches)
    filters: Mapping[str, FilterValue] = field(default_factory=dict)
    # date/number field -> half-open range [gte, lt)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    sort: str | None = None  # field name, "-field" for descending; None = relevance then id
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[dict[str, Any]]


class SearchIndex(Protocol):
    def ensure_index(self, name: str, schema: IndexSchema) -> None: ...

    def delete_index(self, name: str) -> None: ...

    def bulk_index(self, name: str, docs: Sequence[Mapping[str, Any]]) -> int:
        """Insert or replace documents by their ``id`` field; returns how many were written."""
        ...

    def delete(self, name: str, doc_ids: Sequence[str]) -> int:
        """Remove documents by id (absent ids are ignored); returns how many were removed."""
        ...

    def refresh(self, name: str) -> None: ...

    def get(self, name: str, doc_id: str) -> dict[str, Any] | None: ...

    def search(self, name: str, query: SearchQuery) -> SearchResult: ...

    def count(self, name: str, query: SearchQuery | None = None) -> int: ...

    def terms(
        self, name: str, field_name: str, query: SearchQuery | None = None, size: int = 10
    ) -> list[tuple[str, int]]:
        """Most frequent values of a keyword field, count descending then value ascending."""
        ...

    def date_histogram(
        self,
        name: str,
        field_name: str,
        interval: Interval,
        query: SearchQuery | None = None,
        tz: str = "UTC",
    ) -> list[tuple[datetime, int]]:
        """Buckets (start, count) in ascending order, empty buckets omitted."""
        ...

    def close(self) -> None: ...
