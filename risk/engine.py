"""The tier engine: compile a rule set once, then assess applications (pure: no DB, no Flask).

Conditions are CEL, compiled and type-checked by cel-expr-python (Google's C++ CEL) against the
application fields declared in registry.vocab. Each compiled condition is also translated from
the library's checked tree into Python (risk.pyfast); all conditions of a rule set become one
generated function. A condition the translator does not cover, or one whose Python form raises
for an application, is evaluated by the library itself, so results always equal the library's
(tests/unit/risk/test_equivalence.py checks that on random applications).

What an assessment is made of (schema version 2):
- rules decide the tier on the filed facts (never on free text);
- text checks read the free text through the rule set's signals (risk.textmatch): they raise a
  tier only where the question the text speaks to is unanswered or "unknown", and flag the
  filing for review where the answer contradicts the text;
- exemptions set rules aside only on explicit answers plus a written justification, and are
  always flagged for review;
- review checks flag (unanswered questions, contradictions) and findings list compliance gaps
  with their obligations and deadlines; neither moves the tier;
- under score combination the margin to the neighbouring tiers is part of the result.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence

from cel_expr_python import cel

from tierwatch.registry.vocab import ANSWER_FIELDS, APPLICATION_FIELDS, MIN_JUSTIFICATION
from tierwatch.risk import appdata
from tierwatch.risk.appdata import FIELD_TYPES, normalize_application
from tierwatch.risk.celast import decode_checked, walk
from tierwatch.risk.codes import check_codes
from tierwatch.risk.loader import load_ruleset
from tierwatch.risk.pyfast import HELPERS, Translator, Unsupported
from tierwatch.risk.ruleset import (
    TIER_RANK, Exemption, LegalBasis, Obligation, RuleFileError, RuleRuntimeError,
    RuleSet, RuleSetInvalid, Text, TextCheck,
)
from tierwatch.risk.textmatch import Lexicon, SignalHit, SignalSpec

__all__ = ["load_ruleset", "compile_ruleset", "load_and_compile", "CompiledRuleSet",
           "Assessment", "FiredRule", "ReviewFlag", "FindingResult", "Margin", "normalize_application"]

_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")
TEXT_FIELDS = frozenset({"name", "version", "scenario", "description"})



class FiredRule(NamedTuple):
    rule_id: str
    tier: str | None
    points: int
    reason: Text
    legal_basis: tuple[LegalBasis, ...]
    fields: tuple[str, ...]  # the filing fields the condition read: their values are the evidence
    evidence: Mapping[str, Any] = MappingProxyType({})  # a text check's: signal, terms found, question, answer

    def values(self, app: Mapping[str, Any]) -> dict[str, Any]:
        """The filed values this rule read, from the application version it assessed."""
        return filed_values(self.fields, app)

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "tier": self.tier, "points": self.points,
                "reason": self.reason.as_dict(), "fields": list(self.fields),
                "legal_basis": [b.as_dict() for b in self.legal_basis], "evidence": dict(self.evidence)}


class ReviewFlag(NamedTuple):
    """Why a filing goes to the regulator's review queue, with the evidence."""

    id: str  # the check, text check or exemption that raised it
    kind: str  # see FLAG_KINDS
    message: Text
    fields: tuple[str, ...] = ()  # filing fields a review check read
    evidence: Mapping[str, Any] = MappingProxyType({})  # a text check's: signal, terms found, question, answer

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "message": self.message.as_dict(), "fields": list(self.fields),
                "evidence": dict(self.evidence)}


FLAG_KINDS = {
    "unanswered": "a question the law turns on is not answered",
    "contradiction": "answers contradict each other or the filed profile",
    "attention": "a fact a reviewer should look at",
    "provisional_from_text": "the tier was raised by the text because a question is unanswered",
    "text_suggests": "the text suggests a practice a question is not answered about",
    "text_contradicts_answer": "the text suggests a practice the answers deny",
    "exemption_applied": "rules were set aside on an exemption claim",
    "exemption_without_justification": "an exemption was claimed without a written justification",
    "exemption_void": "an exemption was claimed but the filed facts rule it out",
    "near_threshold": "the score is close to the next tier",
}


class FindingResult(NamedTuple):
    """A compliance gap: what must be done, by when, and why; it does not move the tier."""

    finding_id: str
    reason: Text
    legal_basis: tuple[LegalBasis, ...]
    obligations: tuple[Obligation, ...]
    fields: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"finding_id": self.finding_id, "reason": self.reason.as_dict(),
                "legal_basis": [b.as_dict() for b in self.legal_basis],
                "obligations": [o.as_dict() for o in self.obligations], "fields": list(self.fields)}


class Margin(NamedTuple):
    """Where a score sits between thresholds ("2 points from high")."""

    score: int
    score_tier: str  # the tier the points alone give
    next_tier: str | None  # the tier above the points' tier, if any
    points_to_next: int | None
    lower_tier: str | None  # the tier the points drop to on losing `points_to_lower`
    points_to_lower: int | None
    floor_rules: tuple[str, ...]  # rules whose own tier sets the tier above the points'

    def as_dict(self) -> dict[str, Any]:
        return dict(self._asdict(), floor_rules=list(self.floor_rules), text=self.text().as_dict())

    def text(self) -> Text:
        zh, en = [], []
        if self.next_tier is not None:
            zh.append(f"距{_TIER_ZH[self.next_tier]}还差{self.points_to_next}分")
            en.append(f"{self.points_to_next} point{'s' * (self.points_to_next != 1)} from {self.next_tier}")
        if self.lower_tier is not None:
            zh.append(f"少{self.points_to_lower}分即降为{_TIER_ZH[self.lower_tier]}")
            en.append(f"{self.points_to_lower} point{'s' * (self.points_to_lower != 1)} less would be "
                      f"{self.lower_tier}")
        if self.floor_rules:
            zh.append(f"等级由规则{'、'.join(self.floor_rules)}直接确定，与分数无关")
            en.append(f"the tier is set by {', '.join(self.floor_rules)} whatever the points")
        return Text("；".join(zh) or "无", "; ".join(en) or "none")


_TIER_ZH = {"low": "低风险", "medium": "中风险", "high": "高风险", "prohibited": "禁止"}


class Assessment(NamedTuple):
    jurisdiction: str
    checksum: str  # of the rule file that produced it
    tier: str
    score: int
    fired: tuple[FiredRule, ...]
    obligations: tuple[Obligation, ...]
    flags: tuple[ReviewFlag, ...] = ()
    findings: tuple[FindingResult, ...] = ()
    suspended: tuple[tuple[str, str], ...] = ()  # (rule or finding id, exemption id)
    margin: Margin | None = None

    @property
    def fired_ids(self) -> list[str]:
        return [f.rule_id for f in self.fired]

    @property
    def flag_kinds(self) -> set[str]:
        return {f.kind for f in self.flags}

    def fired_dicts(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self.fired]

    def obligation_dicts(self) -> list[dict[str, Any]]:
        return [o.as_dict() for o in self.obligations]


@dataclass(frozen=True)
class _CompiledCheck:
    kind: str  # rule, review, finding, unless (of an exemption), raise_if (of a text check)
    item: Any  # Rule, ReviewCheck, Finding, Exemption
    program: Any  # cel_expr_python Expression
    fields: tuple[str, ...]
    python: str | None  # the translated condition; None when the library evaluates it

    @property
    def rule(self) -> Any:  # what RuleRuntimeError names
        return _UnlessRef(self.item) if self.kind == "unless" else self.item


class _UnlessRef(NamedTuple):
    item: Exemption

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def condition_line(self) -> int | None:
        return self.item.unless_line

    @property
    def line(self) -> int | None:
        return self.item.line


_NO_FLAGS: tuple[ReviewFlag, ...] = ()
_UNSET = object()
_NO_DELTA: tuple[Any, ...] = ((), (), (), frozenset(), ((), ()))
TEXT_SIGNALS = "text_signals"  # a filing's stored text matches: (signals_key, {signal: SignalHit} | None)
_EMPTY: Mapping[str, Any] = {}
_RULE, _REVIEW, _FINDING = 0, 1, 2
_ASSESSMENT_CACHE = 100_000  # distinct outcomes kept per compiled rule set
_BATCH = 512  # filings whose conditions run before their results are assembled (assess_many)
_NOTHING: frozenset[str] = frozenset()
_MAIN = frozenset({"rule", "review", "finding"})  # evaluated for every application


class CompiledRuleSet:
    """A rule set ready to assess applications; build it with compile_ruleset()."""

    def __init__(self, ruleset: RuleSet, checks: list[_CompiledCheck], hoisted: frozenset[str] = frozenset()):
        self.ruleset = ruleset
        self.jurisdiction = ruleset.jurisdiction
        self.checks = tuple(checks)
        self.rules = tuple(c for c in self.checks if c.kind == "rule")  # the tier's rules, in order
        self._hoisted = hoisted
        self._unless = {c.item.id: i for i, c in enumerate(self.checks) if c.kind == "unless"}
        self._raise_if = {c.item.id: i for i, c in enumerate(self.checks) if c.kind == "raise_if"}
        self.lexicon = Lexicon(SignalSpec(s.name, s.phrases, s.groups) for s in ruleset.signals.values()) \
            if ruleset.text_checks else None
        self.signals_key = signals_key(ruleset) if self.lexicon is not None else None
        self.source = _generate(self.checks, ruleset.exemptions, self._unless, ruleset.text_checks,
                                self._raise_if, self.lexicon is not None, hoisted)
        namespace: dict[str, Any] = dict(HELPERS, **appdata.HELPERS, _slow=self._library_says, _holds=_holds,
                                         _match=self.lexicon.match if self.lexicon else None,
                                         _SIGNALS_KEY=self.signals_key, _pick_answers=appdata.answer_picker(hoisted))
        # Reviewed: the source is built by risk.pyfast.Translator from the checked CEL tree only
        # (a whitelist of node kinds and overloads; constants through repr(); names only of the
        # fixed application fields), bounded in size (MAX_CONDITION_CHARS, MAX_LOOP_DEPTH,
        # pyfast.MAX_UNROLLED_SOURCE). Ids, signal names and questions reach it through repr().
        exec(compile(self.source, f"<rules {ruleset.jurisdiction}>", "exec"), namespace)  # nosec B102
        self._run = namespace["_run"]
        self._plan = [_plan_entry(c) for c in self.checks]
        self._assessments: dict[Any, Assessment] = {}
        # Parts of assessments (see _build): deltas, rule bases, rule outcomes, review flags, findings.
        self._parts: tuple[dict[Any, Any], ...] = ({}, {}, {}, {}, {})
        kinds = [c.kind for c in self.checks]  # rules, then review checks, then findings (compile order)
        self._reviews_start = next((i for i, k in enumerate(kinds) if k != "rule"), len(kinds))
        self._findings_start = next((i for i, k in enumerate(kinds) if k not in ("rule", "review")), len(kinds))
        self._margin_cache: dict[tuple[Any, ...], tuple[Margin, ReviewFlag | None]] = {}
        self._tier_obligations = {t: tier.obligations for t, tier in ruleset.tiers.items()}
        self._adds_obligations = frozenset(r.id for r in ruleset.rules if r.obligations)
        self._obligation_cache: dict[tuple[Any, ...], tuple[Obligation, ...]] = {}
        self._thresholds = tuple(reversed(ruleset.combine.thresholds))
        self._top_tier = self._thresholds[0][0] if self._thresholds else None
        self._text_checks: dict[str, list[TextCheck]] = {}
        for t in ruleset.text_checks:
            self._text_checks.setdefault(t.signal, []).append(t)
        self._signal_questions = {name: tuple(dict.fromkeys(t.question for t in checks))
                                  for name, checks in self._text_checks.items()}
        for name in ruleset.signals:  # a signal no text check reads keys on its phrases alone
            self._signal_questions.setdefault(name, ())
        self._signal_lists = frozenset(name for name, qs in self._signal_questions.items()
                                       if any(APPLICATION_FIELDS[q][0] == "set" for q in qs))
        self._exemption_flags = {(i, kind): flag for i, e in enumerate(ruleset.exemptions)
                                 for kind, flag in _exemption_flags(e).items()}
        self._question_kinds = {q: APPLICATION_FIELDS[q][0] for q in ANSWER_FIELDS}

    @property
    def translated(self) -> int:
        return sum(1 for c in self.checks if c.python is not None)

    def text_signals(self, app: Mapping[str, Any]) -> dict[str, SignalHit] | None:
        """What this rule set's signals find in a filing's free text (None: nothing)."""
        if self.lexicon is None:
            return None
        return self.lexicon.match(app.get("name") or "", app.get("scenario") or "", app.get("description") or "")

    def quote(self, app: Mapping[str, Any], evidence: Mapping[str, Any]) -> dict[str, Any]:
        """Text evidence as shown: the phrases found and the sentence of the filing they were
        found in (matched again on the assessed version's text, as the assessment did)."""
        hits = self.text_signals(app) or {}
        hit = hits.get(evidence.get("signal", ""))
        return {**evidence, "snippet": hit.snippet if hit is not None else None}

    def with_text_signals(self, app: Mapping[str, Any],
                          signals: dict[str, SignalHit] | None | object = _UNSET) -> Mapping[str, Any]:
        """The filing with its text matches attached (`text_signals`), as stored matches are
        handed back when a rule set's signals did not change: `assess` then reads them instead
        of matching again. Without `signals`, they are matched here."""
        if self.lexicon is None:
            return app
        found = self.text_signals(app) if signals is _UNSET else signals
        return {**app, TEXT_SIGNALS: (self.signals_key, found)}

    def assess(self, app: Mapping[str, Any], app_ref: object = "?") -> Assessment:
        """Tier, fired rules with their reasons, legal basis and evidence, obligations, review
        flags, findings and margin. Raises ApplicationDataError (mistyped field) or
        RuleRuntimeError (a condition failed)."""
        out, claims, signals, raised = self._run(app, app_ref)
        return self._explain(app, out, claims, signals, raised)

    def assess_with_library(self, app: Mapping[str, Any], app_ref: object = "?") -> Assessment:
        """The same result with the library interpreting every condition: the benchmark's baseline."""
        values = normalize_application(app, app_ref)
        out = [i for i, c in enumerate(self.checks) if c.kind in _MAIN and self._library_says(i, values, app_ref)]
        justifications = app.get("justifications") or {}
        claims = []
        for index, e in enumerate(self.ruleset.exemptions):
            if all(_holds(values[q], accepted) for q, accepted in e.requires):
                void = e.id in self._unless and self._library_says(self._unless[e.id], values, app_ref)
                claims.append((index, _justified(justifications, e.justification), void))
        stored = app.get(TEXT_SIGNALS)
        if self.lexicon is None:
            signals = None
        elif type(stored) is tuple and stored[0] == self.signals_key:
            signals = stored[1]
        else:
            signals = self.lexicon.match(values["name"], values["scenario"], values["description"])
        raised = None
        if signals:
            raised = {t.id for t in self.ruleset.text_checks if t.signal in signals and t.id in self._raise_if
                      and self._library_says(self._raise_if[t.id], values, app_ref)}
        return self._build(app, out, claims or None, signals, raised)

    def assess_many(self, apps: Iterable[tuple[object, Mapping[str, Any]]]) -> list[tuple[object, Assessment]]:
        """(ref, application) pairs -> (ref, Assessment) pairs; the first failure raises.

        The cyclic garbage collector is paused meanwhile: assessments are acyclic tuples and
        dicts, and on 100,000 applications its repeated scans of the growing result cost a
        third of the time (see bench/README.md). Filings go through in batches, conditions for
        the batch first, then its results: alternating the generated function and the result
        assembly for every filing was ~20 % slower on answered filings (measured; bench/README.md)."""
        run, explain = self._run, self._explain
        out: list[tuple[object, Assessment]] = []
        batch: list[tuple[object, Mapping[str, Any], Any]] = []
        with _gc_paused():
            for ref, app in apps:
                batch.append((ref, app, run(app, ref)))
                if len(batch) == _BATCH:
                    out += [(ref, explain(app, *outcome)) for ref, app, outcome in batch]
                    batch.clear()
            out += [(ref, explain(app, *outcome)) for ref, app, outcome in batch]
        return out

    def fired_rules(self, app: Mapping[str, Any], app_ref: object = "?") -> list[str]:
        """Ids of every rule, review check and finding whose condition holds (fast path)."""
        return [self.checks[i].item.id for i in self._run(app, app_ref)[0]]

    def evaluate_with_library(self, app: Mapping[str, Any], app_ref: object = "?") -> list[str]:
        """The same ids with the library alone evaluating (tests compare the two paths)."""
        values = normalize_application(app, app_ref)
        return [c.item.id for i, c in enumerate(self.checks)
                if c.kind in _MAIN and self._library_says(i, values, app_ref)]

    def _library_says(self, index: int, values: dict[str, Any], app_ref: object) -> bool:
        compiled = self.checks[index]
        result = compiled.program.eval(data=values)
        if result.type() == cel.Type.ERROR:
            raise RuleRuntimeError(compiled.rule, self.ruleset.filename, app_ref, str(result.value()))
        return bool(result.value())

    # --- from fired conditions to an explained assessment ----------------------------------

    def _explain(self, app: Mapping[str, Any], indexes: list[int], claims: list[tuple[int, bool, bool]] | None,
                 signals: dict[str, SignalHit] | None, raised: set[str] | None) -> Assessment:
        """The assessment for these outcomes. Fact-based results carry no per-filing values
        (their evidence is the fields they read, whose values the assessed version holds), so
        filings with the same outcome share one immutable Assessment."""
        delta_key = None
        if claims is None and signals is None:
            key: Any = tuple(indexes)
        else:
            # The claims and the text evidence kept (signal, phrases, the answers its checks
            # read) are part of the result; the sentence quoted is not (see quote()).
            delta_key = (tuple(claims) if claims else (),
                         self._text_key(signals, app.get("answers") or _EMPTY) if signals else (),
                         frozenset(raised) if raised else _NOTHING)
            key = (tuple(indexes), delta_key)
        cache = self._assessments
        found = cache.get(key)
        if found is None:
            if len(cache) >= _ASSESSMENT_CACHE:
                cache.clear()
            found = cache[key] = self._build(app, indexes, claims, signals, raised, delta_key)
        return found

    def _text_key(self, signals: dict[str, SignalHit], answers: Mapping[str, Any]) -> tuple[Any, ...]:
        questions, listed = self._signal_questions, self._signal_lists
        return tuple((name, hit.terms, tuple(_hashable(answers.get(q)) for q in questions[name]) if name in listed
                      else tuple(map(answers.get, questions[name]))) for name, hit in signals.items())

    def _build(self, app: Mapping[str, Any], indexes: Sequence[int], claims: list[tuple[int, bool, bool]] | None,
               signals: dict[str, SignalHit] | None, raised: set[str] | None, delta_key: Any = None) -> Assessment:
        """Assemble an assessment from parts, each cached by what it depends on: the exemption
        claims and text checks (a "delta": exemptions applied, rules text raised, their flags),
        the rules' outcome (tier, score, margin, obligations) given the delta, the review flags,
        the findings. Answered filings combine the parts in many ways; each part recurs."""
        deltas, bases, outcomes, reviews_of, findings_of = self._parts
        if sum(map(len, self._parts)) >= _ASSESSMENT_CACHE:
            for part in self._parts:
                part.clear()
        if claims or signals:
            if delta_key is None:
                delta_key = (tuple(claims) if claims else (),
                             self._text_key(signals, app.get("answers") or _EMPTY) if signals else (),
                             frozenset(raised) if raised else _NOTHING)
            delta = deltas.get(delta_key)
            if delta is None:
                delta = deltas[delta_key] = self._delta(claims, signals, raised or _NOTHING, app.get("answers") or _EMPTY)
        else:
            delta = _NO_DELTA
        exempted, text_fired, extra_flags, gone, outcome_tag = delta
        rules_end = bisect_left(indexes, self._reviews_start)
        findings_start = bisect_left(indexes, self._findings_start, rules_end)
        plan = self._plan
        rule_idx = tuple(indexes[:rules_end])
        base_key = (rule_idx, gone)
        base = bases.get(base_key)
        if base is None:
            base = bases[base_key] = tuple(f for f in (plan[i][1] for i in rule_idx) if f.rule_id not in gone)
        # The outcome depends on which rules fired, not on the text evidence they carry.
        outcome_key = (base_key, outcome_tag)
        rules = outcomes.get(outcome_key)
        if rules is None:
            rules = outcomes[outcome_key] = self._combine(list(base + text_fired), (), (), (), list(exempted))
        review_idx = tuple(indexes[rules_end:findings_start])
        reviews = reviews_of.get(review_idx)
        if reviews is None:
            reviews = reviews_of[review_idx] = tuple(plan[i][1] for i in review_idx)
        finding_idx = tuple(indexes[findings_start:])
        findings = findings_of.get((finding_idx, gone))
        if findings is None:
            findings = findings_of[(finding_idx, gone)] = tuple(
                f for f in (plan[i][1] for i in finding_idx) if f.finding_id not in gone)
        suspended: tuple[tuple[str, str], ...] = ()
        if exempted:
            present = {plan[i][1].rule_id for i in rule_idx} | {plan[i][1].finding_id for i in finding_idx}
            suspended = tuple((t, e.id) for e in exempted for t in e.suspends if t in present)
        return Assessment(rules.jurisdiction, rules.checksum, rules.tier, rules.score,
                          base + text_fired if text_fired else base, rules.obligations,
                          reviews + extra_flags + rules.flags if (extra_flags or rules.flags) else reviews,
                          findings, suspended, rules.margin)

    def _delta(self, claims: list[tuple[int, bool, bool]] | None, signals: dict[str, SignalHit] | None,
               raised: set[str] | frozenset[str], answers: Mapping[str, Any]) -> tuple[Any, ...]:
        """(exemptions applied, rules the text raised, the flags of both, ids set aside, and what
        of it the tier depends on)."""
        flags: list[ReviewFlag] = []
        exempted: list[Exemption] = []
        fired: list[FiredRule] = []
        if claims:
            self._exemptions(claims, flags, exempted)
        if signals:
            self._text(signals, raised, answers, fired, flags)
        gone = frozenset(t for e in exempted for t in e.suspends)
        outcome_tag = (tuple(e.id for e in exempted), tuple(f.rule_id for f in fired))
        return tuple(exempted), tuple(fired), tuple(flags), gone, outcome_tag

    def _exemptions(self, claims: list[tuple[int, bool, bool]], flags: list[ReviewFlag],
                    exempted: list[Exemption]) -> None:
        for index, justified, void in claims:
            kind = "exemption_void" if void else "exemption_applied" if justified else "exemption_without_justification"
            if kind == "exemption_applied":
                exempted.append(self.ruleset.exemptions[index])
            flags.append(self._exemption_flags[(index, kind)])

    def _text(self, signals: dict[str, SignalHit], raised: set[str], answers: Mapping[str, Any],
              fired: list[FiredRule], flags: list[ReviewFlag]) -> None:
        for name, hit in signals.items():
            for t in self._text_checks.get(name, ()):
                state = _answer_state(answers.get(t.question), t.answer, self._question_kinds[t.question])
                if state == "agrees":
                    continue
                # The sentence quoted is found again when the assessment is explained
                # (CompiledRuleSet.quote), so filings alike but for their own words share a result.
                evidence = MappingProxyType({"signal": name, "terms": hit.terms, "question": t.question,
                                             "answer": answers.get(t.question)})
                if state == "denied":
                    flags.append(ReviewFlag(t.id, "text_contradicts_answer", Text(
                        f"{t.message.zh}（文字描述与申报回答不一致）",
                        f"{t.message.en} (the text contradicts the answer given)"), evidence=evidence))
                elif t.raises_to is not None and (t.raise_if is None or t.id in raised):
                    fired.append(FiredRule(t.id, t.raises_to, 0, t.message, t.legal_basis, (), evidence))
                    flags.append(ReviewFlag(t.id, "provisional_from_text", Text(
                        f"{t.message.zh}（问题“{t.question}”未作答，等级暂按文字描述提高）",
                        f"{t.message.en} (question {t.question} is unanswered, so the text raises the tier "
                        f"for now)"), evidence=evidence))
                else:
                    flags.append(ReviewFlag(t.id, "text_suggests", t.message, evidence=evidence))

    def _combine(self, fired: list[FiredRule], flags: tuple[ReviewFlag, ...],
                 findings: tuple[FindingResult, ...], suspended: tuple[tuple[str, str], ...],
                 exempted: list[Exemption]) -> Assessment:
        rs = self.ruleset
        rank = TIER_RANK
        tier = rs.default_tier
        score = 0
        for f in fired:
            score += f.points
            if f.tier is not None and rank[f.tier] > rank[tier]:
                tier = f.tier
        margin = None
        if self._thresholds:
            score_tier = rs.default_tier
            for threshold_tier, minimum in self._thresholds:
                if score >= minimum:
                    score_tier = threshold_tier
                    break
            if rank[score_tier] > rank[tier]:
                tier = score_tier
            floors: tuple[str, ...] = ()
            if tier != score_tier:  # a rule's own tier sits above the points' tier
                floors = tuple(f.rule_id for f in fired if f.tier == tier)
            key = (score, tier, floors)
            cached = self._margin_cache.get(key)
            if cached is None:
                cached = self._margin_cache[key] = self._margin(score, score_tier, tier, floors)
            margin, near_flag = cached
            if near_flag is not None:
                flags = flags + (near_flag,)
        adding = tuple(f.rule_id for f in fired if f.rule_id in self._adds_obligations)
        if adding or exempted:
            key2 = (tier, adding, tuple(e.id for e in exempted))
            obligations = self._obligation_cache.get(key2)
            if obligations is None:
                obligations = rs.obligations_for(tier, adding)
                seen = {o.key for o in obligations}
                extra = [o for e in exempted for o in e.obligations if o.key not in seen]
                obligations = self._obligation_cache[key2] = obligations + tuple(dict.fromkeys(extra))
        else:
            obligations = self._tier_obligations[tier]
        return Assessment(rs.jurisdiction, rs.checksum, tier, score, tuple(fired), obligations, flags,
                          findings, suspended, margin)

    def _margin(self, score: int, score_tier: str, tier: str,
                floors: tuple[str, ...]) -> tuple[Margin, ReviewFlag | None]:
        """The margin of a score, and the near-threshold flag it earns (computed once per key)."""
        ascending = self.ruleset.combine.thresholds
        next_tier = points_to_next = lower_tier = points_to_lower = None
        for threshold_tier, minimum in ascending:
            if minimum > score:
                next_tier, points_to_next = threshold_tier, minimum - score
                break
        below = [t for t, _m in ascending if TIER_RANK[t] < TIER_RANK[score_tier]]
        if score_tier != self.ruleset.default_tier:
            current_min = dict(ascending)[score_tier]
            lower_tier = below[-1] if below else self.ruleset.default_tier
            points_to_lower = score - current_min + 1
        margin = Margin(score, score_tier, next_tier, points_to_next, lower_tier, points_to_lower, floors)
        near = self.ruleset.combine.near_threshold
        flag = None
        # Only the step into the top tier is flagged: that is where the regime changes most.
        if near is not None and points_to_next is not None and points_to_next <= near \
                and next_tier == self._top_tier and TIER_RANK[next_tier] > TIER_RANK[tier]:
            flag = ReviewFlag("NEAR-THRESHOLD", "near_threshold", margin.text(), evidence=MappingProxyType(
                {"score": score, "next_tier": next_tier, "points_to_next": points_to_next}))
        return margin, flag


def _exemption_flags(e: Exemption) -> dict[str, ReviewFlag]:
    """The flags an exemption claim can raise, built once: their fields are the answers and the
    written justification the claim rests on (values are read from the assessed version)."""
    fields = (*(q for q, _a in e.requires), f"justifications.{e.justification}")
    return {
        "exemption_void": ReviewFlag(e.id, "exemption_void", Text(
            f"主张了豁免（{e.reason.zh}），但申报事实排除了该豁免，未予适用。",
            f"An exemption was claimed ({e.reason.en}) but the filed facts rule it out; not applied."), fields),
        "exemption_applied": ReviewFlag(e.id, "exemption_applied", Text(
            f"依据明确回答和书面理由适用豁免：{e.reason.zh}（须人工复核）",
            f"Exemption applied on explicit answers and a written justification: {e.reason.en} (for review)"),
            fields),
        "exemption_without_justification": ReviewFlag(e.id, "exemption_without_justification", Text(
            f"主张了豁免（{e.reason.zh}），但未提供至少{MIN_JUSTIFICATION}字的书面理由，未予适用。",
            f"An exemption was claimed ({e.reason.en}) without a written justification of at least "
            f"{MIN_JUSTIFICATION} characters; not applied."), fields),
    }


def _answer_state(value: Any, answer: str, kind: str) -> str:
    """agrees / denied / unanswered, for what a text check's question was answered."""
    if kind == "set":
        if not value:
            return "unanswered"
        return "agrees" if answer in value else "denied"
    if value is None or value == "" or value == "unknown":
        return "unanswered"
    return "agrees" if value == answer else "denied"


def _holds(value: Any, accepted: tuple[str, ...]) -> bool:
    if type(value) is list:
        return not set(accepted).isdisjoint(value)
    return value in accepted


def _justified(justifications: Mapping[str, str], question: str) -> bool:
    return len((justifications.get(question) or "").strip()) >= MIN_JUSTIFICATION


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
    """Compile every condition; all failures are reported together, naming file, line and id."""
    env = cel.NewEnv(variables=FIELD_TYPES)
    errors: list[RuleFileError] = []
    checked: list[tuple[str, Any, Any, Any, tuple[str, ...]]] = []
    items: list[tuple[str, Any, str, int | None]] = (
        [("rule", r, r.condition, r.condition_line or r.line) for r in ruleset.rules]
        + [("review", r, r.condition, r.condition_line or r.line) for r in ruleset.review]
        + [("finding", f, f.condition, f.condition_line or f.line) for f in ruleset.findings]
        + [("unless", e, e.unless, e.unless_line or e.line) for e in ruleset.exemptions if e.unless]
        + [("raise_if", t, t.raise_if, t.raise_if_line or t.line) for t in ruleset.text_checks if t.raise_if])
    for kind, item, condition, line in items:
        if len(condition) > MAX_CONDITION_CHARS:
            errors.append(RuleFileError(ruleset.filename, line, item.id,
                                        f"condition longer than {MAX_CONDITION_CHARS} characters"))
            continue
        try:
            program = env.compile(condition)
            ast = decode_checked(program.serialize()) if program.return_type() == cel.Type.BOOL else None
        except RecursionError:
            errors.append(RuleFileError(ruleset.filename, line, item.id, "condition nested too deeply"))
            continue
        except RuntimeError as exc:
            errors.append(RuleFileError(ruleset.filename, line, item.id, _compile_message(str(exc))))
            continue
        if ast is None:
            errors.append(RuleFileError(ruleset.filename, line, item.id,
                                        f"condition must be true/false, not {program.return_type().name()}"))
            continue
        depth = loop_depth(ast.expr)
        if depth > MAX_LOOP_DEPTH:
            errors.append(RuleFileError(ruleset.filename, line, item.id,
                                        f"macros (exists, all, map, filter) nested {depth} deep; at most {MAX_LOOP_DEPTH}"))
            continue
        errors += [RuleFileError(ruleset.filename, line, item.id, m) for m in check_codes(ast)]
        fields = _fields_of(ast)
        text = sorted(TEXT_FIELDS.intersection(fields))
        if ruleset.schema_version >= 2 and text:
            errors.append(RuleFileError(ruleset.filename, line, item.id, (
                f"condition reads free text ({', '.join(text)}): text may only raise a tier or flag a "
                f"filing, through text_checks and signals")))
        checked.append((kind, item, program, ast, fields))
    if errors:
        raise RuleSetInvalid(errors)
    # Every question a condition or an exemption reads is copied into a local once per filing:
    # most conditions test their answer first, so a look-up in place would run anyway, and a
    # filing without answers sets them all in one statement.
    hoisted = frozenset(n for *_rest, fields in checked for n in fields if n in ANSWER_FIELDS) \
        | frozenset(q for e in ruleset.exemptions for q, _a in e.requires)
    read = appdata.reader(hoisted)
    compiled: list[_CompiledCheck] = []
    for kind, item, program, ast, fields in checked:
        try:
            python: str | None = Translator(ast, set(FIELD_TYPES), local=read).translate()
        except Unsupported:
            python = None
        compiled.append(_CompiledCheck(kind, item, program, fields, python))
    return CompiledRuleSet(ruleset, compiled, hoisted)


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


def signals_key(ruleset: RuleSet) -> str:
    """What text matches depend on: every signal's phrases and term groups (not labels, not the
    rest of the file). A re-tiering under a file whose key did not change can reuse them."""
    content = [[s.name, list(s.phrases), [list(g) for g in s.groups]] for s in ruleset.signals.values()]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode("utf-8")).hexdigest()


def load_and_compile(path_or_text: str | Path, filename: str | None = None) -> CompiledRuleSet:
    return compile_ruleset(load_ruleset(path_or_text, filename))


def _fields_of(ast: Any) -> tuple[str, ...]:
    names = {ast.names.get(n.id, n.value) for n in walk(ast.expr) if n.kind == "ident"}
    return tuple(sorted(names & set(FIELD_TYPES)))


def _plan_entry(c: _CompiledCheck) -> tuple[int | None, Any]:
    """Each fact-based result is built once, when the rule set is compiled."""
    item = c.item
    if c.kind == "rule":
        return _RULE, FiredRule(item.id, item.tier, item.points, item.reason, item.legal_basis, c.fields)
    if c.kind == "review":
        return _REVIEW, ReviewFlag(item.id, item.flag, item.message, c.fields)
    if c.kind == "finding":
        return _FINDING, FindingResult(item.id, item.reason, item.legal_basis, item.obligations, c.fields)
    return None, None  # unless / raise_if: never listed


def filed_values(fields: Iterable[str], app: Mapping[str, Any]) -> dict[str, Any]:
    """The filed values of these fields: profile fields, answers (`answers` of the filing) and
    written justifications ("justifications.<question>")."""
    answers = app.get("answers") or _EMPTY
    justifications = app.get("justifications") or _EMPTY
    out = {}
    for f in fields:
        if f in ANSWER_FIELDS:
            out[f] = answers.get(f)
        elif f.startswith("justifications."):
            out[f] = justifications.get(f.partition(".")[2])
        else:
            out[f] = app.get(f)
    return out


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _compile_message(raw: str) -> str:
    """The checker's first error, with its position inside the condition."""
    for line in raw.splitlines():
        match = _POSITION.search(line)
        if match:
            row, col, message = match.groups()
            message = message.replace("undeclared reference to", "unknown field")
            return f"condition {row}:{col}: {message}"
    return raw.splitlines()[0] if raw else "condition does not compile"


def _condition_lines(index: int, python: str | None, values: str, indent: str, on_true: str) -> list[str]:
    if python is None:
        return [f"{indent}if _slow({index}, {values}, ref): {on_true}"]
    return [f"{indent}try:",
            f"{indent}    if {python}: {on_true}",
            f"{indent}except Exception:",  # CEL's error semantics: let the library decide
            f"{indent}    if _slow({index}, {values}, ref): {on_true}"]


def _generate(checks: tuple[_CompiledCheck, ...], exemptions: tuple[Exemption, ...],
              unless: dict[str, int], text_checks: tuple[TextCheck, ...], raise_if: dict[str, int],
              has_text: bool, hoisted: frozenset[str]) -> str:
    """One function: check the application's fields, test every condition in order, then the
    exemption claims (only when there are answers) and the text signals."""
    values = appdata.values_expr()
    read = appdata.reader(hoisted)
    lines = ["def _run(app, ref):", *appdata.normalizer_lines(answers=hoisted), "    out = []"]
    for index, c in enumerate(checks):
        if c.kind not in _MAIN:
            continue
        lines.append(f"    # {c.kind} {c.item.id}")
        lines += _condition_lines(index, c.python, values, "    ", f"out.append({index})")
    lines.append("    claims = None")
    if exemptions:
        lines.append("    if x_answers:")
        for index, e in enumerate(exemptions):
            tests = " and ".join(
                f"_holds({read(q)}, {accepted!r})" if APPLICATION_FIELDS[q][0] == "set"
                else f"{read(q)} in {accepted!r}" for q, accepted in e.requires)
            lines += [f"        # exemption {e.id}",
                      f"        if {tests}:",
                      "            void = False"]
            if e.id in unless:
                u = unless[e.id]
                lines += _condition_lines(u, checks[u].python, values, "            ", "void = True")
            lines += ["            if claims is None: claims = []",
                      f"            claims.append(({index}, len((x_justifications.get({e.justification!r}) "
                      f"or '').strip()) >= {MIN_JUSTIFICATION}, void))"]
    lines.append("    raised = None")
    if has_text:
        # Text is read last, and a text check's own condition only when its signal matched.
        # Matches stored for this filing's text under the same signals are read, not redone.
        lines += ["    signals = get('text_signals')",
                  "    if type(signals) is tuple and signals[0] == _SIGNALS_KEY: signals = signals[1]",
                  "    else: signals = _match(x_name, x_scenario, x_description)"]
        guarded = [t for t in text_checks if t.id in raise_if]
        if guarded:
            lines.append("    if signals is not None:")
            for t in guarded:
                i = raise_if[t.id]
                lines += [f"        if {t.signal!r} in signals:"]
                lines += _condition_lines(i, checks[i].python, values, "            ",
                                          f"raised = (raised or set()) | {{{t.id!r}}}")
    else:
        lines.append("    signals = None")
    lines.append("    return out, claims, signals, raised")
    return "\n".join(lines) + "\n"

