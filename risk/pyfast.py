"""Translate a checked CEL tree into a Python expression: the engine's fast path.

Only what the checker fully typed is translated: every node has a concrete type (no `dyn`, no
doubles, no wrappers) and every call resolved to one overload in the table below, whose Python
form has the same result as CEL whenever it returns. Where CEL would produce an error the Python
form raises instead (overflow, index past the end, missing map key, division by zero), and the
engine then asks the library itself for the answer, so CEL's error-absorbing `&&` / `||` and the
library's error messages stay exactly the library's. Anything else raises Unsupported, and that
rule is evaluated by the library for every application.
"""

from __future__ import annotations

from typing import Any, Callable

from tierwatch.risk.celast import NULL, CheckedAst, Comprehension, Expr

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


# Unrolling `[a, b].exists(t, ...)` copies the predicate per element; past these sizes the
# translation loops instead, so generated source stays linear in the condition's size.
MAX_UNROLLED, MAX_UNROLLED_SOURCE = 16, 4000


class Unsupported(Exception):
    pass


def _binary(op: str) -> Callable[[list[str]], str]:
    return lambda a: f"({a[0]} {op} {a[1]})"


def _helper(name: str) -> Callable[[list[str]], str]:
    return lambda a: f"{name}({', '.join(a)})"


_COMPARE = {"less": "<", "less_equals": "<=", "greater": ">", "greater_equals": ">="}
OVERLOADS: dict[str, Callable[[list[str]], str]] = {
    "logical_and": _binary("and"),
    "logical_or": _binary("or"),
    "logical_not": lambda a: f"(not {a[0]})",
    "not_strictly_false": lambda a: a[0],  # errors are exceptions here, so only true/false remain
    "conditional": lambda a: f"({a[1]} if {a[0]} else {a[2]})",
    "equals": _binary("=="),
    "not_equals": _binary("!="),
    "in_list": _binary("in"),
    "in_map": _binary("in"),
    "size_list": _helper("len"), "list_size": _helper("len"),
    "size_map": _helper("len"), "map_size": _helper("len"),
    # Python counts code points, as CEL does (not UTF-8 bytes).
    "size_string": _helper("len"), "string_size": _helper("len"),
    "contains_string": lambda a: f"({a[1]} in {a[0]})",
    "starts_with_string": lambda a: f"{a[0]}.startswith({a[1]})",
    "ends_with_string": lambda a: f"{a[0]}.endswith({a[1]})",
    "add_string": _binary("+"),
    "add_list": _binary("+"),
    "add_int64": lambda a: f"_i64({a[0]} + {a[1]})",
    "subtract_int64": lambda a: f"_i64({a[0]} - {a[1]})",
    "multiply_int64": lambda a: f"_i64({a[0]} * {a[1]})",
    "negate_int64": lambda a: f"_i64(-{a[0]})",
    "divide_int64": _helper("_idiv"),
    "modulo_int64": _helper("_imod"),
    "index_list": _helper("_index"),
    "index_map": lambda a: f"{a[0]}[{a[1]}]",
}
for _name, _op in _COMPARE.items():
    for _type in ("int64", "string", "bool"):
        # Strings compare by code point in Python; UTF-8 byte order (CEL's) is the same order.
        OVERLOADS[f"{_name}_{_type}"] = _binary(_op)

_SAFE_TYPES = ("bool", "int", "string")


def _type_ok(t: str | None) -> bool:
    if t is None:
        return False
    if t.startswith("list(") and t.endswith(")"):
        return _type_ok(t[5:-1])
    if t.startswith("map(") and t.endswith(")"):
        key, _, value = t[4:-1].partition(",")
        return key in _SAFE_TYPES and _type_ok(value)
    return t in _SAFE_TYPES


class Translator:
    """One condition -> one Python expression over the locals `local(field)` names."""

    def __init__(self, ast: CheckedAst, fields: set[str], local: Callable[[str], str]):
        self.ast, self.fields, self.local = ast, fields, local
        self._scopes: list[dict[str, str]] = []
        self._counter = 0

    def translate(self) -> str:
        return self._node(self.ast.expr)

    def _node(self, e: Expr) -> str:
        if not _type_ok(self.ast.types.get(e.id)):
            raise Unsupported(f"type {self.ast.types.get(e.id)} at node {e.id}")
        method = getattr(self, "_" + e.kind, None)
        if method is None:
            raise Unsupported(e.kind)
        return method(e)

    def _const(self, e: Expr) -> str:
        v = e.value
        if v is NULL or isinstance(v, tuple) or isinstance(v, float):
            raise Unsupported("constant kind")
        return repr(v)

    def _ident(self, e: Expr) -> str:
        for scope in reversed(self._scopes):
            if e.value in scope:
                return scope[e.value]
        name = self.ast.names.get(e.id, e.value)
        if name not in self.fields:
            raise Unsupported(f"identifier {name}")
        return self.local(name)

    def _select(self, e: Expr) -> str:
        operand = self._node(e.args[0])
        if not (self.ast.types.get(e.args[0].id) or "").startswith("map("):
            raise Unsupported("select on a non-map")
        if e.test_only:
            return f"({e.value!r} in {operand})"
        return f"{operand}[{e.value!r}]"

    def _call(self, e: Expr) -> str:
        overloads = self.ast.overloads.get(e.id, ())
        if len(overloads) != 1 or overloads[0] not in OVERLOADS:
            raise Unsupported(f"function {e.value} {overloads}")
        return OVERLOADS[overloads[0]]([self._node(a) for a in e.args])

    def _list(self, e: Expr) -> str:
        if e.has_optionals:
            raise Unsupported("optional list elements")
        return "[" + ", ".join(self._node(a) for a in e.args) + "]"

    def _map(self, e: Expr) -> str:
        # CEL rejects duplicate keys in a map literal at run time; Python would keep the last.
        raise Unsupported("map literal")

    def _comprehension(self, e: Expr) -> str:
        c = e.comprehension
        assert c is not None
        if c.iter_var2:
            raise Unsupported("two-variable comprehension")
        rng = self._node(c.iter_range)
        macro = _macro(c, self.ast)
        if macro is not None:
            return self._macro(macro, c, rng)
        init = self._node(c.accu_init)
        self._counter += 1
        accu, item = f"_a{self._counter}", f"_c{self._counter}"
        self._scopes.append({c.accu_var: accu})
        cond = self._node(c.loop_condition)
        result = self._node(c.result)
        self._scopes[-1][c.iter_var] = item
        step = self._node(c.loop_step)
        self._scopes.pop()
        return (f"_comp({rng}, {init}, lambda {accu}: {cond}, "
                f"lambda {accu}, {item}: {step}, lambda {accu}: {result})")

    def _macro(self, name: str, c: Comprehension, rng: str) -> str:
        predicate = c.loop_step.args[1]
        codes = _constant_strings(predicate, c.iter_var)
        if name == "exists" and codes is not None:
            # `xs.exists(x, x in ["a", "b"])` over strings is a set intersection.
            return f"(not {_set_literal(codes)}.isdisjoint({rng}))"
        elements = c.iter_range.args
        if (c.iter_range.kind == "list" and len(elements) <= MAX_UNROLLED
                and all(e.kind in ("ident", "const") for e in elements)):
            # `[scenario, description].exists(t, ...)`: unrolled, left to right, as the loop runs.
            joiner = " or " if name == "exists" else " and "
            parts: list[str] = []
            for element in elements:
                self._scopes.append({c.iter_var: self._node(element)})
                parts.append(self._node(predicate))
                self._scopes.pop()
                if sum(map(len, parts)) > MAX_UNROLLED_SOURCE:
                    break  # nested unrolling multiplies: loop instead (the same result)
            else:
                return "(" + (joiner.join(parts) or ("False" if name == "exists" else "True")) + ")"
        self._counter += 1
        item = f"_c{self._counter}"
        self._scopes.append({c.iter_var: item})
        body = self._node(predicate)
        self._scopes.pop()
        return f"{'any' if name == 'exists' else 'all'}({body} for {item} in {rng})"


def _macro(c: Comprehension, ast: CheckedAst) -> str | None:
    """'exists' / 'all' when the comprehension is exactly that macro's standard expansion.

    any() and all() stop at the same element the expansion's loop condition stops at, and an
    error from any element raises, which sends the rule to the library."""
    step, cond, init, result = c.loop_step, c.loop_condition, c.accu_init, c.result

    def is_accu(x: Expr) -> bool:
        return x.kind == "ident" and x.value == c.accu_var

    def overload(x: Expr) -> str | None:
        found = ast.overloads.get(x.id, ())
        return found[0] if x.kind == "call" and len(found) == 1 else None

    if not (is_accu(result) and init.kind == "const" and isinstance(init.value, bool)):
        return None
    if overload(cond) != "not_strictly_false" or len(step.args) != 2 or not is_accu(step.args[0]):
        return None
    inner = cond.args[0]
    if init.value is False and overload(step) == "logical_or" and overload(inner) == "logical_not" \
            and is_accu(inner.args[0]):
        return "exists"
    if init.value is True and overload(step) == "logical_and" and is_accu(inner):
        return "all"
    return None


def _constant_strings(predicate: Expr, var: str) -> list[str] | None:
    """The codes of a predicate `var in ["a", "b"]`, else None."""
    if predicate.kind != "call" or predicate.value != "@in" or len(predicate.args) != 2:
        return None
    left, right = predicate.args
    if left.kind != "ident" or left.value != var or right.kind != "list" or right.has_optionals:
        return None
    if not right.args or not all(a.kind == "const" and type(a.value) is str for a in right.args):
        return None
    return [a.value for a in right.args]


def _set_literal(codes: list[str]) -> str:
    # A set display of constants compiles to one frozenset constant.
    return "{" + ", ".join(repr(code) for code in codes) + "}"


# --- run-time helpers the generated code calls ----------------------------------------------

def _i64(value: int) -> int:
    if value < INT64_MIN or value > INT64_MAX:
        raise OverflowError("integer overflow")
    return value


def _idiv(a: int, b: int) -> int:
    if b == 0 or (a == INT64_MIN and b == -1):
        raise ZeroDivisionError("division by zero or overflow")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q  # CEL truncates toward zero


def _imod(a: int, b: int) -> int:
    if b == 0 or (a == INT64_MIN and b == -1):
        raise ZeroDivisionError("modulus by zero or overflow")
    return a - b * _idiv(a, b)


def _index(seq: list[Any], i: int) -> Any:
    if i < 0 or i >= len(seq):
        raise IndexError("index out of range")  # Python would accept negative indexes
    return seq[i]


def _comp(rng: Any, accu: Any, cond: Callable[[Any], Any], step: Callable[[Any, Any], Any],
          result: Callable[[Any], Any]) -> Any:
    for item in rng:
        if not cond(accu):
            break
        accu = step(accu, item)
    return result(accu)


HELPERS: dict[str, Any] = {"_i64": _i64, "_idiv": _idiv, "_imod": _imod, "_index": _index,
                           "_comp": _comp}
