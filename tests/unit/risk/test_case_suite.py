"""The published case suite (tests/cases/tiering.yaml): cases written from the laws, their
paraphrases and talk-down attempts, run through the shipped rule sets.

- every case gets its expected tier (and named rules, findings, flags) under each regime;
- every variant keeps the tier, or the filing lands in the review queue with a flag;
- no exemption applies without an explicit answer and a written justification.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tierwatch.registry.vocab import APPLICATION_FIELDS, MIN_JUSTIFICATION, QUESTIONS
from tierwatch.risk.engine import Assessment, CompiledRuleSet, load_and_compile
from tierwatch.risk.ruleset import TIER_RANK
from tests.unit.risk.conftest import CN_GD, EU

SUITE = Path(__file__).resolve().parents[2] / "cases" / "tiering.yaml"
FILES = {"cn-gd": CN_GD, "eu": EU}
# Flags that put a filing in the review queue because its text or answers do not add up.
QUEUE_FLAGS = {"provisional_from_text", "text_suggests", "text_contradicts_answer", "unanswered",
               "contradiction", "attention", "exemption_without_justification", "exemption_void"}


@lru_cache(maxsize=None)
def compiled(jurisdiction: str) -> CompiledRuleSet:
    return load_and_compile(FILES[jurisdiction])


@lru_cache(maxsize=1)
def suite() -> dict[str, Any]:
    return yaml.safe_load(SUITE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def profile_of(case: dict[str, Any]) -> dict[str, Any]:
    app = copy.deepcopy(suite()["defaults"])
    app.update(copy.deepcopy(case["profile"]))
    return app


def patched(app: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(app)
    if patch.get("drop_answers"):
        out.pop("answers", None)
        out.pop("justifications", None)
    out.update(copy.deepcopy(patch.get("set", {})))
    for question, answer in (patch.get("answers") or {}).items():
        answers = out.setdefault("answers", {})
        if answer is None:
            answers.pop(question, None)
        else:
            answers[question] = answer
    return out


CASES = [(c["id"], c) for c in suite()["cases"]]
VARIANTS = [(f"{c['id']}/{v['id']}", c, v) for c in suite()["cases"] for v in c.get("variants", [])]
RESULTS = [(cid, j) for cid, c in CASES for j in c["expect"]]


def test_the_suite_is_big_enough_and_covers_every_tier() -> None:
    assert len(CASES) >= 60
    for jurisdiction in FILES:
        tiers = {c["expect"][jurisdiction]["tier"] for _i, c in CASES if jurisdiction in c["expect"]}
        assert set(compiled(jurisdiction).ruleset.tiers) <= tiers, jurisdiction
    ids = [cid for cid, _c in CASES] + [vid for vid, _c, _v in VARIANTS]
    assert len(ids) == len(set(ids))


def test_every_prohibited_or_high_case_has_paraphrases() -> None:
    missing = [cid for cid, c in CASES
               if any(e["tier"] in ("high", "prohibited") for e in c["expect"].values())
               and not c.get("variants") and not c.get("no_variants_because")]
    assert not missing


@pytest.mark.parametrize("case_id, case", CASES, ids=[c[0] for c in CASES])
def test_profiles_use_the_vocabulary(case_id: str, case: dict[str, Any]) -> None:
    app = profile_of(case)
    for name, value in app.items():
        if name in ("answers", "justifications"):
            continue
        assert name in APPLICATION_FIELDS, f"{case_id}: unknown field {name}"
        kind, vocab = APPLICATION_FIELDS[name]
        if vocab is not None:
            for code in value if kind == "set" else [value]:
                assert code in vocab, f"{case_id}: {name}={code!r}"
    for question, answer in (app.get("answers") or {}).items():
        q = QUESTIONS[question]
        for code in answer if q.kind == "multi" else ([] if q.kind == "text" else [answer]):
            assert code in (q.choices or {}), f"{case_id}: {question}={code!r}"
    for question in app.get("justifications") or {}:
        assert QUESTIONS[question].justify, f"{case_id}: {question} takes no justification"


def _check(result: Assessment, expected: dict[str, Any], where: str) -> None:
    summary = (f"{where}: {result.tier} fired {result.fired_ids} flags {sorted(result.flag_kinds)} "
               f"findings {[f.finding_id for f in result.findings]}")
    assert result.tier == expected["tier"], summary
    for rule_id in expected.get("rules", []):
        assert rule_id in result.fired_ids, summary
    for finding_id in expected.get("findings", []):
        assert finding_id in [f.finding_id for f in result.findings], summary
    for kind in expected.get("flags", []):
        assert kind in result.flag_kinds, summary
    for kind in expected.get("no_flags", []):
        assert kind not in result.flag_kinds, summary
    if "margin" in expected:
        assert result.margin is not None and expected["margin"] in result.margin.text().en, \
            f"{summary} margin {result.margin}"


@pytest.mark.parametrize("case_id, jurisdiction", RESULTS, ids=[f"{c}@{j}" for c, j in RESULTS])
def test_case_gets_the_tier_the_law_gives(case_id: str, jurisdiction: str) -> None:
    case = dict(CASES)[case_id]
    expected = case["expect"][jurisdiction]
    result = compiled(jurisdiction).assess(profile_of(case), case_id)
    _check(result, expected, f"{case_id}@{jurisdiction}")
    assert expected.get("article"), f"{case_id}: name the article"
    for f in result.fired:
        assert f.reason.zh and f.reason.en and f.legal_basis


@pytest.mark.parametrize("variant_id, case, variant", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_paraphrase_keeps_the_tier_or_is_flagged(variant_id: str, case: dict[str, Any],
                                                 variant: dict[str, Any]) -> None:
    base_app = profile_of(case)
    app = patched(base_app, variant["patch"])
    for jurisdiction in case["expect"]:
        base = compiled(jurisdiction).assess(base_app, case["id"])
        result = compiled(jurisdiction).assess(app, variant_id)
        where = f"{variant_id}@{jurisdiction}: {base.tier} -> {result.tier} {result.fired_ids} {sorted(result.flag_kinds)}"
        if variant["expect"] == "same":
            assert result.tier == base.tier, where
        else:
            assert variant["expect"] == "kept_or_flagged"
            assert TIER_RANK[result.tier] >= TIER_RANK[base.tier] or result.flag_kinds & QUEUE_FLAGS, where
        for kind in variant.get("flags", {}).get(jurisdiction, []):
            assert kind in result.flag_kinds, where


def _all_profiles() -> list[tuple[str, dict[str, Any]]]:
    out = [(cid, profile_of(c)) for cid, c in CASES]
    out += [(vid, patched(profile_of(c), v["patch"])) for vid, c, v in VARIANTS]
    return out


@pytest.mark.parametrize("jurisdiction", FILES)
def test_no_exemption_without_an_explicit_answer_and_a_justification(jurisdiction: str) -> None:
    c = compiled(jurisdiction)
    exemptions = {e.id: e for e in c.ruleset.exemptions}
    applied = 0
    for where, app in _all_profiles():
        result = c.assess(app, where)
        for flag in result.flags:
            if flag.kind != "exemption_applied":
                continue
            applied += 1
            e = exemptions[flag.id]
            answers = app.get("answers") or {}
            for question, accepted in e.requires:
                given = answers.get(question)
                given = given if isinstance(given, list) else [given]
                assert set(given) & set(accepted), f"{where}: {e.id} applied without {question}"
            text = (app.get("justifications") or {}).get(e.justification, "")
            assert len(text.strip()) >= MIN_JUSTIFICATION, f"{where}: {e.id} applied without a justification"
        for rule_id, exemption_id in result.suspended:
            assert any(f.id == exemption_id and f.kind == "exemption_applied" for f in result.flags), where
    assert applied > 0  # the suite does exercise exemptions


@pytest.mark.parametrize("jurisdiction", FILES)
def test_text_alone_never_lowers_a_tier(jurisdiction: str) -> None:
    """Blanking the free text of any profile can only lower or keep the tier: text only raises."""
    c = compiled(jurisdiction)
    for where, app in _all_profiles():
        blank = dict(app, name="应用", scenario="", description="")
        with_text, without = c.assess(app, where), c.assess(blank, where)
        assert TIER_RANK[with_text.tier] >= TIER_RANK[without.tier], where
