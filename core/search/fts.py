"""SearchIndex on SQLite FTS5: the embedded default, one SQLite file holding every index.

Per index three tables: ``<name>:docs`` (id, JSON document, one real column per date/number/
boolean field; dates as integer microseconds since the epoch), ``<name>:kw`` (one row per keyword
value, so multi-valued fields filter and aggregate per value) and ``<name>:fts`` (FTS5 over the
text fields, trigram tokenizer, sharing rowids with ``:docs``). Schemas live in ``search_indices``.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tierwatch.core.search import (
    MAX_VALUES,
    Group,
    GroupPage,
    GroupQuery,
    IndexSchema,
    Interval,
    Range,
    SearchQuery,
    SearchResult,
    Tagged,
    Window,
)
from tierwatch.core.search.common import (
    IndexNotFound,
    SchemaMismatch,
    SearchFailed,
    check_group_query,
    check_schema,
    check_set_fields,
    check_tagged,
    filter_values,
    normalise_doc,
    parse_sort,
    physical_name,
    range_bound,
    require_kind,
    schema_from_json,
    schema_to_json,
    span,
    split_terms,
    to_utc,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Every time zone offset in use is a multiple of 15 minutes, so counting per 15-minute UTC slot in
# SQL and folding the slots into local buckets in Python is exact and keeps the row count small.
_SLOT_US = 15 * 60 * 1_000_000


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _bucket_start(moment: datetime, interval: Interval, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    # Rebuild from the wall-clock date so the offset is the one in force at that midnight.
    return datetime(day.year, day.month, day.day, tzinfo=zone)


class _Tables:
    def __init__(self, full_name: str, schema: IndexSchema):
        self.schema = schema
        self.docs = _q(full_name + ":docs")
        self.kw = _q(full_name + ":kw")
        self.fts = _q(full_name + ":fts")

    @staticmethod
    def col(field_name: str) -> str:
        # Prefixed so a field cannot collide with our own columns or FTS5's hidden ones (rank).
        return _q("f_" + field_name)


class FtsIndex:
    def __init__(self, path: str | Path, prefix: str = "tierwatch-"):
        self.path = str(path)
        self.prefix = prefix
        # A small pool: each thread borrows a connection, so web readers run in parallel under WAL
        # and no connection is shared between threads at the same time.
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._tables: dict[str, _Tables] = {}
        with self._conn() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS search_indices (name TEXT PRIMARY KEY, schema TEXT NOT NULL)"
            )

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with self._lock:
                self._all.append(conn)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            self._idle.put(conn)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")

    def _get_tables(self, name: str) -> _Tables:
        full = physical_name(self.prefix, name)
        tables = self._tables.get(full)
        if tables is None:
            with self._conn() as conn:
                row = conn.execute(
                    "SELECT schema FROM search_indices WHERE name = ?", (full,)
                ).fetchone()
            if row is None:
                raise IndexNotFound(f"search index {full!r} does not exist; call ensure_index first")
            tables = self._tables[full] = _Tables(full, schema_from_json(row[0]))
        return tables

    def ensure_index(self, name: str, schema: IndexSchema) -> None:
        full = physical_name(self.prefix, name)
        check_schema(schema)
        with self._write() as conn:
            row = conn.execute("SELECT schema FROM search_indices WHERE name = ?", (full,)).fetchone()
            if row is not None:
                if schema_from_json(row[0]) != schema:
                    raise SchemaMismatch(
                        f"search index {full!r} exists with another schema; delete and re-index it"
                    )
                return
            t = _Tables(full, schema)
            typed = [(f, "INTEGER") for f in schema.date + schema.boolean]
            typed += [(f, "REAL") for f in schema.number]
            cols = "".join(f", {t.col(f)} {sql_type}" for f, sql_type in typed)
            conn.execute(f"CREATE TABLE {t.docs} (id TEXT PRIMARY KEY, doc TEXT NOT NULL{cols})")
            for f, _ in typed:
                conn.execute(f"CREATE INDEX {_q(full + ':docs:' + f)} ON {t.docs} ({t.col(f)})")
            conn.execute(
                f"CREATE TABLE {t.kw} (field TEXT NOT NULL, value TEXT NOT NULL, doc_id TEXT NOT NULL,"
                " PRIMARY KEY (field, value, doc_id)) WITHOUT ROWID"
            )
            conn.execute(f"CREATE INDEX {_q(full + ':kw:doc')} ON {t.kw} (doc_id)")
            text_cols = ", ".join(t.col(f) for f in schema.text) or "f_"
            conn.execute(f"CREATE VIRTUAL TABLE {t.fts} USING fts5({text_cols}, tokenize='trigram')")
            conn.execute("INSERT INTO search_indices VALUES (?, ?)", (full, schema_to_json(schema)))
        self._tables[full] = t

    def delete_index(self, name: str) -> None:
        full = physical_name(self.prefix, name)
        t = _Tables(full, IndexSchema())
        with self._write() as conn:
            for table in (t.fts, t.kw, t.docs):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute("DELETE FROM search_indices WHERE name = ?", (full,))
        self._tables.pop(full, None)

    def bulk_index(self, name: str, docs: Sequence[Mapping[str, Any]]) -> int:
        t = self._get_tables(name)
        rows = [normalise_doc(t.schema, doc) for doc in docs]
        with self._write() as conn:
            self._upsert(conn, t, rows)
        return len(rows)

    def _upsert(self, conn: sqlite3.Connection, t: _Tables, rows: list[dict[str, Any]]) -> None:
        s = t.schema
        typed = s.date + s.number + s.boolean
        cols = ", ".join(["id", "doc", *(t.col(f) for f in typed)])
        marks = ", ".join("?" * (2 + len(typed)))
        updates = ", ".join(f"{c} = excluded.{c}" for c in ["doc", *(t.col(f) for f in typed)])
        upsert = (
            f"INSERT INTO {t.docs} ({cols}) VALUES ({marks})"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
            f" ON CONFLICT(id) DO UPDATE SET {updates} RETURNING rowid"
        )
        fts_cols = ", ".join(["rowid", *(t.col(f) for f in s.text)])
        fts_insert = f"INSERT INTO {t.fts} ({fts_cols}) VALUES ({', '.join('?' * (1 + len(s.text)))})"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
        # The last copy of a repeated id wins, as in an Elasticsearch bulk request.
        latest = list({doc["id"]: doc for doc in rows}.values())
        # FTS5 flushes its pending index data whenever another table's statement runs in the
        # same transaction, so the FTS writes come last, all together (about 5x faster).
        rowids = [conn.execute(upsert, self._typed_values(s, doc)).fetchone()[0] for doc in latest]
        conn.executemany(f"DELETE FROM {t.kw} WHERE doc_id = ?", [(d["id"],) for d in latest])  # nosec B608 # table names from _Tables (quoted identifiers), values bound
        conn.executemany(
            f"INSERT OR IGNORE INTO {t.kw} (field, value, doc_id) VALUES (?, ?, ?)",
            [
                (f, v, doc["id"])
                for doc in latest
                for f in s.keyword
                for v in (doc[f] if isinstance(doc.get(f), list) else [doc.get(f)])
                if v is not None
            ],
        )
        conn.executemany(f"DELETE FROM {t.fts} WHERE rowid = ?", [(r,) for r in rowids])  # nosec B608 # table names from _Tables (quoted identifiers), values bound
        # List items are joined by a newline; terms never contain whitespace, so no term can
        # match across two items.
        conn.executemany(
            fts_insert,
            [
                [rowid, *("\n".join(v) if isinstance(v, list) else v for v in map(doc.get, s.text))]
                for rowid, doc in zip(rowids, latest)
            ],
        )

    @staticmethod
    def _typed_values(s: IndexSchema, doc: dict[str, Any]) -> list[Any]:
        values = [doc["id"], json.dumps(doc, ensure_ascii=False)]
        for f in s.date:
            values.append(_micros(to_utc(doc[f])) if doc.get(f) is not None else None)
        return values + [doc.get(f) for f in s.number + s.boolean]

    def delete(self, name: str, doc_ids: Sequence[str]) -> int:
        t = self._get_tables(name)
        removed = 0
        with self._write() as conn:
            for doc_id in dict.fromkeys(doc_ids):
                row = conn.execute(f"DELETE FROM {t.docs} WHERE id = ? RETURNING rowid", (doc_id,)).fetchone()  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                if row is None:
                    continue
                removed += 1
                conn.execute(f"DELETE FROM {t.kw} WHERE doc_id = ?", (doc_id,))  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                conn.execute(f"DELETE FROM {t.fts} WHERE rowid = ?", (row[0],))  # nosec B608 # table names from _Tables (quoted identifiers), values bound
        return removed

    def refresh(self, name: str) -> None:
        self._get_tables(name)  # writes are visible once committed; only check the index exists

    def get(self, name: str, doc_id: str) -> dict[str, Any] | None:
        t = self._get_tables(name)
        with self._conn() as conn:
            row = conn.execute(f"SELECT doc FROM {t.docs} WHERE id = ?", (doc_id,)).fetchone()  # nosec B608 # table names from _Tables (quoted identifiers), values bound
        return json.loads(row[0]) if row else None

    def _from(self, t: _Tables, query: SearchQuery | None) -> tuple[str, list[Any], bool]:
        """FROM ... WHERE ... selecting the matching documents (alias d, scores in m.score when
        ``scored``); callers may append more conditions with AND."""
        query = query or SearchQuery()
        s = t.schema
        sql, scored = f" FROM {t.docs} AS d", False
        params: list[Any] = []
        terms = split_terms(query.text)
        if terms:
            long_terms = [term for term in terms if len(term) >= 3]
            # The trigram tokenizer indexes 3-character sequences, so MATCH cannot find a term
            # of one or two characters (诈骗, 换脸, AI); those fall back to a LIKE scan.
            short_terms = [term for term in terms if len(term) < 3]
            where: list[str] = []
            fts_params: list[Any] = []
            if long_terms:
                where.append(f"{t.fts} MATCH ?")
                fts_params.append(" AND ".join('"' + x.replace('"', '""') + '"' for x in long_terms))
            for term in short_terms:
                likes = [f"{t.col(f)} LIKE ? ESCAPE '\\'" for f in s.text] or ["0"]
                where.append("(" + " OR ".join(likes) + ")")
                fts_params += [_like_pattern(term)] * len(s.text)
            score = f"bm25({t.fts})" if long_terms else "0"
            sql += (
                f" JOIN (SELECT rowid, {score} AS score FROM {t.fts} WHERE {' AND '.join(where)})"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                " AS m ON m.rowid = d.rowid"
            )
            params += fts_params
            scored = bool(long_terms)
        conds: list[str] = []
        for field_name, value in query.filters.items():
            values = filter_values(s, field_name, value)
            marks = ", ".join("?" * len(values))
            if not values:
                conds.append("0")
            elif s.kind_of(field_name) == "keyword":
                conds.append(
                    f"d.id IN (SELECT doc_id FROM {t.kw} WHERE field = ? AND value IN ({marks}))"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                )
                params += [field_name, *values]
            else:
                conds.append(f"d.{t.col(field_name)} IN ({marks})")
                params += values
        for field_name, value in query.exclude.items():
            values = filter_values(s, field_name, value)
            if not values:
                continue
            marks = ", ".join("?" * len(values))
            if s.kind_of(field_name) == "keyword":
                conds.append(
                    f"d.id NOT IN (SELECT doc_id FROM {t.kw} WHERE field = ? AND value IN ({marks}))"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                )
                params += [field_name, *values]
            else:  # a document without the field is kept, as Elasticsearch's must_not does
                col = f"d.{t.col(field_name)}"
                conds.append(f"({col} IS NULL OR {col} NOT IN ({marks}))")
                params += values
        for field_name, bounds in query.ranges.items():
            for op, bound in ((">=", bounds.gte), ("<", bounds.lt)):
                if bound is not None:
                    value = range_bound(s, field_name, bound)
                    conds.append(f"d.{t.col(field_name)} {op} ?")
                    params.append(_micros(value) if isinstance(value, datetime) else value)
        sql += " WHERE " + " AND ".join(conds or ["1"])
        return sql, params, scored

    def _order(self, t: _Tables, query: SearchQuery, scored: bool) -> tuple[str, list[Any]]:
        if query.sort is None:
            return (" ORDER BY m.score, d.id" if scored else " ORDER BY d.id"), []
        field_name, desc = parse_sort(t.schema, query.sort)
        direction = "DESC" if desc else "ASC"
        if field_name == "id":
            return f" ORDER BY d.id {direction}", []
        params: list[Any] = []
        if t.schema.kind_of(field_name) == "keyword":
            # Like Elasticsearch: a multi-valued field sorts by its smallest value ascending,
            # by its largest descending.
            agg = "MAX" if desc else "MIN"
            key = f"(SELECT {agg}(value) FROM {t.kw} WHERE doc_id = d.id AND field = ?)"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
            params = [field_name, field_name]
        else:
            key = f"d.{t.col(field_name)}"
        # Missing values last in both directions, as Elasticsearch does.
        return f" ORDER BY {key} IS NULL, {key} {direction}, d.id", params

    def search(self, name: str, query: SearchQuery) -> SearchResult:
        t = self._get_tables(name)
        where, params, scored = self._from(t, query)
        order, order_params = self._order(t, query, scored)
        with self._conn() as conn:
            total = conn.execute("SELECT COUNT(*)" + where, params).fetchone()[0]
            rows = conn.execute(
                "SELECT d.doc" + where + order + " LIMIT ? OFFSET ?",
                [*params, *order_params, query.limit, query.offset],
            ).fetchall()
        return SearchResult(total=total, hits=[json.loads(row[0]) for row in rows])

    def count(self, name: str, query: SearchQuery | None = None) -> int:
        t = self._get_tables(name)
        where, params, _ = self._from(t, query)
        with self._conn() as conn:
            return conn.execute("SELECT COUNT(*)" + where, params).fetchone()[0]

    def terms(
        self,
        name: str,
        field_name: str,
        query: SearchQuery | None = None,
        size: int = 10,
        min_count: int = 1,
    ) -> list[tuple[str, int]]:
        t = self._get_tables(name)
        require_kind(t.schema, field_name, "keyword", "terms aggregation")
        if min_count < 1:
            raise ValueError("min_count must be at least 1")
        where, params, _ = self._from(t, query)
        sql = (
            f"SELECT value, COUNT(*) AS n FROM {t.kw} WHERE field = ?"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
            f" AND doc_id IN (SELECT d.id{where}) GROUP BY value HAVING n >= ?"
            " ORDER BY n DESC, value LIMIT ?"
        )
        with self._conn() as conn:
            return [(v, n) for v, n in conn.execute(sql, [field_name, *params, min_count, size])]

    def date_histogram(
        self,
        name: str,
        field_name: str,
        interval: Interval,
        query: SearchQuery | None = None,
        tz: str = "UTC",
    ) -> list[tuple[datetime, int]]:
        t = self._get_tables(name)
        require_kind(t.schema, field_name, "date", "date histogram")
        if interval not in ("hour", "day", "week", "month"):
            raise ValueError(f"unknown interval {interval!r}")
        zone = ZoneInfo(tz)
        where, params, _ = self._from(t, query)
        col = f"d.{t.col(field_name)}"
        slot = f"CASE WHEN {col} >= 0 THEN {col} / {_SLOT_US} ELSE ({col} + 1) / {_SLOT_US} - 1 END"
        sql = f"SELECT {slot} AS slot, COUNT(*){where} AND {col} IS NOT NULL GROUP BY slot"
        buckets: dict[float, tuple[datetime, int]] = {}
        with self._conn() as conn:
            for slot_no, n in conn.execute(sql, params):
                start = _bucket_start(
                    _EPOCH + timedelta(microseconds=slot_no * _SLOT_US), interval, zone
                )
                # Keyed by the instant: two local hours with the same wall time (DST fold) differ.
                key = start.timestamp()
                buckets[key] = (start, buckets.get(key, (start, 0))[1] + n)
        return [buckets[key] for key in sorted(buckets)]

    # --- alerting: counts per key in several windows, many requests at once ----------------

    def group_stats(self, name: str, request: GroupQuery) -> GroupPage:
        t = self._get_tables(name)
        windows = check_group_query(t.schema, request)
        with self._conn() as conn:
            return _GroupStats(t, request, windows, self._from).run(conn)

    def batch(
        self, name: str, requests: Sequence[SearchQuery | GroupQuery]
    ) -> list[SearchResult | GroupPage | Exception]:
        self._get_tables(name)  # IndexNotFound for the whole batch
        results: list[SearchResult | GroupPage | Exception] = []
        for request in requests:
            try:
                if isinstance(request, GroupQuery):
                    results.append(self.group_stats(name, request))
                else:
                    results.append(self.search(name, request))
            except (ValueError, KeyError) as exc:  # an unknown field is a bad request like any other
                results.append(exc if isinstance(exc, ValueError) else ValueError(exc.args[0]))
            except sqlite3.Error as exc:
                results.append(SearchFailed(f"sqlite: {exc}"))
        return results

    def tagged(
        self, name: str, date_field: str, window: Window, queries: Mapping[str, SearchQuery],
        fields: Sequence[str],
    ) -> list[Tagged]:
        t = self._get_tables(name)
        gte, lt = check_tagged(t.schema, date_field, window, queries, fields)
        names: dict[str, set[str]] = {}
        rows: list[tuple[Any, ...]] = []
        with self._conn() as conn:
            for query_name, query in queries.items():
                bounded = replace(query, ranges={**query.ranges, date_field: Range(gte, lt)})
                where, params, _ = self._from(t, bounded)
                for (doc_id,) in conn.execute("SELECT d.id" + where, params):
                    names.setdefault(doc_id, set()).add(query_name)
            ids = list(names)
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows += conn.execute(
                    f"SELECT d.{t.col(date_field)}, d.id, d.doc FROM {t.docs} AS d"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                    f" WHERE d.id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
        rows.sort(key=lambda row: (row[0], row[1]))
        keep = list(dict.fromkeys(["id", date_field, *fields]))
        out = []
        for _, doc_id, raw in rows:
            doc = json.loads(raw)
            out.append(Tagged({f: doc[f] for f in keep if f in doc}, frozenset(names[doc_id])))
        return out

    def set_fields(self, name: str, doc_ids: Sequence[str], values: Mapping[str, Any]) -> int:
        t = self._get_tables(name)
        partial = check_set_fields(t.schema, values)
        unique = list(dict.fromkeys(doc_ids))
        updated = 0
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            with self._write() as conn:  # read and rewrite in one transaction: no lost update
                marks = ", ".join("?" * len(chunk))
                rows = conn.execute(f"SELECT doc FROM {t.docs} WHERE id IN ({marks})", chunk).fetchall()  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                docs = [{**json.loads(row[0]), **partial} for row in rows]
                if docs:
                    self._upsert(conn, t, docs)
            updated += len(docs)
        return updated

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._idle = queue.SimpleQueue()


_NUMBER_OPS = ("sum", "avg", "min", "max")


class _GroupStats:
    """One group_stats request as SQL: counts and number metrics in one grouped query over the
    matching documents of the windows' span, keyword metrics in one more query per field,
    restricted to the page's keys."""

    def __init__(self, t: _Tables, request: GroupQuery, windows: list[Window], from_: Any):
        self.t, self.request, self.windows = t, request, windows
        self.numbers = sorted({m.field for m in request.metrics if m.op in _NUMBER_OPS})
        where, params, _ = from_(t, request.query)
        date_col = f"d.{t.col(request.date_field)}"
        lo, hi = span(windows)
        cols = ["d.id AS id", f"{date_col} AS t", *(f"d.{t.col(f)} AS {t.col(f)}" for f in self.numbers)]
        self.docs_sql = f"(SELECT {', '.join(cols)}{where} AND {date_col} >= ? AND {date_col} < ?)"
        self.docs_params = [*params, _micros(lo), _micros(hi)]

    def _in(self, i: int) -> tuple[str, list[int]]:
        w = self.windows[i]
        return "g.t >= ? AND g.t < ?", [_micros(w.gte), _micros(w.lt)]

    def run(self, conn: sqlite3.Connection) -> GroupPage:
        req, t = self.request, self.t
        select, params = [], []
        for i in range(len(self.windows)):
            cond, p = self._in(i)
            select.append(f"COUNT(CASE WHEN {cond} THEN 1 END) AS c{i}")
            params += p
            for f in self.numbers:
                col = f"g.{t.col(f)}"
                for agg in ("TOTAL", "COUNT", "MIN", "MAX"):
                    select.append(f"{agg}(CASE WHEN {cond} THEN {col} END)")
                    params += p
        having = " OR ".join(f"c{i} >= ?" for i in range(len(self.windows)))
        if req.group_by is None:
            sql = f"SELECT NULL, {', '.join(select)} FROM {self.docs_sql} AS g"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
            rows = conn.execute(sql, [*params, *self.docs_params]).fetchall()
            rows = [r for r in rows if any(r[1 + self._stride() * i] >= req.min_count
                                           for i in range(len(self.windows)))]
            next_after = None
        else:
            conds, extra = "", []
            if req.keys is not None:
                conds = f" AND k.value IN ({', '.join('?' * len(req.keys))})"
                extra = list(req.keys)
            elif req.after is not None:
                conds, extra = " AND k.value > ?", [req.after]
            limit = len(req.keys) if req.keys is not None else req.size
            sql = (
                f"SELECT k.value, {', '.join(select)} FROM {self.docs_sql} AS g"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                f" JOIN {t.kw} AS k ON k.doc_id = g.id AND k.field = ?{conds}"
                f" GROUP BY k.value HAVING {having} ORDER BY k.value LIMIT ?"
            )
            rows = conn.execute(
                sql,
                [*params, *self.docs_params, req.group_by, *extra,
                 *([req.min_count] * len(self.windows)), max(limit, 1)],
            ).fetchall()
            full_page = req.keys is None and len(rows) == req.size
            next_after = rows[-1][0] if full_page else None
        keyword = self._keyword_metrics(conn, [r[0] for r in rows])
        return GroupPage([self._group(row, keyword.get(row[0], {})) for row in rows], next_after)

    def _stride(self) -> int:
        return 1 + 4 * len(self.numbers)

    def _group(self, row: tuple[Any, ...], keyword: dict[str, dict[str, Any]]) -> Group:
        counts: dict[str, int] = {}
        metrics: dict[str, dict[str, Any]] = {}
        for i, window in enumerate(self.windows):
            base = 1 + self._stride() * i
            counts[window.name] = int(row[base])
            numbers = {
                f: dict(zip(("total", "count", "min", "max"), row[base + 1 + 4 * j : base + 5 + 4 * j]))
                for j, f in enumerate(self.numbers)
            }
            values: dict[str, Any] = {}
            for m in self.request.metrics:
                if m.op in _NUMBER_OPS:
                    n = numbers[m.field]
                    if m.op == "sum":
                        values[m.key] = float(n["total"])
                    elif m.op == "avg":
                        values[m.key] = n["total"] / n["count"] if n["count"] else None
                    else:
                        values[m.key] = None if n[m.op] is None else float(n[m.op])
                else:
                    values[m.key] = keyword.get(window.name, {}).get(m.key, 0 if m.op == "cardinality" else [])
            metrics[window.name] = values
        return Group(row[0], counts, metrics)

    def _keyword_metrics(self, conn: sqlite3.Connection, keys: list[Any]) -> dict[Any, dict[str, dict[str, Any]]]:
        """key -> window name -> metric key -> value, for cardinality and values metrics."""
        wanted = [m for m in self.request.metrics if m.op not in _NUMBER_OPS]
        out: dict[Any, dict[str, dict[str, Any]]] = {}
        if not wanted or not keys:
            return out
        t, req = self.t, self.request
        for m in wanted:
            select, params = [], []
            for i in range(len(self.windows)):
                cond, p = self._in(i)
                agg = "COUNT" if m.op == "cardinality" else "json_group_array"
                select.append(f"{agg}(DISTINCT CASE WHEN {cond} THEN v.value END)")
                params += p
            if req.group_by is None:
                key_sql, key_join, key_params = "NULL", "", []
            else:
                key_sql = "k.value"
                key_join = (f" JOIN {t.kw} AS k ON k.doc_id = g.id AND k.field = ?"
                            f" AND k.value IN ({', '.join('?' * len(keys))})")
                key_params = [req.group_by, *keys]
            sql = (
                f"SELECT {key_sql}, {', '.join(select)} FROM {self.docs_sql} AS g{key_join}"  # nosec B608 # table names from _Tables (quoted identifiers), values bound
                f" JOIN {t.kw} AS v ON v.doc_id = g.id AND v.field = ?"
                + (" GROUP BY k.value" if req.group_by is not None else "")
            )
            for row in conn.execute(sql, [*params, *self.docs_params, *key_params, m.field]):
                for i, window in enumerate(self.windows):
                    value = row[1 + i]
                    if m.op == "values":
                        value = sorted(v for v in json.loads(value) if v is not None)[:MAX_VALUES]
                    out.setdefault(row[0], {}).setdefault(window.name, {})[m.key] = value
        return out
