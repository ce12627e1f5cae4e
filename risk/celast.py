"""The checked syntax tree of a CEL condition, as cel-expr-python's checker produced it.

cel-expr-python parses and type-checks a condition with Google's C++ CEL implementation;
`Expression.serialize()` hands back the result as a `cel.expr.CheckedExpr` protobuf wrapped in a
`google.protobuf.Any`. No Python package ships those message classes, so the few fields we need
are read straight off the protobuf wire format. Field numbers are those of cel-spec's
`proto/cel/expr/syntax.proto` and `checked.proto`. This is a reader of the library's output,
not a CEL parser: parsing, macro expansion, name resolution and overload choice are the library's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

_PRIMITIVES = {1: "bool", 2: "int", 3: "uint", 4: "double", 5: "string", 6: "bytes"}


@dataclass(frozen=True, slots=True)
class Comprehension:
    iter_var: str
    iter_range: "Expr"
    accu_var: str
    accu_init: "Expr"
    loop_condition: "Expr"
    loop_step: "Expr"
    result: "Expr"
    iter_var2: str = ""


@dataclass(frozen=True, slots=True)
class Expr:
    id: int
    kind: str  # const, ident, select, call, list, map, struct, comprehension
    value: Any = None  # const value, ident name, selected field, call function name
    args: tuple["Expr", ...] = ()  # call: target first when `member`; list elements; select operand
    member: bool = False
    test_only: bool = False  # select inside has()
    comprehension: Comprehension | None = None
    has_optionals: bool = False  # optional list elements / map entries (not translated)


@dataclass(frozen=True)
class CheckedAst:
    expr: Expr
    overloads: dict[int, tuple[str, ...]] = field(default_factory=dict)  # call id -> overload ids
    names: dict[int, str] = field(default_factory=dict)  # ident id -> resolved name
    types: dict[int, str] = field(default_factory=dict)  # expr id -> "bool", "list(string)", ...


def decode_checked(serialized: bytes) -> CheckedAst:
    """`Expression.serialize()` bytes (an Any holding a CheckedExpr) -> CheckedAst."""
    outer = _fields(serialized)
    checked = _fields(_one(outer, 2, b""))
    overloads: dict[int, tuple[str, ...]] = {}
    names: dict[int, str] = {}
    for entry in checked.get(2, []):
        kv = _fields(entry)
        ref = _fields(_one(kv, 2, b""))
        expr_id = _one(kv, 1, 0)
        if 3 in ref:
            overloads[expr_id] = tuple(o.decode() for o in ref[3])
        elif 1 in ref:
            names[expr_id] = _one(ref, 1, b"").decode()
    types = {}
    for entry in checked.get(3, []):
        kv = _fields(entry)
        types[_one(kv, 1, 0)] = _type(_one(kv, 2, b""))
    return CheckedAst(_expr(_one(checked, 4, b"")), overloads, names, types)


def walk(expr: Expr):  # type: ignore[no-untyped-def]
    """Every node of the tree, depth first."""
    yield expr
    for child in expr.args:
        yield from walk(child)
    c = expr.comprehension
    if c is not None:
        for part in (c.iter_range, c.accu_init, c.loop_condition, c.loop_step, c.result):
            yield from walk(part)


def _expr(buf: bytes) -> Expr:
    f = _fields(buf)
    expr_id = _one(f, 2, 0)
    if 3 in f:
        return Expr(expr_id, "const", _constant(_fields(f[3][0])))
    if 4 in f:
        return Expr(expr_id, "ident", _one(_fields(f[4][0]), 1, b"").decode())
    if 5 in f:
        sel = _fields(f[5][0])
        return Expr(expr_id, "select", _one(sel, 2, b"").decode(), (_expr(_one(sel, 1, b"")),),
                    test_only=bool(_one(sel, 3, 0)))
    if 6 in f:
        call = _fields(f[6][0])
        args = tuple(_expr(a) for a in call.get(3, []))
        if 1 in call:
            return Expr(expr_id, "call", _one(call, 2, b"").decode(), (_expr(call[1][0]),) + args,
                        member=True)
        return Expr(expr_id, "call", _one(call, 2, b"").decode(), args)
    if 7 in f:
        lst = _fields(f[7][0])
        return Expr(expr_id, "list", None, tuple(_expr(e) for e in lst.get(1, [])),
                    has_optionals=2 in lst)
    if 8 in f:
        return _struct(expr_id, _fields(f[8][0]))
    if 9 in f:
        c = _fields(f[9][0])
        comp = Comprehension(
            iter_var=_one(c, 1, b"").decode(), iter_range=_expr(_one(c, 2, b"")),
            accu_var=_one(c, 3, b"").decode(), accu_init=_expr(_one(c, 4, b"")),
            loop_condition=_expr(_one(c, 5, b"")), loop_step=_expr(_one(c, 6, b"")),
            result=_expr(_one(c, 7, b"")), iter_var2=_one(c, 8, b"").decode())
        return Expr(expr_id, "comprehension", comprehension=comp)
    return Expr(expr_id, "unknown")


def _struct(expr_id: int, s: dict[int, list[Any]]) -> Expr:
    if 1 in s:  # a protobuf message literal: never in our conditions
        return Expr(expr_id, "struct", _one(s, 1, b"").decode())
    args: list[Expr] = []
    optional = False
    for raw in s.get(2, []):
        entry = _fields(raw)
        if 3 not in entry:
            return Expr(expr_id, "struct")
        args += [_expr(entry[3][0]), _expr(_one(entry, 4, b""))]
        optional = optional or bool(_one(entry, 5, 0))
    return Expr(expr_id, "map", None, tuple(args), has_optionals=optional)


class _Null:
    def __repr__(self) -> str:
        return "null"


NULL = _Null()


def _constant(c: dict[int, list[Any]]) -> Any:
    if 1 in c:
        return NULL
    if 2 in c:
        return bool(c[2][0])
    if 3 in c:
        v = c[3][0]
        return v - (1 << 64) if v >= 1 << 63 else v
    if 4 in c:
        return ("uint", c[4][0])
    if 5 in c:
        return struct.unpack("<d", c[5][0])[0]
    if 6 in c:
        return c[6][0].decode()
    if 7 in c:
        return ("bytes", c[7][0])
    return ("unsupported", None)


def _type(buf: bytes) -> str:
    f = _fields(buf)
    if 1 in f:
        return "dyn"
    if 2 in f:
        return "null"
    if 3 in f:
        return _PRIMITIVES.get(f[3][0], "other")
    if 4 in f:
        return "wrapper(" + _PRIMITIVES.get(f[4][0], "other") + ")"
    if 6 in f:
        return "list(" + _type(_one(_fields(f[6][0]), 1, b"")) + ")"
    if 7 in f:
        m = _fields(f[7][0])
        return f"map({_type(_one(m, 1, b''))},{_type(_one(m, 2, b''))})"
    return "other"


def _one(f: dict[int, list[Any]], num: int, default: Any) -> Any:
    values = f.get(num)
    return values[0] if values else default


def _fields(buf: bytes) -> dict[int, list[Any]]:
    """Protobuf wire format -> {field number: [raw values]} (varints as int, the rest as bytes)."""
    out: dict[int, list[Any]] = {}
    i, n = 0, len(buf)
    value: Any
    while i < n:
        key, i = _varint(buf, i)
        wire = key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
        out.setdefault(key >> 3, []).append(value)
    return out


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
