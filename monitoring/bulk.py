"""Bulk writes for a batch: one statement per table on PostgreSQL, executemany on SQLite.

On PostgreSQL the rows travel as one JSON text parameter and ``json_to_recordset`` turns it back
into typed rows, so a 500-row batch is a single short statement: no per-row SQL rendering,
parsing or round trip (about 10x less client time than executemany in the worker's profile).
JSON rather than one array per column: one orjson call (C, datetimes included) writes the whole
batch, where psycopg adapts array parameters element by element in Python (a quarter of the
worker's database time). json, not jsonb: ``jsonb_to_recordset`` was no cheaper for PostgreSQL
on the worker's batches (the reports' insert was 30% dearer).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.core.db import UTCDateTime


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert(session: Session, table: sa.Table) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if is_postgres(session) else sqlite).insert(table)


def _pg_type(column: sa.Column) -> str:
    if isinstance(column.type, UTCDateTime):
        return "timestamptz"
    if isinstance(column.type, sa.JSON):
        return "text"  # sent as its JSON text, cast back to json in the statement (see _recordset)
    from sqlalchemy.dialects import postgresql

    return column.type.compile(dialect=postgresql.dialect())


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"cannot send {type(value).__name__} to PostgreSQL as JSON")


def dumps(value: Any) -> str:
    """JSON text for a statement parameter: orjson (C) writes the whole batch in one call, an
    aware datetime as its ISO form with the offset (timestamptz stores the instant)."""
    return orjson.dumps(value, default=_json_default).decode()


def _refuse_naive(table: sa.Table, columns: Sequence[str], rows: Sequence[dict[str, Any]],
                  types: Any = None) -> None:
    # orjson would send a naive datetime without an offset, to be read in the session's time
    # zone; the ORM's UTCDateTime refuses one, and so do the bulk writes.
    col = types if types is not None else table.c
    for c in columns:
        if isinstance(col[c].type, (UTCDateTime, sa.DateTime)):
            for row in rows:
                value = row.get(c)
                if value is not None and value.tzinfo is None:
                    raise ValueError("naive datetime given; use core.clock.utcnow()")


def _json_text_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use core.clock.utcnow()")
        return value.isoformat()
    return _json_default(value)


# JSON columns keep the standard library's spelling (see _recordset); one encoder, not one per call.
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, check_circular=False, default=_json_text_default)


def _recordset(
    table: sa.Table, columns: Sequence[str], rows: Sequence[dict[str, Any]],
    types: dict[str, sa.Column] | None = None,
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """``rows`` as one JSON parameter, the ``json_to_recordset(…) AS r(col type, …)`` that reads
    them back, in order, and each column's expression over ``r``. A key a row lacks reads as
    NULL, one that is not a column is ignored. ``types``: the column each name is typed as
    (default: the table's column of that name)."""
    col = types or table.c
    _refuse_naive(table, columns, rows, col)
    json_columns = [c for c in columns if isinstance(col[c].type, sa.JSON)]
    if json_columns:
        # JSON columns travel as their text, as the standard library writes it, and are cast
        # back: nested in orjson's output they would be stored in its (compact) spelling.
        encode = _JSON_TEXT.encode
        rows = [{**row, **{c: None if row.get(c) is None else encode(row[c]) for c in json_columns}} for row in rows]
    defs = ", ".join(f'"{c}" {_pg_type(col[c])}' for c in columns)
    exprs = {c: f'CAST(r."{c}" AS json)' if c in json_columns else f'r."{c}"' for c in columns}
    return f"json_to_recordset(CAST(:rows AS json)) AS r({defs})", {"rows": dumps(list(rows))}, exprs


def _columns(rows: Sequence[dict[str, Any]]) -> tuple[list[str], Sequence[dict[str, Any]]]:
    """Every column any row names, in first-seen order, and the rows with each of them: a key a
    row lacks is NULL. Statements are built from one row's keys, so without this a batch mixing
    row shapes (a scam report beside an incident report) fails as a whole, on either database."""
    columns = list(dict.fromkeys(c for row in rows for c in row))
    if all(len(row) == len(columns) for row in rows):
        return columns, rows
    return columns, [{c: row.get(c) for c in columns} for row in rows]


def insert_rows(
    session: Session,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str] | None = None,
    update: dict[str, str] | None = None,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """INSERT rows; on a conflict on ``conflict`` columns do nothing, or set ``update``
    (column -> SQL expression over ``{t}`` (the stored row) and ``excluded``). Returns the
    ``returning`` columns of the rows written."""
    if not rows:
        return []
    columns, rows = _columns(rows)
    if not is_postgres(session):
        stmt = upsert(session, table)
        if update:
            set_ = {name: sa.text(expr.format(t=table.name)) for name, expr in update.items()}
            stmt = stmt.on_conflict_do_update(index_elements=list(conflict or ()), set_=set_)
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict) if conflict else None)
        if returning:
            return [tuple(r) for r in session.execute(stmt.returning(*(table.c[c] for c in returning)), list(rows))]
        session.execute(stmt, list(rows))
        return []
    source, params, exprs = _recordset(table, columns, rows)
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(exprs.values())
    target = f"({', '.join(conflict)})" if conflict else ""
    action = (
        "DO UPDATE SET " + ", ".join(f'"{c}" = {expr.format(t="t")}' for c, expr in update.items())  # nosec B608 # identifiers from the Table object, values bound as one JSON parameter
        if update
        else "DO NOTHING"
    )
    back = f" RETURNING {', '.join(f't.{c}' for c in returning)}" if returning else ""
    result = session.execute(
        sa.text(f'INSERT INTO "{table.name}" AS t ({names}) SELECT {values} FROM {source} '  # nosec B608 # identifiers from the Table object, values bound as one JSON parameter
                f"ON CONFLICT {target} {action}{back}"),
        params,
    )
    return [tuple(r) for r in result.all()] if returning else []  # all(): one fetch, not one per row


def update_rows(session: Session, table: sa.Table, key: Sequence[str], rows: Sequence[dict[str, Any]], *,
                add: Sequence[str] = (), unchanged: Sequence[str] = ()) -> int:
    """UPDATE ``table`` SET the rows' other columns WHERE the ``key`` columns match, row by row.
    ``add``: columns whose row value is added to the stored one (counters). ``unchanged``:
    columns that must still hold the row's ``was_<column>`` (compare-and-set; a row whose
    column moved meanwhile is not updated). Returns how many rows were updated."""
    if not rows:
        return 0
    columns, rows = _columns(rows)
    was = {f"was_{c}": c for c in unchanged}
    values = [c for c in columns if c not in key and c not in was]
    if not is_postgres(session):
        where = sa.and_(*(table.c[k] == sa.bindparam(f"b_{k}") for k in key),
                        *(table.c[c] == sa.bindparam(f"b_{w}") for w, c in was.items()))
        sets = {c: table.c[c] + sa.bindparam(f"b_{c}") if c in add else sa.bindparam(f"b_{c}") for c in values}
        stmt = sa.update(table).where(where).values(sets)
        result = session.execute(stmt, [{f"b_{c}": row[c] for c in columns} for row in rows])
        return int(result.rowcount)  # type: ignore[attr-defined]
    types = {c: table.c[was.get(c, c)] for c in columns}
    source, params, exprs = _recordset(table, columns, rows, types)
    sets = ", ".join(f'"{c}" = "{table.name}"."{c}" + {exprs[c]}' if c in add else f'"{c}" = {exprs[c]}'
                     for c in values)
    match = " AND ".join([*(f'"{table.name}"."{k}" = r."{k}"' for k in key),
                          *(f'"{table.name}"."{c}" = r."{w}"' for w, c in was.items())])
    result = session.execute(sa.text(f'UPDATE "{table.name}" SET {sets} FROM {source} WHERE {match}'), params)  # nosec B608 # identifiers from the Table object, values bound as one JSON parameter
    return int(result.rowcount)  # type: ignore[attr-defined]
