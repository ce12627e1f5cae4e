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

Alerting asks for counts per key over time windows (``group_stats``) and runs many requests at
once (``batch``); their exact semantics are in the method docstrings below and the cases in
``tests/contract/test_search_alerting.py``.
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
    # keyword/boolean/number field -> value(s) a document must NOT carry: a document with any of
    # them (any value of a multi-valued field) is left out; one without the field is kept
    exclude: Mapping[str, FilterValue] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[dict[str, Any]]


Aggregate = Literal["sum", "avg", "min", "max", "cardinality", "values"]
# ``values`` returns at most this many distinct values per group and window (the smallest ones).
MAX_VALUES = 20
# Elasticsearch's cardinality is exact up to here (its precision threshold), an estimate above.
EXACT_CARDINALITY = 3000


@dataclass(frozen=True)
class Metric:
    """An aggregate over one group's documents in each window.

    - ``sum``/``avg``/``min``/``max`` of a number field: documents without a value are skipped;
      with no value at all ``sum`` is 0.0 and the others are None.
    - ``cardinality`` of a keyword field: how many distinct values the documents carry (every
      value of a multi-valued field counts). Exact up to EXACT_CARDINALITY distinct values;
      above that Elasticsearch estimates (HyperLogLog++), FTS5 stays exact.
    - ``values`` of a keyword field: the distinct values, ascending, at most MAX_VALUES.
    """

    op: Aggregate
    field: str

    @property
    def key(self) -> str:
        return f"{self.op}:{self.field}"


@dataclass(frozen=True)
class Window:
    """A half-open time range [gte, lt) on the request's date field, named by the caller."""

    name: str
    gte: datetime
    lt: datetime


@dataclass(frozen=True)
class GroupQuery:
    """Counts and metrics per value of a keyword field, in one or more time windows at once."""

    date_field: str
    windows: tuple[Window, ...]
    # text, filters and ranges select the documents; its sort, offset and limit are ignored
    query: SearchQuery = field(default_factory=SearchQuery)
    group_by: str | None = None  # keyword field; None = all matching documents form one group
    metrics: tuple[Metric, ...] = ()
    min_count: int = 1
    keys: tuple[str, ...] | None = None  # only these group keys (at most MAX_KEYS, one page)
    size: int = 1000
    after: str | None = None


MAX_KEYS = 10_000


@dataclass(frozen=True)
class Group:
    key: str | None
    counts: Mapping[str, int]  # window name -> documents
    metrics: Mapping[str, Mapping[str, Any]]  # window name -> Metric.key -> value


@dataclass(frozen=True)
class Tagged:
    """One document of ``SearchIndex.tagged``: the fields asked for, and which queries it matches."""

    doc: dict[str, Any]
    names: frozenset[str]


@dataclass(frozen=True)
class GroupPage:
    groups: list[Group]
    next_after: str | None  # opaque: pass as GroupQuery.after for the next page; None: last page


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
        self,
        name: str,
        field_name: str,
        query: SearchQuery | None = None,
        size: int = 10,
        min_count: int = 1,
    ) -> list[tuple[str, int]]:
        """Most frequent values of a keyword field, count descending then value ascending;
        only values carried by at least ``min_count`` matching documents."""
        ...

    def group_stats(self, name: str, request: GroupQuery) -> GroupPage:
        """For each group, the number of matching documents in each window and the metrics.

        - A document counts in every window whose range holds its ``date_field`` value (windows
          may overlap) and in one group per value of ``group_by`` (a multi-valued field puts it
          in several). Documents without a ``group_by`` or ``date_field`` value are in no group.
        - A group is returned when its count in at least one window is >= ``min_count`` (>= 1);
          with ``group_by`` None the single group (key None) follows the same rule.
        - Every qualifying group is on exactly one page, at most ``size`` per page, in ascending
          key order within the page (UTF-8 bytes, i.e. code points); the order of the pages is
          not specified. Pass ``next_after`` (an opaque cursor) as ``after`` for the next page;
          it is None on the last page. A page may hold fewer than ``size`` groups, even none,
          and not be the last.
        - ``keys``: only these keys are considered (at most MAX_KEYS, no ``after``, one page).
        - ``query.ranges`` may not name ``date_field``: the windows bound it.

        ValueError for a bad request: unknown field or wrong field kind, no windows, duplicate
        window names, a window with gte >= lt or without a time zone, size or min_count < 1.
        """
        ...

    def batch(
        self, name: str, requests: Sequence[SearchQuery | GroupQuery]
    ) -> list[SearchResult | GroupPage | Exception]:
        """Run searches and group queries together (one ``_msearch`` round trip on
        Elasticsearch). Results come in request order; a request that fails gives its exception
        in its slot (ValueError for a bad request, SearchFailed for an engine error) and the
        others are still answered. IndexNotFound is raised for the whole batch."""
        ...

    def tagged(
        self, name: str, date_field: str, window: Window, queries: Mapping[str, SearchQuery],
        fields: Sequence[str],
    ) -> list[Tagged]:
        """Every document whose ``date_field`` lies in ``window`` and that matches at least one of
        the named queries (text, filters, ranges, exclude as in ``search``; sort, offset and limit
        are ignored), in ascending (``date_field``, id) order, each with ``id``, ``date_field`` and
        the asked ``fields`` it carries (as indexed), and the names of all the queries it matches.
        One pass over the documents for many queries: alerting reads the newest minutes once for
        all its rules. ValueError for a bad query or an unknown field."""
        ...

    def set_fields(self, name: str, doc_ids: Sequence[str], values: Mapping[str, Any]) -> int:
        """Set the same field values in several documents (absent ids are ignored), e.g. a
        re-tiered application's ``tier`` in its reports; returns how many were updated. Fields
        must be in the schema; None is refused (re-index the document to drop a field)."""
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
