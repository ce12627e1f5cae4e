"""JSON in and out, and the URL converters: Chinese leaves as UTF-8 (not \\uXXXX), absurd nesting
is bad JSON (not a RecursionError), NUL characters never reach the database (PostgreSQL refuses
them in text), and ids beyond what the id columns hold match no route (not a database error)."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter, IntegerConverter

from tierwatch.core.db import ID_MAX  # PostgreSQL answers a larger id with "integer out of range"
from tierwatch.core.errors import Invalid



class JSONProvider(DefaultJSONProvider):
    ensure_ascii = False  # Flask 3 ignores the JSON_AS_ASCII config key; the provider decides

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            # request.get_json() turns a ValueError into "bad JSON" (None when silent=True).
            raise ValueError("JSON nested too deeply") from None


class IdConverter(IntegerConverter):
    """`<int:x>` that never hands the database a number its id columns cannot hold."""

    openapi_schema = {"type": "integer", "minimum": 0, "maximum": ID_MAX}

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


class TrackingCodeConverter(BaseConverter):
    """`<tracking:code>`: only the shape of a tracking code (monitoring.messages.tracking_code_for),
    so `/reports/<tracking:code>` can never swallow `/reports/scam`."""

    regex = r"TW-[0-9A-Z]{10}"
    openapi_schema = {"type": "string", "pattern": "^TW-[0-9A-Z]{10}$"}


def json_body() -> Any:
    """The request body as JSON (an empty body is ``{}``); Invalid (422) for bad JSON or NUL."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = request.get_json(force=True, silent=False)
    except BadRequest:  # undecodable or invalid JSON (on_json_loading_failed)
        raise Invalid([{"field": "(body)", "message": "not valid JSON (or nested too deeply)"}]) from None
    where = nul_in(data)
    if where is not None:
        raise Invalid.one(where or "(body)", "must not contain NUL characters (\\u0000)")
    return data


def nul_in(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) holding a NUL character, or None."""
    stack = [(path, value)]
    while stack:  # iterative: the nesting depth is the client's choice
        where, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, sub in item.items():
                name = f"{where}.{key}" if where else str(key)
                if "\x00" in str(key):
                    return name
                stack.append((name, sub))
        elif isinstance(item, list):
            stack.extend((f"{where}.{i}" if where else str(i), sub) for i, sub in enumerate(item))
    return None


def _refuse_nul_in_url() -> None:
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        abort(400, description="NUL character (%00) in the URL")


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: the converters are looked up when routes are added."""
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["tracking"] = TrackingCodeConverter
    app.before_request(_refuse_nul_in_url)
