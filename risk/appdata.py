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
from operator import itemgetter
from collections.abc import Mapping
from typing import Any, Callable, Iterable

from cel_expr_python import cel

from tierwatch.registry.vocab import ANSWER_FIELDS, APPLICATION_FIELDS
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


_ANSWER_DEFAULTS = {name: ("_NOLIST" if APPLICATION_FIELDS[name][0] == "set" else "''")
                    for name in ANSWER_FIELDS}
_LIST_ANSWERS = frozenset(n for n in ANSWER_FIELDS if APPLICATION_FIELDS[n][0] == "set")
_NOLIST: list[str] = []  # the unanswered multi-choice question; conditions never mutate it
_NO_ANSWERS: dict[str, Any] = {}
_QUESTION_KEYS = frozenset(ANSWER_FIELDS)


def local(name: str) -> str:
    """The Python local that holds a field's value in generated code (answers included)."""
    return ("a_" if name in _ANSWER_DEFAULTS else "x_") + name


def answer_lookup(name: str) -> str:
    """An answer read where a condition reaches it, for questions too rarely read to copy."""
    return f"x_answers.get({name!r}, {_ANSWER_DEFAULTS[name]})"


def reader(hoisted: Iterable[str]) -> Callable[[str], str]:
    """How generated code reads each field: answers copied into locals when several conditions
    read them, looked up in place otherwise."""
    hoisted = frozenset(hoisted)
    return lambda name: answer_lookup(name) if name in _ANSWER_DEFAULTS and name not in hoisted else local(name)


def normalizer_lines(indent: str = "    ", answers: Iterable[str] | None = None) -> list[str]:
    """Statements that read `app` (via `get`) into checked locals, raising on a bad value.

    `answers` names the questions to read into locals (default: all); a filing without answers
    (every filing from before the questions) sets them all in one statement."""
    lines = [f"{indent}get = app.get"]
    for name, (kind, _vocab) in APPLICATION_FIELDS.items():
        if name in ANSWER_FIELDS:
            continue
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
    # Answers and justifications: two dicts, checked only when present.
    wanted = [n for n in ANSWER_FIELDS if answers is None or n in answers]
    strings = [local(n) for n in wanted if _ANSWER_DEFAULTS[n] == "''"]
    lists = [local(n) for n in wanted if _ANSWER_DEFAULTS[n] != "''"]
    lines += [f"{indent}x_answers = get('answers')",
              f"{indent}if not x_answers:",
              f"{indent}    x_answers = _NO_ANSWERS"]
    lines += [f"{indent}    {' = '.join(strings)} = ''"] if strings else []
    lines += [f"{indent}    {' = '.join(lists)} = _NOLIST"] if lists else []
    lines += [f"{indent}else:",
              f"{indent}    x_answers = _answers(ref, x_answers)"]
    if len(wanted) > 1:
        # One merge with the unanswered defaults and one pick, both in C: far cheaper than a
        # look-up per question (answered filings answer most of them).
        lines += [f"{indent}    {', '.join(local(n) for n in wanted)} = _pick_answers({{**_ANSWER_DEFAULTS, **x_answers}})"]
    else:
        lines += [f"{indent}    {local(n)} = x_answers.get({n!r}, {_ANSWER_DEFAULTS[n]})" for n in wanted]
    lines += [f"{indent}x_justifications = get('justifications')",
              f"{indent}if not x_justifications: x_justifications = _NO_ANSWERS",
              f"{indent}else: x_justifications = _justifications(ref, x_justifications)"]
    return lines


def answer_picker(answers: Iterable[str] | None = None) -> Callable[[Mapping[str, Any]], Any]:
    """`_pick_answers` of the lines normalizer_lines(answers=...) generates: the questions'
    values in the order those lines unpack them."""
    wanted = [n for n in ANSWER_FIELDS if answers is None or n in answers]
    return itemgetter(*wanted) if len(wanted) > 1 else (lambda _answers: None)


def values_expr() -> str:
    """A dict display of all checked values, answers flattened: what the library is given."""
    return "{" + ", ".join(f"{name!r}: {answer_lookup(name)}" if name in ANSWER_FIELDS
                           else f"{name!r}: {local(name)}" for name in APPLICATION_FIELDS) + "}"


def _answers(ref: object, answers: Any) -> dict[str, Any]:
    if type(answers) is not dict:
        if not isinstance(answers, Mapping):
            _bad(ref, "answers", answers, "a mapping of question -> answer")
        answers = dict(answers)
    # Most filings pass in C: each value's type against its question's (a code, or a list of
    # codes), then the codes inside the lists.
    try:
        typed = list(map(type, answers.values())) == list(map(_EXPECTED_TYPE.__getitem__, answers))
    except KeyError:
        unknown = sorted(set(answers) - _QUESTION_KEYS, key=str)
        raise ApplicationDataError(ref, "answers", f"unknown question(s) {', '.join(map(repr, unknown))}") from None
    if typed:
        for name in _LIST_ANSWERS:
            value = answers.get(name)
            if value and not _STR_ONLY.issuperset(map(type, value)):
                break
        else:
            return answers
    for name, value in answers.items():  # find the culprit, for the message
        if name in _LIST_ANSWERS:
            if type(value) is not list or any(type(v) is not str for v in value):
                _bad(ref, f"answers.{name}", value, "a list of codes")
        elif type(value) is not str:
            _bad(ref, f"answers.{name}", value, "a code")
    return answers


_STR_ONLY = frozenset({str})
_EXPECTED_TYPE = {name: list if name in _LIST_ANSWERS else str for name in ANSWER_FIELDS}


def _justifications(ref: object, texts: Any) -> dict[str, str]:
    if type(texts) is dict and _STR_ONLY.issuperset(map(type, texts)) \
            and _STR_ONLY.issuperset(map(type, texts.values())):
        return texts
    if not isinstance(texts, Mapping) or any(type(k) is not str or type(v) is not str
                                             for k, v in texts.items()):
        _bad(ref, "justifications", texts, "a mapping of question -> text")
    return dict(texts)


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


HELPERS: dict[str, Any] = {"_bad": _bad, "_as_list": _as_list, "_records": _records,
                           "_answers": _answers, "_justifications": _justifications,
                           "_NOLIST": _NOLIST, "_NO_ANSWERS": _NO_ANSWERS,
                           "_ANSWER_DEFAULTS": {n: _NOLIST if d == "_NOLIST" else "" for n, d in _ANSWER_DEFAULTS.items()}}


@lru_cache(maxsize=1)
def _normalizer() -> Callable[[Mapping[str, Any], object], dict[str, Any]]:
    source = "\n".join(["def normalize(app, ref):", *normalizer_lines(), f"    return {values_expr()}"])
    namespace = dict(HELPERS, _pick_answers=answer_picker())
    exec(compile(source, "<risk.appdata>", "exec"), namespace)  # nosec B102 # source generated from APPLICATION_FIELDS in code; names emitted with repr()
    return namespace["normalize"]  # type: ignore[no-any-return]


def normalize_application(app: Mapping[str, Any], app_ref: object = "?") -> dict[str, Any]:
    """Application dict -> the typed values conditions see; ApplicationDataError if mistyped."""
    return _normalizer()(app, app_ref)
