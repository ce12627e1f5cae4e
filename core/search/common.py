"""Rules both search index implementations share: names, documents, dates, query terms, sorting."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from tierwatch.core.search import MAX_KEYS, GroupQuery, IndexSchema, SearchQuery, Window

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ZERO = timedelta(0)


class IndexNotFound(LookupError):
    """The index was never created (call ``ensure_index`` first)."""


class SchemaMismatch(ValueError):
    """``ensure_index`` was called with a schema different from the one the index was built with."""


class SearchFailed(RuntimeError):
    """The engine refused or failed one request of a batch (the reason is the engine's)."""


def physical_name(prefix: str, name: str) -> str:
    """Prefix + name; lower-case letters, digits, '-' and '_' only (Elasticsearch's rules)."""
    full = prefix + name
    if not name or not _NAME.match(full):
        raise ValueError(f"bad index name {full!r}: use lower-case letters, digits, '-' and '_'")
    return full


def check_schema(schema: IndexSchema) -> None:
    seen: set[str] = set()
    for kind in ("text", "keyword", "date", "number", "boolean"):
        for field_name in getattr(schema, kind):
            if not _FIELD.match(field_name) or field_name == "id":
                raise ValueError(f"bad field name {field_name!r} in index schema")
            if field_name in seen:
                raise ValueError(f"field {field_name!r} declared twice in index schema")
            seen.add(field_name)


def schema_to_json(schema: IndexSchema) -> str:
    return json.dumps(asdict(schema), sort_keys=True)


def schema_from_json(raw: str | Mapping[str, Any]) -> IndexSchema:
    data = json.loads(raw) if isinstance(raw, str) else raw
    return IndexSchema(**{kind: tuple(fields) for kind, fields in data.items()})


def to_utc(value: datetime | str, what: str = "date") -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not an ISO-8601 date") from None
    if not isinstance(value, datetime):
        raise ValueError(f"{what}: expected a datetime or ISO-8601 string, got {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"{what}: {value.isoformat()} has no time zone offset")
    return value.astimezone(UTC)


def iso_utc(value: datetime | str, what: str = "date") -> str:
    return to_utc(value, what).isoformat()


@lru_cache(maxsize=64)
def _field_kinds(schema: IndexSchema) -> dict[str, str]:
    # One dict lookup per field instead of scanning every kind's tuple: normalise_doc runs for
    # every document the worker indexes.
    return {f: kind for kind in ("boolean", "number", "date", "keyword", "text") for f in getattr(schema, kind)}


def normalise_doc(schema: IndexSchema, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate field types and turn dates into ISO-8601 UTC strings, so both backends store the same."""
    doc_id = doc.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError(f"document needs a non-empty string 'id', got {doc_id!r}")
    kinds = _field_kinds(schema)
    out = dict(doc)
    for field_name, value in doc.items():
        kind = kinds.get(field_name)
        if kind is None or value is None:
            continue  # "id", or kept in the document but not indexed
        if kind == "date":
            # Fast path: the worker's dates are already aware datetimes in UTC (offset 0, whatever
            # the tzinfo class: pydantic's or the standard library's), so isoformat() is the same.
            if type(value) is datetime and value.utcoffset() == _ZERO:
                out[field_name] = value.isoformat()
            else:
                out[field_name] = iso_utc(value, f"document {doc_id!r} field {field_name!r}")
        elif kind == "keyword" or kind == "text":
            if not (isinstance(value, str) or isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ValueError(
                    f"document {doc_id!r} field {field_name!r}: expected a string or a list of strings, got {value!r}"
                )
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"document {doc_id!r} field {field_name!r}: expected a number, got {value!r}")
        elif not isinstance(value, bool):
            raise ValueError(f"document {doc_id!r} field {field_name!r}: expected true or false, got {value!r}")
    return out


def split_terms(text: str | None) -> list[str]:
    """Whitespace-separated terms, each taken literally (no operators, no wildcards)."""
    return text.split() if text else []


def parse_sort(schema: IndexSchema, sort: str) -> tuple[str, bool]:
    """'field' or '-field' -> (field, descending); only fields with a single comparable value."""
    field_name = sort.removeprefix("-")
    kind = "id" if field_name == "id" else schema.kind_of(field_name)
    if kind == "text":
        raise ValueError(f"cannot sort on text field {field_name!r}")
    return field_name, sort.startswith("-")


def filter_values(schema: IndexSchema, field_name: str, value: Any) -> list[Any]:
    """A filter's accepted values, typed for the field; a list means any of them."""
    kind = schema.kind_of(field_name)
    values = list(value) if isinstance(value, list | tuple) else [value]
    if kind == "keyword":
        return [str(v) for v in values]
    if kind == "boolean" and all(isinstance(v, bool) for v in values):
        return values
    if kind == "number" and all(isinstance(v, int | float) for v in values):
        return values
    raise ValueError(f"cannot filter {kind} field {field_name!r} by value {value!r}")


def range_bound(schema: IndexSchema, field_name: str, value: Any) -> Any:
    kind = schema.kind_of(field_name)
    if kind == "date":
        return to_utc(value, f"range on {field_name!r}")
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ValueError(f"cannot apply range {value!r} to {kind} field {field_name!r}")


def require_kind(schema: IndexSchema, field_name: str, kind: str, purpose: str) -> None:
    if schema.kind_of(field_name) != kind:
        raise ValueError(f"{purpose} needs a {kind} field, not {field_name!r}")


_METRIC_KINDS = {"sum": "number", "avg": "number", "min": "number", "max": "number",
                 "cardinality": "keyword", "values": "keyword"}


def check_tagged(schema: IndexSchema, date_field: str, window: Window, queries: Mapping[str, SearchQuery],
                 fields: Sequence[str]) -> tuple[datetime, datetime]:
    """Refuse a malformed ``tagged`` request; returns the window's bounds in UTC."""
    try:
        require_kind(schema, date_field, "date", "tagged date_field")
        for field_name in fields:
            schema.kind_of(field_name)
        for query in queries.values():
            if date_field in query.ranges:
                raise ValueError(f"a query may not name {date_field!r} in its ranges: the window bounds it")
            for field_name in (*query.filters, *query.ranges, *query.exclude):
                schema.kind_of(field_name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    gte, lt = to_utc(window.gte, "window"), to_utc(window.lt, "window")
    if not gte < lt:
        raise ValueError(f"window: gte {gte.isoformat()} is not before lt {lt.isoformat()}")
    return gte, lt


def check_group_query(schema: IndexSchema, request: GroupQuery) -> list[Window]:
    """Refuse a malformed group query; returns its windows with bounds in UTC."""
    try:
        return _check_group_query(schema, request)
    except KeyError as exc:  # an unknown field: a bad request like any other
        raise ValueError(exc.args[0]) from None


def _check_group_query(schema: IndexSchema, request: GroupQuery) -> list[Window]:
    require_kind(schema, request.date_field, "date", "group_stats date_field")
    if request.group_by is not None:
        require_kind(schema, request.group_by, "keyword", "group_by")
    if not request.windows:
        raise ValueError("group_stats needs at least one window")
    names = [w.name for w in request.windows]
    if len(set(names)) != len(names):
        raise ValueError(f"window names must be unique, got {names}")
    windows = []
    for w in request.windows:
        gte, lt = to_utc(w.gte, f"window {w.name!r}"), to_utc(w.lt, f"window {w.name!r}")
        if not gte < lt:
            raise ValueError(f"window {w.name!r}: gte {gte.isoformat()} is not before lt {lt.isoformat()}")
        windows.append(Window(w.name, gte, lt))
    if request.date_field in request.query.ranges:
        raise ValueError(f"query.ranges may not name {request.date_field!r}: the windows bound it")
    for metric in request.metrics:
        kind = _METRIC_KINDS.get(metric.op)
        if kind is None:
            raise ValueError(f"unknown metric {metric.op!r}")
        require_kind(schema, metric.field, kind, f"metric {metric.op}")
    if request.min_count < 1 or request.size < 1:
        raise ValueError("min_count and size must be at least 1")
    if request.keys is not None:
        if request.group_by is None:
            raise ValueError("keys need a group_by field")
        if len(request.keys) > MAX_KEYS:
            raise ValueError(f"at most {MAX_KEYS} keys per group query, got {len(request.keys)}")
        if request.after is not None:
            raise ValueError("keys and after cannot be combined")
    if request.after is not None and request.group_by is None:
        raise ValueError("after needs a group_by field")
    return windows


def check_set_fields(schema: IndexSchema, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values to write, typed like a document's (dates as ISO-8601 in UTC)."""
    if not values:
        raise ValueError("set_fields needs at least one field")
    out = {}
    for field_name, value in values.items():
        if value is None:
            raise ValueError(f"set_fields cannot remove {field_name!r}; re-index the document")
        try:
            schema.kind_of(field_name)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        out[field_name] = value
    # Reuse the document checks: same types as bulk_index accepts.
    checked = normalise_doc(schema, {"id": "-", **out})
    checked.pop("id")
    return checked


def span(windows: list[Window]) -> tuple[datetime, datetime]:
    """The smallest range holding every window: documents outside it are in no window."""
    return min(w.gte for w in windows), max(w.lt for w in windows)
