"""`tierwatch alerts`: validate with line-numbered errors, list, show, and test-rule over indexed
reports on the embedded index: what would fire, when and why, the comparison of two versions,
and the rule's cost; nothing is written."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tierwatch.cli.alerts import alerts
from tierwatch.core.search import SearchIndex
from tierwatch.core.search.fts import FtsIndex
from tests.contract.search_fixtures import search_index  # noqa: F401  (FTS5 and Elasticsearch)
from tierwatch.monitoring.indexing import REPORTS_INDEX, REPORTS_SCHEMA

SH = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 3, 2, 12, 0, tzinfo=SH)
RULE = """\
schema_version: 1
id: cli-burst
title: {zh: 号码集中举报, en: Burst about one number}
type: frequency
severity: high
owner: fraud-desk
group: identifiers
filter: {match: {kind: scam}}
group_by: ident_phone
window: 1h
threshold: THRESHOLD
schedule: {every: 10m, buffer: 0}
realert: {after: 2h}
"""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIERWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TIERWATCH_SEARCH", "fts")
    return tmp_path


@pytest.fixture
def seeded(search_index: SearchIndex, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> SearchIndex:
    """Two numbers' reports on the engine under test; the command reads the same index."""
    if isinstance(search_index, FtsIndex):
        search_index = FtsIndex(data_dir / "search.db")
    else:
        monkeypatch.setenv("TIERWATCH_SEARCH", "elasticsearch")
        monkeypatch.setenv("TIERWATCH_INDEX_PREFIX", search_index.prefix)  # type: ignore[attr-defined]
    search_index.ensure_index(REPORTS_INDEX, REPORTS_SCHEMA)
    docs = []
    for n, (phone, hours_ago, count) in enumerate((("+8613800000001", 5, 6), ("+8613800000002", 3, 3))):
        for i in range(count):
            at = (END - timedelta(hours=hours_ago, minutes=-5 * i)).isoformat()
            docs.append({"id": f"c{n}-{i}", "kind": "scam", "ident_phone": [phone], "reported_at": at})
    search_index.bulk_index(REPORTS_INDEX, docs)
    search_index.refresh(REPORTS_INDEX)
    return search_index


def rule_file(tmp_path: Path, name: str, threshold: int) -> Path:
    path = tmp_path / name
    path.write_text(RULE.replace("THRESHOLD", str(threshold)), encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(alerts, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_validate_list_and_show_the_starter_rules(data_dir: Path) -> None:
    code, out = invoke("validate")
    assert (code, out.strip()) == (0, "20 alert rules valid")
    code, out = invoke("list", "--group", "feeds")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == ["feed-low-scores", "intake-silent",
                                                                                "partner-feed-silent"]
    code, out = invoke("show", "identifier-burst")
    assert "threshold=high 3 / medium 5 / low 8 / untiered 8" in out and "counts per ident_phone" in out


def test_validate_names_file_line_and_rule(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(RULE.replace("THRESHOLD", "0").replace("window: 1h", "window: 1 hour"), encoding="utf-8")
    code, out = invoke("validate", str(bad))
    assert code == 1
    assert f"{bad}:10: rule cli-burst: window: '1 hour' does not match" in out
    assert f"{bad}:11: rule cli-burst: threshold:" in out


def test_test_rule_prints_what_would_fire_when_and_why_and_the_cost(seeded: SearchIndex, data_dir: Path,
                                                                   tmp_path: Path) -> None:
    path = rule_file(tmp_path, "burst.yaml", 3)
    code, out = invoke("test-rule", str(path), "--days", "1", "--end", "2026-03-02 12:00", "--samples", "5")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("cli-burst (frequency, every 10m): 144 evaluations from 2026-03-01 12:10 to "
                               "2026-03-02 12:00 (Asia/Shanghai)")
    opened = [line for line in lines if " open " in line]
    # the first number: 3 reports by 07:20 (10-minute ends), the second at 09:20
    assert [line.split()[1] for line in opened] == ["07:20", "09:20"]
    assert "+8613800000001" in opened[0] and "4 reports in 1 h, threshold 3" in opened[0]
    assert "would raise 2 alerts (2 keys)" in out
    cost = lines[-1]
    assert cost.startswith("cost: 6 evaluations/h x 1.0 requests = 6 search requests/h alone;")
    assert "more per evaluation with the rule set" in cost and "p95 query" in cost
    assert not (data_dir / "tierwatch.db").exists()  # nothing written


def test_compare_two_versions_on_the_same_data(seeded: SearchIndex, tmp_path: Path) -> None:
    old, new = rule_file(tmp_path, "old.yaml", 3), rule_file(tmp_path, "new.yaml", 5)
    code, out = invoke("test-rule", str(old), "--days", "1", "--end", "2026-03-02 12:00", "--compare",
                       str(old), str(new), "--samples", "3")
    assert code == 0, out
    assert "only OLD: 1, only NEW: 0, both: 1" in out
    assert "  - 2026-03-02 09:20  +8613800000002" in out  # 3 reports: not enough for the new version
    assert "  = 2026-03-02 07:20  +8613800000001  (NEW +10 min)" in out
    assert out.count("cost:") == 2
