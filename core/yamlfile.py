"""YAML files whose errors name a line: the parsed data plus the line of every key and item.

Plumbing shared by the rule-file loaders (alert rules; the tiering loader in risk/loader.py has
the same code and can move onto this). PyYAML's safe loader, with duplicate keys refused
(PyYAML would silently keep the last one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import yaml

Path_ = tuple[Any, ...]
Lines = dict[Path_, int]


@dataclass(frozen=True)
class FileError:
    """One error in a rule file: ``FILE:LINE: rule ID: message`` (line and rule when known)."""

    file: str
    line: int | None
    rule_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        rule = f" rule {self.rule_id}:" if self.rule_id else ""
        return f"{where}:{rule} {self.message}"


@dataclass(frozen=True)
class YamlProblem:
    line: int | None
    message: str


class YamlInvalid(ValueError):
    def __init__(self, problems: list[YamlProblem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in self.problems))


# Rule files may come from an upload (tiering rule sets through the API), so their cost is bounded
# before anything is built: no anchors or aliases (a few hundred bytes of aliases expand to
# gigabytes), a nesting depth and a node count far above any real rule file (the shipped
# tiering files: 51 KB, depth 7, ~6,000 nodes), and a size.
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 24
MAX_NODES = 100_000


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, text: str):
        super().__init__(text)
        self._depth, self._nodes = 0, 0

    def _refuse(self, mark: Any, message: str) -> None:
        raise YamlInvalid([YamlProblem(mark.line + 1 if mark else None, message)])

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            self._refuse(event.start_mark, "YAML anchors and aliases (&, *) are not allowed in rule files")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            self._refuse(event.start_mark, f"too many YAML nodes (more than {MAX_NODES:,})")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            self._refuse(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_with_lines(text: str) -> tuple[Any, Lines]:
    """(data, lines): ``lines`` maps a path of keys/indexes to the line (1-based) where it starts."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise YamlInvalid([YamlProblem(None, f"file too large: {size:,} bytes > {MAX_BYTES:,}")])
    try:
        loader = _BoundedLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlInvalid([YamlProblem(mark.line + 1 if mark else None, f"invalid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise YamlInvalid([YamlProblem(None, f"invalid YAML: {exc}")]) from None
    lines: Lines = {}
    duplicates: list[YamlProblem] = []
    if node is not None:
        _record(node, (), lines, duplicates)
    if duplicates:
        raise YamlInvalid(duplicates)
    return data, lines


def _record(node: yaml.Node, path: Path_, lines: Lines, duplicates: list[YamlProblem]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                duplicates.append(YamlProblem(key_node.start_mark.line + 1, f"duplicate key {key!r}"))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _record(value_node, path + (key,), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, path + (index,), lines, duplicates)


def line_of(lines: Lines, path: Path_) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    path = tuple(path)
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


_UNEXPECTED = re.compile(r"\('([^']+)'(?:, '[^']+')* (?:was|were) unexpected\)")


def schema_problem(err: jsonschema.ValidationError, lines: Lines) -> YamlProblem:
    """A JSON Schema error as a line-numbered message; an unexpected key points at that key."""
    path = tuple(err.absolute_path)
    message = err.message
    if err.validator in ("oneOf", "anyOf") and err.context:
        message = "; ".join(sorted({c.message for c in err.context}))
    line = line_of(lines, path)
    unexpected = _UNEXPECTED.search(err.message)
    if unexpected and path + (unexpected.group(1),) in lines:
        line = lines[path + (unexpected.group(1),)]
    where = "/".join(str(p) for p in path) or "(top level)"
    return YamlProblem(line, f"{where}: {message}")
