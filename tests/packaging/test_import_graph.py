"""The import graph: no circle of files, and no import that runs up a layer.

Layers, bottom to top: core -> domain packages (registry, risk, monitoring, antifraud) -> web ->
the composition root and its entry points (tierwatch.bootstrap, .cli, .jobs, .worker, ...).
Every import counts, including those inside functions: an import made late to dodge a cycle is
still a cycle.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOMAINS = ("registry", "risk", "monitoring", "antifraud")
# Which domain may use which: tiering reads the registry, monitoring reads both and scores with
# the detectors. The registry tells the others through events and knows none of them.
DOMAIN_USES = {
    "registry": set(),
    "antifraud": set(),
    "risk": {"registry"},
    "monitoring": {"registry", "risk", "antifraud"},
}


def _modules() -> dict[str, Path]:
    """Module name -> file, through pyproject's package-dir mapping (folder -> tierwatch.<name>)."""
    mapping = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    found: dict[str, Path] = {}
    for package, folder in mapping.items():
        for path in (REPO / folder).rglob("*.py"):
            rel = path.relative_to(REPO / folder).with_suffix("").parts
            found[".".join((package, *(rel[:-1] if rel[-1] == "__init__" else rel)))] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # `import a.b.c` of a name inside a module
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def layer(module: str) -> tuple[int, str]:
    part = module.split(".")[1] if module.count(".") else ""
    if part == "core":
        return 0, "core"
    if part in DOMAINS or part == "rules":
        return 1, part
    if part == "web":
        return 2, "web"
    return 3, "composition"


def test_the_graph_sees_the_code() -> None:
    assert len(MODULES) > 100
    assert "tierwatch.core.db" in GRAPH["tierwatch.registry.service"]


def test_no_import_runs_up_a_layer() -> None:
    wrong = sorted(
        f"{src} -> {dst} ({layer(src)[1]} must not import {layer(dst)[1]})"
        for src, targets in GRAPH.items() for dst in targets
        if layer(dst)[0] > layer(src)[0]
    )
    assert wrong == []


def test_domains_use_only_the_domains_they_declare() -> None:
    wrong = sorted(
        f"{src} -> {dst}"
        for src, targets in GRAPH.items() for dst in targets
        if layer(src)[1] in DOMAINS and layer(dst)[1] in DOMAINS and layer(dst)[1] != layer(src)[1]
        and layer(dst)[1] not in DOMAIN_USES[layer(src)[1]]
    )
    assert wrong == []


def test_no_circle_of_files() -> None:
    # Tarjan's strongly connected components: a component of more than one file is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(GRAPH[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert circles == []


@pytest.mark.parametrize("edge", [("tierwatch.registry.service", "tierwatch.risk.service")])
def test_a_forbidden_edge_would_be_seen(edge: tuple[str, str]) -> None:
    # the checks above read GRAPH; this guards that an added edge is classified as wrong
    src, dst = edge
    assert layer(src)[1] in DOMAINS and layer(dst)[1] not in DOMAIN_USES[layer(src)[1]]
