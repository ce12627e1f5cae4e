"""Fixtures for the risk tests: a small valid rule file to break in various ways, and the
registry's migrated store with two companies (reused from the registry tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.registry.factories import _template, container, full_fields, world  # noqa: F401

REPO = Path(__file__).resolve().parents[3]
CN_GD = REPO / "rules" / "cn-gd.yaml"
EU = REPO / "rules" / "eu-ai-act.yaml"

HEADER = """\
schema_version: 1
jurisdiction: {jurisdiction}
title: {{zh: 测试规则, en: test rules}}
edition: "{edition}"
sources:
  ds: {{title: {{zh: 深度合成管理规定, en: Deep Synthesis Provisions}}}}
combine: {{method: score, thresholds: {{medium: 2, high: 4}}}}
default_tier: low
tiers:
  low: {{label: {{zh: 低风险, en: low}}, obligations: [{{kind: filing}}]}}
  medium: {{label: {{zh: 中风险, en: medium}}, obligations: [{{kind: self_assessment, every: P1Y}}]}}
  high:
    label: {{zh: 高风险, en: high}}
    obligations: [{{kind: self_assessment, every: P3M}}, {{kind: incident_report, within: PT24H}}]
rules:
"""

RULE = """\
  - id: {id}
    condition: '{condition}'
    {outcome}
    reason: {{zh: 理由{id}, en: reason {id}}}
    legal_basis:
      - {{source: ds, article: {{zh: 第十七条, en: Art. 17}}, text: {{zh: 条文, en: text}}}}
"""


def rule_file(*rules: tuple[str, str, str], jurisdiction: str = "test", edition: str = "t1") -> str:
    """A rule file from (id, condition, outcome) triples; outcome like "tier: high" or "points: 2"."""
    text = HEADER.format(jurisdiction=jurisdiction, edition=edition)
    for rule_id, condition, outcome in rules:
        text += RULE.format(id=rule_id, condition=condition.replace("'", "''"), outcome=outcome)
    return text


@pytest.fixture
def small_rules() -> str:
    return rule_file(
        ("T-DEEPFAKE", '"video_deepfake" in capabilities', "tier: high"),
        ("T-SCALE", "monthly_active_users >= 1000000", "points: 2"),
        ("T-MINORS", '"minors" in audiences', "points: 2"),
    )


def fields(**overrides: Any) -> dict[str, Any]:
    return full_fields(**overrides)  # type: ignore[no-any-return]
