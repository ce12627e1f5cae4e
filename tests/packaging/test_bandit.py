"""bandit over every folder the package installs from, with the settings in pyproject.toml.

A finding is fixed, or justified on its line with ``# nosec BXXX # why``; this test lists
whatever is neither."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def package_folders() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    mapped = config["tool"]["setuptools"]["package-dir"].values()
    return sorted(folder for folder in set(mapped) if (REPO / folder).is_dir())


def test_bandit_finds_nothing_unjustified_in_the_package():
    folders = package_folders()
    assert {"core", "monitoring", "web", "tierwatch"} <= set(folders)
    done = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-c", "pyproject.toml", "-r", *folders, "-f", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    report = json.loads(done.stdout)
    assert report["errors"] == []
    found = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert found == [], "\n".join(found)
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it did read the code
