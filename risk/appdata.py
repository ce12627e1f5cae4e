"""What conditions see of an application: every field of registry.vocab, strictly typed.

An unset number is -1, an unset yes/no is false, unset text and codes are "" and unset lists
are empty, so conditions never meet null and the CEL checker can type every field. Values are
type-checked strictly because the library rejects a mistyped value where Python might quietly
compare it, and both evaluation paths must see the same data.

The checks are generated as straight-line Python once (no per-field loop at run time): the
tier engine inlines the same lines at the top of its generated rule function.
"""

from __future__ import annotations

from functools import lru_cache
from collections.abc import Mapping
from typing import Any, Callable

from cel_expr_python import cel

from tierwatch.registry.vocab import APPLICATION_FIELDS
from tierwatch.risk.ruleset import ApplicationDataError

UNSET_INT = -1
# models is the one list of records: [{"name": ..., "filing_number": ...}]
RECORD_LISTS = {"models": ("name", "filing_number")}
_T = cel.Type
_CEL_TYPES = {"str": _T.STRING, "enum": _T.STRING, "int": _T.INT, "bool": _T.BOOL,
              "set": _T.List(_T.STRING), "list": _T.List(_T.STRING)}
FIELD_TYPES = {name: (_T.List(_T.Map(_T.STRING, _T.STRING)) if name in RECORD_LISTS
                      else _CEL_TYPES[kind]) for name, (kind, _v) in APPLICATION_FIELDS.items()}
_DEFAULTS = {"str": "''", "enum": "''", "int": repr(UNSET_INT), "bool": "False"}
_PYTYPES = {"str": ("str", "text"), "enum": ("str", "a code"), "int": ("int", "an integer"),
            "bool": ("bool", "true/false")}


def local(name: str) -> str:
    """The Python local that holds a field's value in generated code."""
    return "x_" + name


def normalizer_lines(indent: str = "    ") -> list[str]:
    """Statements that read `app` (via `get`) into checked locals, raising on a bad value."""
    lines = [f"{indent}get = app.get"]
    for name, (kind, _vocab) in APPLICATION_FIELDS.items():
        x = local(name)
        lines.append(f"{indent}{x} = get({name!r})")
        if name in RECORD_LISTS:
            lines.append(f"{indent}{x} = _records(ref, {name!r}, {x})")
        elif kind in ("set", "list"):
            lines += [f"{indent}if not {x}: {x} = []",
                      f"{indent}elif type({x}) is not list: {x} = _as_list(ref, {name!r}, {x})",
                      f"{indent}for _item in {x}:",
                      f"{indent}    if type(_item) is not str: _bad(ref, {name!r}, {x}, 'a list of codes')"]
        else:
            pytype, expected = _PYTYPES[kind]
            lines += [f"{indent}if {x} is None: {x} = {_DEFAULTS[kind]}",
                      f"{indent}elif type({x}) is not {pytype}: _bad(ref, {name!r}, {x}, {expected!r})"]
    return lines


def values_expr() -> str:
    """A dict display of all checked locals: what the library is given."""
    return "{" + ", ".join(f"{name!r}: {local(name)}" for name in APPLICATION_FIELDS) + "}"


def _bad(ref: object, name: str, value: Any, expected: str) -> None:
    raise ApplicationDataError(ref, name, f"expected {expected}, got {value!r}")


def _as_list(ref: object, name: str, value: Any) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)):
        _bad(ref, name, value, "a list of codes")
    try:
        return list(value)
    except TypeError:
        _bad(ref, name, value, "a list of codes")
        raise


def _records(ref: object, name: str, items: Any) -> list[dict[str, str]]:
    out = []
    if items and type(items) is not list:
        items = _as_list(ref, name, items)
    for item in items or ():
        if type(item) is not dict and not isinstance(item, Mapping):
            _bad(ref, name, items, "a list of records")
        record = {}
        for key in RECORD_LISTS[name]:
            value = item.get(key)
            record[key] = "" if value is None else value if type(value) is str else str(value)
        out.append(record)
    return out


HELPERS: dict[str, Any] = {"_bad": _bad, "_as_list": _as_list, "_records": _records}


@lru_cache(maxsize=1)
def _normalizer() -> Callable[[Mapping[str, Any], object], dict[str, Any]]:
    source = "\n".join(["def normalize(app, ref):", *normalizer_lines(), f"    return {values_expr()}"])
    namespace = dict(HELPERS)
    exec(compile(source, "<risk.appdata>", "exec"), namespace)  # nosec B102 # source generated from APPLICATION_FIELDS in code; names emitted with repr()
    return namespace["normalize"]  # type: ignore[no-any-return]


def normalize_application(app: Mapping[str, Any], app_ref: object = "?") -> dict[str, Any]:
    """Application dict -> the typed values conditions see; ApplicationDataError if mistyped."""
    return _normalizer()(app, app_ref)
