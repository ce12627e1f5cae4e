"""`tierwatch rules ...` through click's CliRunner, on a migrated SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from tierwatch.cli.rules import rules
from tierwatch.risk.models import RuleSetVersion
from tests.unit.risk.conftest import CN_GD, EU, rule_file
from tests.unit.risk.test_service import file_and_submit


def run(container: Any, *args: str) -> Any:
    return CliRunner().invoke(rules, list(args), obj=container)


def test_validate(tmp_path: Path) -> None:
    ok = CliRunner().invoke(rules, ["validate", str(CN_GD), str(EU)])
    assert ok.exit_code == 0, ok.output
    assert "cn-gd 2026.2, 27 rules, 42 of 42 conditions on the fast path, combine score" in ok.output
    assert "eu 2024/1689-r2" in ok.output

    broken = tmp_path / "broken.yaml"
    broken.write_text(rule_file(("T-1", '"deepfake" in capabilities', "tier: high"),
                                ("T-2", "monthly_users > 1", "points: 1")), encoding="utf-8")
    bad = CliRunner().invoke(rules, ["validate", str(broken)])
    assert bad.exit_code == 1
    lines = bad.stderr.strip().splitlines()
    assert lines[0].startswith(f"{broken}:") and ": rule T-1: unknown code 'deepfake'" in lines[0]
    assert ": rule T-2: condition 1:1: unknown field 'monthly_users'" in lines[1]


def test_activate_list_show_simulate_explain(container: Any, world: Any) -> None:
    app_id = file_and_submit(container, world, capabilities=["emotion_recognition"], domain="employment",
                             audiences=["business"], personal_info=["biometric"])
    file_and_submit(container, world)

    activated = run(container, "activate", str(CN_GD))
    assert activated.exit_code == 0, activated.output + activated.stderr
    assert "activated cn-gd version 1" in activated.output
    assert "2 applications assessed, 2 change tier" in activated.output
    assert f"#{app_id} 粤智客服助手: (none) -> high" in activated.output
    assert "app" in activated.stderr  # the progress bar

    assert run(container, "activate", str(EU)).exit_code == 0
    listed = run(container, "list")
    assert "cn-gd    v1    active" in listed.output and "eu       v1    active" in listed.output

    shown = run(container, "show", "eu")
    assert "tiers: low (最小风险) 0, medium (有限风险（透明度义务）) 1, high (高风险) 0, prohibited (禁止) 1" in shown.output
    assert "EU-ART5-F" in shown.output

    what_if = run(container, "simulate", str(EU))
    assert "2 applications assessed, 0 change tier" in what_if.output

    explained = run(container, "explain", str(app_id))
    assert "eu v1: prohibited" in explained.output and "EU-ART5-F" in explained.output
    assert "《中华人民共和国个人信息保护法》 第二十八条第一款" in explained.output
    # issue 14: the margin beside a score, review flags with their evidence
    assert "points from high" in explained.output or "less would be" in explained.output
    assert "review flag EU-REV-EMOTION-SETTINGS [unanswered]" in explained.output


def test_activate_refuses_a_file_failing_at_run_time(container: Any, world: Any, tmp_path: Path) -> None:
    file_and_submit(container, world)
    failing = tmp_path / "failing.yaml"
    failing.write_text(rule_file(("T-MAJOR", "int(version) >= 2", "points: 1")), encoding="utf-8")
    result = run(container, "activate", str(failing))
    assert result.exit_code == 1
    assert "rule T-MAJOR: condition failed for application" in result.stderr
    assert "nothing was changed" in result.stderr
    with container.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(RuleSetVersion)) == 0


def test_override_from_the_command_line(container: Any, world: Any) -> None:
    app_id = file_and_submit(container, world)
    run(container, "activate", str(CN_GD))
    short = run(container, "override", str(app_id), "cn-gd", "high", "--justification", "太短")
    assert short.exit_code == 1 and "justification" in short.stderr
    ok = run(container, "override", str(app_id), "cn-gd", "high", "--justification",
             "该客服应用已接入金融产品推荐，需按高风险监管，待变更备案后复核。")
    assert ok.exit_code == 0
    assert "override; rules say low" in run(container, "explain", str(app_id)).output


def test_diff_of_files_and_stored_versions(container: Any, world: Any, tmp_path: Path) -> None:
    legacy = Path(__file__).parent / "legacy_rules" / "cn-gd.yaml"
    suite = Path(__file__).resolve().parents[2] / "cases" / "tiering.yaml"
    # two files, over the published case suite: the version-2 reading of the same filings
    files = run(container, "diff", str(legacy), str(CN_GD), "--filings", str(suite), "--limit", "0")
    assert files.exit_code == 0, files.output + files.stderr
    assert files.output.startswith("cn-gd: 2026.1 (")
    assert "+ finding    CN-FIND-LABEL" in files.output
    assert "66 filings assessed" in files.output
    assert "#eu-aiii-5b-credit-scoring 个人信用评分模型: low -> high  caused by" in files.output

    # stored versions over the registry, as JSON
    file_and_submit(container, world, capabilities=["decision_making"], domain="finance", personal_info=["financial"])
    assert run(container, "activate", str(legacy)).exit_code == 0
    assert run(container, "activate", str(CN_GD)).exit_code == 0
    stored = run(container, "diff", "cn-gd@v1", "cn-gd@active", "--json")
    assert stored.exit_code == 0, stored.output + stored.stderr
    data = json.loads(stored.output)
    assert (data["old"]["edition"], data["new"]["edition"], data["assessed"]) == ("2026.1", "2026.2", 1)
    assert {"kind": "finding", "id": "CN-FIND-LABEL", "change": "added"}.items() <= next(
        i for i in data["items"] if i["id"] == "CN-FIND-LABEL").items()

    # a changed file that keeps a stored label is named, and activation refuses it
    relabelled = tmp_path / "same-label.yaml"
    relabelled.write_text(CN_GD.read_text(encoding="utf-8").replace("points: 4", "points: 5", 1), encoding="utf-8")
    warned = run(container, "diff", "cn-gd@active", str(relabelled))
    assert "WARNING: activation would be refused: edition '2026.2' is already used by version 2" in warned.output
    refused = run(container, "activate", str(relabelled))
    assert refused.exit_code == 1 and "give the changed file a new edition label" in refused.stderr
    assert run(container, "diff", "cn-gd@v9", str(CN_GD)).exit_code == 1
    assert run(container, "diff", "cn-gd@active", str(EU)).exit_code == 1  # another jurisdiction


def test_queue_lists_flagged_filings(container: Any, world: Any) -> None:
    app_id = file_and_submit(container, world, name="信用分", capabilities=["decision_making"], domain="finance",
                             personal_info=["financial"], scenario="信用评分与反欺诈")
    assert run(container, "activate", str(EU)).exit_code == 0
    listed = run(container, "queue", "--jurisdiction", "eu")
    assert listed.exit_code == 0, listed.output + listed.stderr
    assert f"#{app_id} 信用分 (深圳市腾讯计算机系统有限公司) eu high" in listed.output
    assert "EU-REV-PURPOSE [unanswered]" in listed.output
