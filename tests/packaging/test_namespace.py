"""Installed, tierwatch is one top-level package: no `core`, `registry`, `risk`, ... beside it."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FOLDERS = ("core", "registry", "risk", "monitoring", "antifraud", "web", "rules", "migrations")


def test_no_folder_is_importable_under_a_bare_name_in_the_test_process() -> None:
    assert [name for name in FOLDERS if importlib.util.find_spec(name) is not None] == []


def test_no_folder_is_importable_under_a_bare_name_from_elsewhere(tmp_path: Path) -> None:
    code = ("import importlib.util, tierwatch.web, tierwatch.monitoring.worker\n"
            f"print([n for n in {FOLDERS!r} if importlib.util.find_spec(n)])")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_package_folder_is_declared() -> None:
    """A package folder left out of pyproject's explicit list would be missing from the wheel."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    declared = set(config["packages"])
    found = set()
    for name, folder in mapping.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder).parts
            found.add(".".join((name, *rel)))
    assert found - declared == set()


@pytest.mark.slow
def test_the_wheel_adds_exactly_one_top_level_name(tmp_path: Path) -> None:
    # Built from a copy of the tracked files: a build writes build/ and *.egg-info beside them.
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, check=True, capture_output=True, text=True)
    source = tmp_path / "src"
    for rel in tracked.stdout.splitlines():
        if (REPO / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, source / rel)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(tmp_path), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )
    [wheel] = tmp_path.glob("tierwatch-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
        top_level = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert zf.read(top_level[0]).decode().split() == ["tierwatch"]
    assert tops == {"tierwatch"}
    # the data the code reads at run time travels with it
    for path in ("tierwatch/rules/cn-gd.yaml", "tierwatch/rules/schema/ruleset.schema.json",
                 "tierwatch/migrations/env.py", "tierwatch/migrations/script.py.mako",
                 "tierwatch/migrations/versions/0001_core.py", "tierwatch/web/static/site.css",
                 "tierwatch/antifraud/training/synth/zh.yaml", "tierwatch/antifraud/training/synth/en.yaml",
                 "tierwatch/web/templates/base.html", "tierwatch/web/templates/macros/forms.html",
                 # the catalogue travels compiled: setup.py's build hook made the .mo from the .po
                 "tierwatch/web/translations/zh_Hans_CN/LC_MESSAGES/messages.po",
                 "tierwatch/web/translations/zh_Hans_CN/LC_MESSAGES/messages.mo",
                 "tierwatch/rules/alerts/identifier-burst.yaml", "tierwatch/rules/schema/alert-rule.schema.json"):
        assert path in names


def test_no_tracked_file_keeps_merge_conflict_markers() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, check=True, capture_output=True, text=True)
    marked = []
    for rel in tracked.stdout.splitlines():
        path = REPO / rel
        if path.suffix in {".png", ".jpg", ".mo", ".xlsx", ".ubj", ".gz"} or not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in lines):
            marked.append(rel)
    assert marked == []
