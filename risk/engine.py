"""The tier engine: compile a rule set once, then assess applications (pure: no DB, no Flask).

Conditions are CEL, compiled and type-checked by cel-expr-python (Google's C++ CEL) against the
application fields declared in registry.vocab. Each compiled condition is also translated from
the library's checked tree into Python (risk.pyfast); all conditions of a rule set become one
generated function. A condition the translator does not cover, or one whose Python form raises
for an application, is evaluated by the library itself, so results always equal the library's
(tests/unit/risk/test_equivalence.py checks that on random applications).
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

from cel_expr_python import cel

from tierwatch.risk import appdata
from tierwatch.risk.appdata import FIELD_TYPES, normalize_application
from tierwatch.risk.celast import decode_checked, walk
from tierwatch.risk.codes import check_codes
from tierwatch.risk.loader import load_ruleset
from tierwatch.risk.pyfast import HELPERS, Translator, Unsupported
from tierwatch.risk.ruleset import (
    TIER_RANK, LegalBasis, Obligation, Rule, RuleFileError, RuleRuntimeError, RuleSet,
    RuleSetInvalid, Text,
)

__all__ = ["load_ruleset", "compile_ruleset", "load_and_compile", "CompiledRuleSet",
           "Assessment", "FiredRule", "normalize_application"]

_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")


class FiredRule(NamedTuple):
    rule_id: str
    tier: str | None
    points: int
    reason: Text
    legal_basis: tuple[LegalBasis, ...]
    evidence: dict[str, Any]  # field -> the filed value the condition read

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "tier": self.tier, "points": self.points,
                "reason": self.reason.as_dict(),
                "legal_basis": [b.as_dict() for b in self.legal_basis], "evidence": self.evidence}


class Assessment(NamedTuple):
    jurisdiction: str
    checksum: str  # of the rule file that produced it
    tier: str
    score: int
    fired: tuple[FiredRule, ...]
    obligations: tuple[Obligation, ...]

    @property
    def fired_ids(self) -> list[str]:
        return [f.rule_id for f in self.fired]


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    program: Any  # cel_expr_python Expression
    fields: tuple[str, ...]
    python: str | None  # the translated condition; None when the library evaluates it


class CompiledRuleSet:
    """A rule set ready to assess applications; build it with compile_ruleset()."""

    def __init__(self, ruleset: RuleSet, rules: list[_CompiledRule]):
        self.ruleset = ruleset
        self.jurisdiction = ruleset.jurisdiction
        self.rules = tuple(rules)
        self.source = _generate(self.rules)
        namespace: dict[str, Any] = dict(HELPERS, **appdata.HELPERS, _slow=self._library_says)
        # Reviewed: the source is built by risk.pyfast.Translator from the checked CEL tree only
        # (a whitelist of node kinds and overloads; constants through repr(); names only of the
        # fixed application fields), bounded in size (MAX_CONDITION_CHARS, MAX_LOOP_DEPTH,
        # pyfast.MAX_UNROLLED_SOURCE). No text of the rule file reaches it unquoted.
        exec(compile(self.source, f"<rules {ruleset.jurisdiction}>", "exec"), namespace)  # nosec B102
        self._fired_indexes = namespace["_fired"]
        # Per rule: a function building its evidence (a dict display beats a comprehension).
        # (r.fields are application field names from risk.appdata.FIELD_TYPES, repr'd.)
        self._evidence = [eval("lambda get: {" + ", ".join(f"{n!r}: get({n!r})" for n in r.fields) + "}")  # nosec B307
                          for r in self.rules]
        self._tier_obligations = {t: tier.obligations for t, tier in ruleset.tiers.items()}
        self._adds_obligations = frozenset(r.id for r in ruleset.rules if r.obligations)
        self._obligation_cache: dict[tuple[str, tuple[str, ...]], tuple[Obligation, ...]] = {}
        self._thresholds = tuple(reversed(ruleset.combine.thresholds))

    @property
    def translated(self) -> int:
        return sum(1 for r in self.rules if r.python is not None)

    def assess(self, app: Mapping[str, Any], app_ref: object = "?") -> Assessment:
        """Tier, fired rules with their reasons, legal basis and evidence, and obligations.
        Raises ApplicationDataError (mistyped field) or RuleRuntimeError (a condition failed)."""
        return self._explain(app, self._fired_indexes(app, app_ref))

    def assess_with_library(self, app: Mapping[str, Any], app_ref: object = "?") -> Assessment:
        """The same result with the library interpreting every rule: the benchmark's baseline."""
        values = normalize_application(app, app_ref)
        return self._explain(app, [i for i in range(len(self.rules)) if self._library_says(i, values, app_ref)])

    def _explain(self, app: Mapping[str, Any], indexes: list[int]) -> Assessment:
        fired = []
        get = app.get
        rules, evidence = self.rules, self._evidence
        for index in indexes:
            rule = rules[index].rule
            fired.append(FiredRule(rule.id, rule.tier, rule.points, rule.reason, rule.legal_basis,
                                   evidence[index](get)))
        return self._combine(fired)

    def assess_many(self, apps: Iterable[tuple[object, Mapping[str, Any]]]) -> list[tuple[object, Assessment]]:
        """(ref, application) pairs -> (ref, Assessment) pairs; the first failure raises.

        The cyclic garbage collector is paused meanwhile: assessments are acyclic tuples and
        dicts, and on 100,000 applications its repeated scans of the growing result cost a
        third of the time (see bench/README.md)."""
        assess = self.assess
        with _gc_paused():
            return [(ref, assess(app, ref)) for ref, app in apps]

    def fired_rules(self, app: Mapping[str, Any], app_ref: object = "?") -> list[str]:
        return [self.rules[i].rule.id for i in self._fired_indexes(app, app_ref)]

    def evaluate_with_library(self, app: Mapping[str, Any], app_ref: object = "?") -> list[str]:
        """The rules the library alone says fire (tests compare the fast path with it)."""
        return self.assess_with_library(app, app_ref).fired_ids

    def _library_says(self, index: int, values: dict[str, Any], app_ref: object) -> bool:
        compiled = self.rules[index]
        result = compiled.program.eval(data=values)
        if result.type() == cel.Type.ERROR:
            raise RuleRuntimeError(compiled.rule, self.ruleset.filename, app_ref, str(result.value()))
        return bool(result.value())

    def _combine(self, fired: list[FiredRule]) -> Assessment:
        rs = self.ruleset
        tier = rs.default_tier
        score = 0
        for f in fired:
            score += f.points
            if f.tier is not None and TIER_RANK[f.tier] > TIER_RANK[tier]:
                tier = f.tier
        for threshold_tier, minimum in self._thresholds:
            if score >= minimum:
                if TIER_RANK[threshold_tier] > TIER_RANK[tier]:
                    tier = threshold_tier
                break
        adding = tuple(f.rule_id for f in fired if f.rule_id in self._adds_obligations)
        if adding:
            key = (tier, adding)
            obligations = self._obligation_cache.get(key)
            if obligations is None:
                obligations = self._obligation_cache[key] = rs.obligations_for(tier, adding)
        else:
            obligations = self._tier_obligations[tier]
        return Assessment(rs.jurisdiction, rs.checksum, tier, score, tuple(fired), obligations)


@contextmanager
def _gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Bounds on a condition, so that an uploaded rule file cannot cost minutes or gigabytes to
# compile or to run over the registry: loops within loops multiply (three levels over lists of
# a hundred already make a million steps per application). Real conditions: < 600 characters,
# macros nested at most twice.
MAX_CONDITION_CHARS = 4000
MAX_LOOP_DEPTH = 3


def compile_ruleset(ruleset: RuleSet) -> CompiledRuleSet:
    """Compile every condition; all failures are reported together, naming file, line and rule."""
    env = cel.NewEnv(variables=FIELD_TYPES)
    errors: list[RuleFileError] = []
    compiled: list[_CompiledRule] = []
    for rule in ruleset.rules:
        line = rule.condition_line or rule.line
        if len(rule.condition) > MAX_CONDITION_CHARS:
            errors.append(RuleFileError(ruleset.filename, line, rule.id,
                                        f"condition longer than {MAX_CONDITION_CHARS} characters"))
            continue
        try:
            program = env.compile(rule.condition)
            ast = decode_checked(program.serialize()) if program.return_type() == cel.Type.BOOL else None
        except RecursionError:
            errors.append(RuleFileError(ruleset.filename, line, rule.id, "condition nested too deeply"))
            continue
        except RuntimeError as exc:
            errors.append(RuleFileError(ruleset.filename, line, rule.id, _compile_message(str(exc))))
            continue
        if ast is None:
            errors.append(RuleFileError(ruleset.filename, line, rule.id,
                                        f"condition must be true/false, not {program.return_type().name()}"))
            continue
        depth = loop_depth(ast.expr)
        if depth > MAX_LOOP_DEPTH:
            errors.append(RuleFileError(ruleset.filename, line, rule.id,
                                        f"macros (exists, all, map, filter) nested {depth} deep; at most {MAX_LOOP_DEPTH}"))
            continue
        errors += [RuleFileError(ruleset.filename, line, rule.id, m) for m in check_codes(ast)]
        translator = Translator(ast, set(FIELD_TYPES), local=appdata.local)
        try:
            python: str | None = translator.translate()
        except Unsupported:
            python = None
        compiled.append(_CompiledRule(rule, program, _fields_of(ast), python))
    if errors:
        raise RuleSetInvalid(errors)
    return CompiledRuleSet(ruleset, compiled)


def loop_depth(expr: Any) -> int:
    """How deeply comprehensions (the macros' expansions) nest in a checked expression."""
    deepest, stack = 0, [(expr, 0)]
    while stack:  # iterative: a deep expression must not exhaust Python's stack here
        node, depth = stack.pop()
        c = node.comprehension
        if c is not None:
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((part, depth) for part in (c.iter_range, c.accu_init, c.loop_condition, c.loop_step, c.result))
        stack.extend((child, depth) for child in node.args)
    return deepest


def load_and_compile(path_or_text: str | Path, filename: str | None = None) -> CompiledRuleSet:
    return compile_ruleset(load_ruleset(path_or_text, filename))


def _fields_of(ast: Any) -> tuple[str, ...]:
    names = {ast.names.get(n.id, n.value) for n in walk(ast.expr) if n.kind == "ident"}
    return tuple(sorted(names & set(FIELD_TYPES)))


def _compile_message(raw: str) -> str:
    """The checker's first error, with its position inside the condition."""
    for line in raw.splitlines():
        match = _POSITION.search(line)
        if match:
            row, col, message = match.groups()
            message = message.replace("undeclared reference to", "unknown field")
            return f"condition {row}:{col}: {message}"
    return raw.splitlines()[0] if raw else "condition does not compile"


def _generate(rules: tuple[_CompiledRule, ...]) -> str:
    """One function: check the application's fields, then test every condition in order."""
    values = appdata.values_expr()
    lines = ["def _fired(app, ref):", *appdata.normalizer_lines(), "    out = []"]
    for index, r in enumerate(rules):
        lines.append(f"    # {r.rule.id}")
        if r.python is None:
            lines.append(f"    if _slow({index}, {values}, ref): out.append({index})")
            continue
        lines += [
            "    try:",
            f"        if {r.python}: out.append({index})",
            "    except Exception:",  # CEL's error semantics: let the library decide
            f"        if _slow({index}, {values}, ref): out.append({index})",
        ]
    lines.append("    return out")
    return "\n".join(lines) + "\n"
