"""The engine's fast path gives exactly the library's answer, on random applications.

`evaluate_with_library` asks cel-expr-python about every rule; `fired_rules` runs the generated
Python (falling back to the library where it raises or does not translate). Both must agree on
what fires and on which rule fails first.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tierwatch.registry.vocab import (
    AUDIENCES, CAPABILITIES, DEPLOYMENT_CHANNELS, DOMAINS, HUMAN_OVERSIGHT, PERSONAL_INFO, QUESTIONS,
)
from tierwatch.risk.engine import CompiledRuleSet, load_and_compile
from tierwatch.risk.ruleset import RuleRuntimeError
from tests.unit.risk.conftest import CN_GD, EU, rule_file

TRICKY = [
    'regions.size() > 0 && regions[0] == "广东"',
    'regions[0] == "广东" || size(regions) == 0',  # an index error absorbed by ||
    "(monthly_active_users * 1000000000000 > 5) || true",  # overflow absorbed
    "monthly_active_users / 7 % 3 == -1 || monthly_active_users % 5 == 4",  # truncating / and %
    'capabilities.all(c, c != "emotion_recognition")',
    'capabilities.exists_one(c, c == "text_generation")',
    'capabilities.map(c, c + "!").filter(c, c.startsWith("v")).size() >= 1',
    '[scenario, description].exists(t, t.endsWith("系统") || size(t) > 12)',
    '[scenario, description].all(t, t != "")',
    'models.exists(m, has(m.name) && m["filing_number"].startsWith("Guangdong"))',
    'domain == "finance" ? monthly_active_users > 100 : audiences.size() > 1',
    'scenario > "m" && name != ""',
    'scenario.matches("^(智能|AI)")',  # RE2: left to the library
    "int(version) > 1 || true",  # a conversion error absorbed
    "!(public_opinion_attributes || cross_border_transfer) && -monthly_active_users < 0",
    'personal_info + audiences == ["health", "general"]',
    '{"a": 1}.size() == 1 && deployment_channels.size() < 3',
    'regions.all(r, r in ["广东", "CN"]) && regions.exists(r, r == "CN")',
    "size(name) == 4 && content_labelling == security_assessment_done",
    'human_oversight in ["none", "on_request"] && !security_assessment_done',
]
ERRORING = [
    'regions[0] == "CN"',  # empty regions: index error
    "monthly_active_users * 10000000000000 > 5",  # overflow for large audiences
    "int(version) >= 1",
    'regions[size(regions) - 2] != "CN"',  # a negative index is an error in CEL, not in Python
]


def random_app(r: random.Random) -> dict[str, Any]:
    def maybe(value: Any) -> Any:
        return None if r.random() < 0.15 else value

    def some(vocab: Any) -> list[str]:
        return r.sample(list(vocab), r.randint(0, min(4, len(vocab))))

    texts = ["", "智能客服", "人脸识别门禁系统", "AI写作", "social scoring of residents", "实时人脸布控",
             "zebra", "Mango", "基于画像预测犯罪风险的系统", "emergency triage 急诊分诊",
             "本系统不进行社会评分", "Live face matching at stations", "从互联网爬取人脸照片建库",
             "员工情绪监测", "一键换脸", "信用评分与反欺诈 fraud detection", "签证申请分拣"]

    def answer(q: Any) -> Any:
        if q.kind == "multi":
            return r.sample(list(q.choices), r.randint(0, 2))
        if q.kind == "text":
            return r.choice(["", "网信算备440106000000000000001号"])
        return r.choice(list(q.choices))

    answers = {q.code: answer(q) for q in QUESTIONS.values() if r.random() < 0.35}
    justifications = {code: r.choice(["", "短", "这是一段足够长的书面理由，用于说明为何适用该项豁免。"])
                      for code, q in QUESTIONS.items() if q.justify and r.random() < 0.5}
    return {
        "name": maybe(r.choice(["客服助手", "换脸", "AI", "小说写作助手", ""])),
        "version": maybe(r.choice(["1", "2", "3.0", "v2", ""])),
        "description": maybe(r.choice(texts)),
        "scenario": maybe(r.choice(texts)),
        "deployment_channels": maybe(some(DEPLOYMENT_CHANNELS)),
        "models": maybe([{"name": r.choice(["混元", "文心", None]),
                          "filing_number": r.choice([None, "", "Guangdong-X-2024", "Beijing-Y"])}
                         for _ in range(r.randint(0, 2))]),
        "capabilities": maybe(some(CAPABILITIES)),
        "domain": maybe(r.choice(list(DOMAINS))),
        "monthly_active_users": maybe(r.choice([0, 1, 999_999, 1_000_000, r.randint(0, 50_000_000),
                                                10**12, 9 * 10**18])),
        "regions": maybe(r.sample(["广东", "CN", "广西", "EU", "湖南", "香港"], r.randint(0, 6))),
        "audiences": maybe(some(AUDIENCES)),
        "personal_info": maybe(some(PERSONAL_INFO)),
        "cross_border_transfer": maybe(r.random() < 0.3),
        "public_opinion_attributes": maybe(r.random() < 0.3),
        "human_oversight": maybe(r.choice(list(HUMAN_OVERSIGHT))),
        "content_labelling": maybe(r.random() < 0.5),
        "security_assessment_done": maybe(r.random() < 0.5),
        "answers": maybe(answers),
        "justifications": maybe(justifications),
    }


def outcome(run: Any) -> Any:
    try:
        return run()
    except RuleRuntimeError as exc:
        return ("error", exc.rule_id)


def compare(compiled: CompiledRuleSet, count: int, seed: int) -> int:
    r = random.Random(seed)
    errors = 0
    for i in range(count):
        app = random_app(r)
        fast = outcome(lambda: compiled.fired_rules(app, i))
        slow = outcome(lambda: compiled.evaluate_with_library(app, i))
        assert fast == slow, f"app {app}: fast {fast} != library {slow}"
        errors += isinstance(fast, tuple)
        if not isinstance(fast, tuple):  # whole assessments too: exemptions, text checks, margin
            a, b = compiled.assess(app, i), compiled.assess_with_library(app, i)
            assert a == b, f"app {app}: fast {a} != library {b}"
    return errors


@pytest.mark.parametrize("path", [CN_GD, EU], ids=["cn-gd", "eu"])
def test_shipped_rule_sets_equal_the_library(path: Any) -> None:
    assert compare(load_and_compile(path), 1500, seed=7) == 0


def test_random_applications_exercise_exemptions_and_text() -> None:
    """The comparison above is only worth something if the random filings reach these paths."""
    r = random.Random(7)
    kinds: set[str] = set()
    for path in (CN_GD, EU):
        compiled = load_and_compile(path)
        for i in range(1500):
            kinds |= compiled.assess(random_app(r), i).flag_kinds
    assert {"exemption_applied", "exemption_without_justification", "exemption_void", "provisional_from_text",
            "text_contradicts_answer", "unanswered"} <= kinds


def test_tricky_conditions_equal_the_library() -> None:
    compiled = load_and_compile(rule_file(*[(f"T-{i}", c, "points: 1") for i, c in enumerate(TRICKY)]))
    untranslated = {r.rule.id for r in compiled.rules if r.python is None}
    assert untranslated == {"T-12", "T-13", "T-16"}  # matches(), int(), a map literal
    assert compare(compiled, 3000, seed=11) == 0


def test_run_time_errors_name_the_same_rule_on_both_paths() -> None:
    compiled = load_and_compile(rule_file(*[(f"E-{i}", c, "points: 1") for i, c in enumerate(ERRORING)]))
    assert compare(compiled, 1000, seed=3) > 100


@pytest.mark.parametrize("path", [CN_GD, EU], ids=["cn-gd", "eu"])
def test_stored_text_matches_give_the_same_assessment(path: Any) -> None:
    """Re-tiering reads a filing's stored matches instead of matching again: same result, on
    both paths; matches stored under other signals are ignored."""
    r = random.Random(3)
    matcher, fresh = load_and_compile(path), load_and_compile(path)
    for i in range(600):
        app = random_app(r)
        if isinstance(outcome(lambda: fresh.assess(app, i)), tuple):
            continue  # a mistyped application: covered above
        stored = matcher.with_text_signals(app)
        assert fresh.assess(stored, i) == fresh.assess(app, i) == fresh.assess_with_library(stored, i)
        stale = dict(stored, text_signals=("another key", {"social_scoring": None}))
        assert fresh.assess(stale, i) == fresh.assess(app, i)
