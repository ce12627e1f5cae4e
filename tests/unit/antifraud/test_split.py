"""The running service never imports training code (antifraud/training/)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import tierwatch.antifraud as antifraud

TRAINING = "tierwatch.antifraud.training"

# A worker process: import it, score through the active trained model, list what got imported.
_WORKER = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path

import tierwatch.monitoring.worker  # noqa: F401
from tierwatch.antifraud.reputation import InMemoryReputation
from tierwatch.monitoring.scoring import ScoringInput, load_scorer

scorer = load_scorer(Path(sys.argv[1]))
report = ScoringInput("r-1", "scam", "自称公安说我涉嫌洗钱，让我转账到安全账户", "phone", None, None, "广东",
                      datetime(2026, 3, 1, tzinfo=UTC), ("phone:+8613800138000",))
[score] = scorer.score_batch([report], InMemoryReputation.from_reports([]))
print(json.dumps({"scorer": type(scorer).__name__, "version": score.model_version,
                  "training": sorted(m for m in sys.modules if m.startswith("tierwatch.antifraud.training"))}))
"""


def test_a_worker_scoring_with_a_trained_model_imports_no_training_module(models_dir, tmp_path):
    out = subprocess.run([sys.executable, "-c", _WORKER, str(models_dir)], cwd=tmp_path,
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["scorer"] == "DetectorScorer" and result["version"].startswith("report-")
    assert result["training"] == []


def test_no_serving_module_imports_training_code_even_inside_a_function():
    root = Path(antifraud.__file__).parent
    offenders = []
    for path in sorted(root.glob("*.py")):
        if path.name == "cli.py":  # the command line trains too (it moves to tierwatch/cli/)
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == TRAINING or n.startswith(TRAINING + ".") for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
