"""Rule file -> RuleSet: YAML (keeping line numbers), JSON Schema, then cross-field checks.

Every error names the file, the line and, inside a rule, the rule id. Conditions are compiled
later (risk.engine.compile_ruleset); this module only checks the file's shape and references.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from tierwatch.core.yamlfile import Path_, YamlInvalid, line_of, parse_with_lines
from tierwatch.registry.vocab import QUESTIONS
from tierwatch.risk.ruleset import (
    TIER_RANK, Combine, Exemption, Finding, LegalBasis, Obligation, ReviewCheck, Rule, RuleFileError,
    RuleSet, RuleSetInvalid, Signal, Source, Text, TextCheck, Tier,
)

# The rule files shipped with the package (rules/ in the repository, tierwatch.rules installed).
BUNDLED_RULES = Path(str(files("tierwatch.rules")))
SCHEMA_PATH = BUNDLED_RULES / "schema" / "ruleset.schema.json"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def read_source(path_or_text: str | Path) -> tuple[str, str]:
    """(text, file name). A Path, or a one-line string naming an existing file, is read."""
    if isinstance(path_or_text, Path) or ("\n" not in path_or_text and Path(path_or_text).is_file()):
        path = Path(path_or_text)
        return path.read_text(encoding="utf-8"), str(path)
    return str(path_or_text), "<text>"


def load_ruleset(path_or_text: str | Path, filename: str | None = None) -> RuleSet:
    text, name = read_source(path_or_text)
    name = filename or name
    data, lines = _parse_yaml(text, name)
    errors = [_schema_error(e, data, lines, name) for e in _validator().iter_errors(data)]
    if errors:
        raise RuleSetInvalid(sorted(errors, key=lambda e: (e.line or 0, e.message)))
    ruleset = _build(data, lines, name, text)
    return ruleset


# --- YAML with line numbers (shared with the alert rule loader: core/yamlfile.py) -----------
# Rule files are uploaded by regulators and come through the API: core/yamlfile.py bounds their
# cost before anything is built (no anchors or aliases, a depth, a node count and a size limit).


def _parse_yaml(text: str, name: str) -> tuple[Any, dict[Path_, int]]:
    try:
        data, lines = parse_with_lines(text)
    except YamlInvalid as exc:
        raise RuleSetInvalid([RuleFileError(name, p.line, None, p.message) for p in exc.problems]) from None
    if not isinstance(data, dict):
        raise RuleSetInvalid([RuleFileError(name, 1, None, "a rule file must be a YAML mapping")])
    return data, lines


_LISTED = ("rules", "text_checks", "review", "exemptions", "findings")


def _rule_id_at(data: Any, path: Path_) -> str | None:
    if len(path) >= 2 and path[0] in _LISTED and isinstance(path[1], int):
        items = data.get(path[0]) if isinstance(data, dict) else None
        if isinstance(items, list) and path[1] < len(items) and isinstance(items[path[1]], dict):
            rule_id = items[path[1]].get("id")
            return str(rule_id) if rule_id is not None else f"#{path[1] + 1}"
    return None


def _schema_error(err: jsonschema.ValidationError, data: Any, lines: dict[Path_, int],
                  name: str) -> RuleFileError:
    path = tuple(err.absolute_path)
    where = "/".join(str(p) for p in path) or "(top level)"
    message = err.message
    if err.validator in ("oneOf", "anyOf") and err.context:
        message = "; ".join(sorted({c.message for c in err.context}))
    return RuleFileError(name, line_of(lines, path), _rule_id_at(data, path), f"{where}: {message}")


# --- building the frozen rule set ---------------------------------------------------------

def _text(d: dict[str, str] | None) -> Text | None:
    return Text(d["zh"], d["en"]) if d else None


def _obligation(d: dict[str, Any]) -> Obligation:
    return Obligation(kind=d["kind"], every=d.get("every"), within=d.get("within"),
                      sample=d.get("sample"), on_request=bool(d.get("on_request", False)),
                      level=d.get("level"), note=_text(d.get("note")),
                      working_days=d.get("working_days"), before=d.get("before"))


def _build(data: dict[str, Any], lines: dict[Path_, int], name: str, text: str) -> RuleSet:
    errors: list[RuleFileError] = []

    def fail(path: Path_, message: str) -> None:
        errors.append(RuleFileError(name, line_of(lines, path), _rule_id_at(data, path), message))

    sources = {
        key: Source(key, Text(**s["title"]), _text(s.get("issuer")), s.get("date"), s.get("reference"))
        for key, s in data["sources"].items()
    }
    tiers = {
        tier_id: Tier(tier_id, Text(**t["label"]), tuple(_obligation(o) for o in t["obligations"]))
        for tier_id, t in sorted(data["tiers"].items(), key=lambda kv: TIER_RANK[kv[0]])
    }
    if data["default_tier"] not in tiers:
        fail(("default_tier",), f"default tier {data['default_tier']!r} is not declared under tiers")
    combine = data["combine"]
    thresholds: tuple[tuple[str, int], ...] = ()
    if combine["method"] == "score":
        thresholds = tuple(sorted(combine["thresholds"].items(), key=lambda kv: TIER_RANK[kv[0]]))
        for tier_id, _points in thresholds:
            if tier_id not in tiers:
                fail(("combine", "thresholds", tier_id), f"threshold for undeclared tier {tier_id!r}")
        points = [p for _t, p in thresholds]
        if points != sorted(set(points)):
            fail(("combine", "thresholds"), "thresholds must rise strictly with the tier")

    def legal_bases(path: Path_, items: list[dict[str, Any]]) -> tuple[LegalBasis, ...]:
        bases = []
        for b_index, b in enumerate(items):
            if b["source"] not in sources:
                fail(path + ("legal_basis", b_index, "source"),
                     f"legal basis cites unknown source {b['source']!r} (declare it under sources)")
                continue
            bases.append(LegalBasis(sources[b["source"]], Text(**b["article"]), Text(**b["text"])))
        return tuple(bases)

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, r in enumerate(data["rules"]):
        path: Path_ = ("rules", index)
        if r["id"] in seen:
            fail(path + ("id",), f"duplicate rule id (first defined as rule #{seen[r['id']] + 1})")
        seen.setdefault(r["id"], index)
        if combine["method"] == "highest" and "tier" not in r:
            fail(path, "combine method 'highest' needs a tier on every rule")
        if "tier" in r and r["tier"] not in tiers:
            fail(path + ("tier",), f"tier {r['tier']!r} is not declared under tiers")
        bases = legal_bases(path, r["legal_basis"])
        rules.append(Rule(
            id=r["id"], condition=r["condition"], reason=Text(**r["reason"]),
            legal_basis=tuple(bases), tier=r.get("tier"), points=r.get("points", 0),
            obligations=tuple(_obligation(o) for o in r.get("obligations", [])),
            title=_text(r.get("title")), line=line_of(lines, path),
            condition_line=line_of(lines, path + ("condition",)),
        ))
    ids = {r.id: "rule" for r in rules}
    extras = _build_extras(data, lines, tiers, ids, legal_bases, fail, seen)
    if errors:
        raise RuleSetInvalid(errors)
    return RuleSet(
        jurisdiction=data["jurisdiction"], title=Text(**data["title"]), edition=data["edition"],
        combine=Combine(combine["method"], thresholds, combine.get("near_threshold")),
        default_tier=data["default_tier"],
        tiers=tiers, rules=tuple(rules), sources=sources, source_text=text, filename=name,
        checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        description=_text(data.get("description")), schema_version=data["schema_version"], **extras,
    )


def _terms(d: dict[str, list[str]] | None) -> tuple[str, ...]:
    return tuple((d or {}).get("zh", [])) + tuple((d or {}).get("en", []))


def _build_extras(data: dict[str, Any], lines: dict[Path_, int], tiers: dict[str, Tier],
                  ids: dict[str, str], legal_bases: Any, fail: Any, seen: dict[str, int]) -> dict[str, Any]:
    """signals, text checks, review checks, findings, exemptions (schema version 2)."""
    signals = {
        name: Signal(name, Text(**s["label"]), _terms(s.get("phrases")),
                     tuple(_terms(g) for g in s.get("all_of", [])), line_of(lines, ("signals", name)))
        for name, s in (data.get("signals") or {}).items()
    }

    def unique(path: Path_, item_id: str, kind: str) -> None:
        if item_id in ids:
            fail(path + ("id",), f"duplicate id (already used by a {ids[item_id]})")
        ids[item_id] = kind

    def answer_ok(path: Path_, question: str, answer: str) -> bool:
        q = QUESTIONS.get(question)
        if q is None:
            fail(path, f"unknown question {question!r} (valid: {', '.join(QUESTIONS)})")
            return False
        if q.choices is None or answer not in q.choices:
            fail(path, f"{answer!r} is not an answer to {question} (valid: {', '.join(q.choices or ())})")
            return False
        return True

    text_checks = []
    for index, t in enumerate(data.get("text_checks") or []):
        path: Path_ = ("text_checks", index)
        unique(path, t["id"], "text check")
        if t["signal"] not in signals:
            fail(path + ("signal",), f"unknown signal {t['signal']!r} (declare it under signals)")
        q = QUESTIONS.get(t["question"])
        if q is not None and q.kind in ("choice", "multi") and "answer" not in t:
            fail(path + ("question",), f"question {t['question']} is a choice: say which answer the text suggests")
        answer = t.get("answer", "yes")
        answer_ok(path + ("answer" if "answer" in t else "question",), t["question"], answer)
        if t.get("raises_to") is not None and t["raises_to"] not in tiers:
            fail(path + ("raises_to",), f"tier {t['raises_to']!r} is not declared under tiers")
        if t.get("raise_if") and not t.get("raises_to"):
            fail(path + ("raise_if",), "raise_if needs raises_to")
        text_checks.append(TextCheck(t["id"], t["signal"], t["question"], answer, t.get("raises_to"),
                                     Text(**t["message"]), legal_bases(path, t["legal_basis"]),
                                     t.get("raise_if"), line_of(lines, path),
                                     line_of(lines, path + ("raise_if",))))

    review = []
    for index, r in enumerate(data.get("review") or []):
        path = ("review", index)
        unique(path, r["id"], "review check")
        review.append(ReviewCheck(r["id"], r["condition"], r["flag"], Text(**r["message"]),
                                  legal_bases(path, r.get("legal_basis", [])), line_of(lines, path),
                                  line_of(lines, path + ("condition",))))

    findings = []
    for index, f in enumerate(data.get("findings") or []):
        path = ("findings", index)
        unique(path, f["id"], "finding")
        findings.append(Finding(f["id"], f["condition"], Text(**f["reason"]), legal_bases(path, f["legal_basis"]),
                                tuple(_obligation(o) for o in f["obligations"]), _text(f.get("title")),
                                line_of(lines, path), line_of(lines, path + ("condition",))))

    exemptions = []
    for index, e in enumerate(data.get("exemptions") or []):
        path = ("exemptions", index)
        unique(path, e["id"], "exemption")
        requires = []
        for question, answers in e["requires"].items():
            if all(answer_ok(path + ("requires", question), question, a) for a in answers):
                if "unknown" in answers:
                    fail(path + ("requires", question), "\"unknown\" can never satisfy an exemption")
                requires.append((question, tuple(answers)))
        j = QUESTIONS.get(e["justification"])
        claimed = dict(requires).get(e["justification"], ())
        if j is None or not j.justify or not set(claimed) <= j.justify or not claimed:
            # An exemption rests on a claim the form itself marks as needing a written reason.
            fail(path + ("justification",), f"justification must name a required question whose "
                                            f"answers {', '.join(claimed) or '(none)'} are exemption claims")
        for target in e["suspends"]:
            if ids.get(target) not in ("rule", "finding"):
                fail(path + ("suspends",), f"suspends unknown rule or finding {target!r}")
        exemptions.append(Exemption(e["id"], tuple(requires), e["justification"], tuple(e["suspends"]),
                                    Text(**e["reason"]), legal_bases(path, e["legal_basis"]),
                                    e.get("unless"), tuple(_obligation(o) for o in e.get("obligations", [])),
                                    line_of(lines, path), line_of(lines, path + ("unless",))))
    return {"signals": signals, "text_checks": tuple(text_checks), "review": tuple(review),
            "findings": tuple(findings), "exemptions": tuple(exemptions)}
