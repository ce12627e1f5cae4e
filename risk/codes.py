"""Check that every code a condition compares with an enum or set field is in registry.vocab.

The CEL checker knows `domain` is a string, not which strings are codes; a typo such as
`"deepfake" in capabilities` would type-check and silently never fire. So the checked tree is
walked for comparisons between a coded expression (an enum field, a set field, a set field's
element inside a macro such as `exists`) and string literals.
"""

from __future__ import annotations

from typing import NamedTuple

from tierwatch.registry.vocab import APPLICATION_FIELDS, Labels
from tierwatch.risk.celast import CheckedAst, Expr


class _Coded(NamedTuple):
    field: str
    vocab: Labels
    is_list: bool


def check_codes(ast: CheckedAst) -> list[str]:
    problems: list[str] = []
    _visit(ast, ast.expr, {}, problems)
    return list(dict.fromkeys(problems))


def _coded(ast: CheckedAst, e: Expr, scope: dict[str, _Coded]) -> _Coded | None:
    if e.kind == "ident":
        if e.value in scope:
            return scope[e.value]
        name = ast.names.get(e.id, e.value)
        kind, vocab = APPLICATION_FIELDS.get(name, (None, None))
        if vocab is not None:
            return _Coded(name, vocab, kind == "set")
    if e.kind == "call" and e.value == "_[_]" and e.args:
        target = _coded(ast, e.args[0], scope)
        if target is not None and target.is_list:
            return target._replace(is_list=False)
    return None


def _literals(e: Expr, as_list: bool) -> list[str]:
    if not as_list:
        return [e.value] if e.kind == "const" and isinstance(e.value, str) else []
    if e.kind != "list":
        return []
    return [a.value for a in e.args if a.kind == "const" and isinstance(a.value, str)]


def _check(coded: _Coded | None, literals: list[str], problems: list[str]) -> None:
    if coded is None:
        return
    for code in literals:
        if code not in coded.vocab and code != "":  # "" is the unset value: an unanswered question
            problems.append(f"unknown code {code!r} for field {coded.field} "
                            f"(valid: {', '.join(coded.vocab)})")


def _visit(ast: CheckedAst, e: Expr, scope: dict[str, _Coded], problems: list[str]) -> None:
    if e.kind == "comprehension" and e.comprehension is not None:
        c = e.comprehension
        source = _coded(ast, c.iter_range, scope)
        inner = dict(scope)
        if source is not None and source.is_list:
            inner[c.iter_var] = source._replace(is_list=False)
        for part in (c.iter_range, c.accu_init):
            _visit(ast, part, scope, problems)
        for part in (c.loop_condition, c.loop_step, c.result):
            _visit(ast, part, inner, problems)
        return
    if e.kind == "call" and len(e.args) == 2:
        left, right = e.args
        if e.value in ("_==_", "_!=_"):
            for a, b in ((left, right), (right, left)):
                coded = _coded(ast, a, scope)
                if coded is not None:
                    _check(coded, _literals(b, coded.is_list), problems)
        elif e.value == "@in":
            coded_left = _coded(ast, left, scope)
            if coded_left is not None and not coded_left.is_list:
                _check(coded_left, _literals(right, True), problems)
            coded_right = _coded(ast, right, scope)
            if coded_right is not None and coded_right.is_list:
                _check(coded_right, _literals(left, False), problems)
    for child in e.args:
        _visit(ast, child, scope, problems)

