"""Alert rule file -> AlertRule: YAML (keeping line numbers), JSON Schema, then cross-field checks
against the reports index and the vocabularies. Every error names the file, the line and the rule.

One rule per file, under ``tierwatch/rules/alerts/``; ``load_rules`` reads a directory and also
refuses two files with the same rule id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jsonschema

from tierwatch.antifraud import vocab
from tierwatch.core.search import IndexSchema, Range, SearchQuery
from tierwatch.core.yamlfile import (
    Lines,
    Path_,
    YamlInvalid,
    YamlProblem,
    line_of,
    parse_with_lines,
    schema_problem,
)
from tierwatch.monitoring.alerts.model import (
    TIER_ORDER,
    AlertRule,
    AlertRuleError,
    AlertRuleInvalid,
    Realert,
    Schedule,
    Severity,
    Text,
    Tiered,
    parse_duration,
)
from tierwatch.monitoring.alerts.options import (
    CardinalityOptions,
    FlatlineOptions,
    FrequencyOptions,
    MetricOptions,
    NewTermOptions,
    Options,
    SpikeOptions,
    ThresholdOptions,
)
from tierwatch.monitoring.indexing import MULTI_VALUED, REPORTS_INDEX, REPORTS_SCHEMA

SCHEMA_FILE = files("tierwatch.rules") / "schema" / "alert-rule.schema.json"
STARTER_RULES = files("tierwatch.rules") / "alerts"

DEFAULT_EVERY, DEFAULT_BUFFER = timedelta(minutes=1), timedelta(minutes=1)
DEFAULT_REALERT = timedelta(hours=1)
DEFAULT_MAX_REPORTS = 1000


@dataclass(frozen=True)
class IndexFields:
    """What a rule may name: the index's fields and, for coded fields, the accepted codes."""

    schema: IndexSchema
    codes: Mapping[str, frozenset[str]]
    multi_valued: frozenset[str] = frozenset()


REPORT_FIELDS = IndexFields(
    REPORTS_SCHEMA,
    {
        "kind": frozenset({"scam", "incident"}),
        "channel": frozenset(vocab.CHANNELS),
        "scam_type": frozenset(vocab.SCAM_TYPES),
        "ai_technique": frozenset(vocab.AI_TECHNIQUES),
        "reporter_type": frozenset(vocab.REPORTER_TYPES),
        "identifier_kinds": frozenset(vocab.IDENTIFIER_KINDS),
        "incident_type": frozenset(vocab.INCIDENT_TYPES),
        "severity": frozenset(vocab.SEVERITIES),
        "tier": frozenset(TIER_ORDER),
    },
    MULTI_VALUED,
)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def load_rule(source: str | Path, filename: str | None = None, fields: IndexFields = REPORT_FIELDS) -> AlertRule:
    """A Path (or a one-line string naming a file) is read; other strings are the file's text."""
    if isinstance(source, Path) or ("\n" not in source and Path(source).is_file()):
        text, name = Path(source).read_text(encoding="utf-8"), str(source)
    else:
        text, name = str(source), "<text>"
    return _load(text, filename or name, fields)


def load_rules(directory: Path | Traversable = STARTER_RULES, fields: IndexFields = REPORT_FIELDS) -> tuple[AlertRule, ...]:
    """Every ``*.yaml`` file of a directory, sorted by name; all errors of all files at once."""
    rules: list[AlertRule] = []
    errors: list[AlertRuleError] = []
    for path in sorted((p for p in directory.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name):
        try:
            rules.append(_load(path.read_text(encoding="utf-8"), str(path), fields))
        except AlertRuleInvalid as exc:
            errors += exc.errors
    first: dict[str, AlertRule] = {}
    for rule in rules:
        if rule.id in first:
            errors.append(AlertRuleError(rule.filename, rule.line, rule.id,
                                         f"rule id already used by {first[rule.id].filename}"))
        first.setdefault(rule.id, rule)
    if errors:
        raise AlertRuleInvalid(errors)
    return tuple(rules)


def _load(text: str, name: str, fields: IndexFields) -> AlertRule:
    try:
        data, lines = parse_with_lines(text)
    except YamlInvalid as exc:
        raise AlertRuleInvalid([AlertRuleError(name, p.line, None, p.message) for p in exc.problems]) from None
    if not isinstance(data, dict):
        raise AlertRuleInvalid([AlertRuleError(name, 1, None, "an alert rule file must be a YAML mapping")])
    rule_id = data.get("id") if isinstance(data.get("id"), str) else None
    hints = {k: ELASTALERT_NAMES[k] for k in data if k in ELASTALERT_NAMES}
    problems = [schema_problem(e, lines) for e in _validator().iter_errors(data) if not _only_about(e, hints)]
    for key, ours in hints.items():
        problems.append(YamlProblem(lines.get((key,)), f"{key}: ElastAlert's {key} is {ours} here"))
    kind = str(data.get("type"))
    for key in sorted(set(data) & ALL_OPTIONS - TYPE_OPTIONS.get(kind, ALL_OPTIONS)):
        problems.append(YamlProblem(lines.get((key,)), f"{key}: not an option of a {kind} rule"
                                    f" (it takes {', '.join(sorted(TYPE_OPTIONS[kind]))})"))
    if problems:
        errors = [AlertRuleError(name, p.line, rule_id, p.message) for p in problems]
        raise AlertRuleInvalid(sorted(errors, key=lambda e: (e.line or 0, e.message)))
    return _Builder(data, lines, name, text, fields).build()


# What an ElastAlert 2 rule file calls our options: the loader says so instead of "unexpected".
ELASTALERT_NAMES = {
    "num_events": "threshold",
    "timeframe": "window",
    "buffer_time": "window",
    "query_key": "group_by",
    "spike_height": "ratio",
    "spike_type": "direction",
    "threshold_cur": "min_current",
    "threshold_ref": "min_reference",
    "alert_on_new_data": "alert_on_new_key",
    "fields": "field (one keyword field)",
    "terms_window_size": "lookback",
    "cardinality_field": "distinct_field",
    "max_cardinality": "threshold (at least, with direction at_least)",
    "min_cardinality": "threshold with direction below",
    "metric_agg_key": "metric.field",
    "metric_agg_type": "metric.op",
    "max_threshold": "above",
    "min_threshold": "below",
    "min_doc_count": "min_reports",
    "exponential_realert": "realert.max",
    "realert_key": "dedup_key",
    "run_every": "schedule.every",
    "query_delay": "schedule.buffer",
    "name": "id (and title)",
    "priority": "severity",
    "category": "group",
    "aggregation": "an open alert collecting its matches (always on) and clear_after",
}


def _only_about(err: jsonschema.ValidationError, hints: Mapping[str, str]) -> bool:
    """An "unexpected property" error about ElastAlert names only: replaced by the hints."""
    if err.validator != "additionalProperties" or tuple(err.absolute_path) or not hints:
        return False
    schema: Any = err.schema
    instance: Any = err.instance
    extra = set(instance) - set(schema.get("properties", {}))
    return extra <= set(hints)


# Options each type takes (the schema defines them; this says which type may use which).
TYPE_OPTIONS = {
    "frequency": {"window", "threshold", "group_by"},
    "spike": {"window", "ratio", "direction", "min_current", "min_reference", "group_by", "alert_on_new_key"},
    "new_term": {"field", "lookback", "window", "min_count"},
    "cardinality": {"window", "group_by", "distinct_field", "threshold", "direction"},
    "threshold": {"field", "above", "below", "group_by"},
    "metric": {"window", "metric", "above", "below", "group_by", "min_reports"},
    "flatline": {"window", "threshold", "group_by", "baseline", "expect"},
}
ALL_OPTIONS = set().union(*TYPE_OPTIONS.values())


class _Builder:
    """Cross-field checks and the frozen rule; errors are collected, then raised together."""

    def __init__(self, data: dict[str, Any], lines: Lines, name: str, text: str, fields: IndexFields):
        self.data, self.lines, self.name, self.text, self.fields = data, lines, name, text, fields
        self.errors: list[AlertRuleError] = []

    def fail(self, path: Path_, message: str) -> None:
        self.errors.append(AlertRuleError(self.name, line_of(self.lines, path), self.data["id"], message))

    # --- fields -------------------------------------------------------------------------------

    def field(self, path: Path_, kinds: tuple[str, ...], purpose: str, name: str | None = None) -> str:
        """The field named at ``path`` (or ``name``, a key found at ``path``), checked."""
        name = self._get(path) if name is None else name
        try:
            kind = self.fields.schema.kind_of(name)
        except KeyError:
            self.fail(path, f"unknown field {name!r} for {purpose}")
            return name
        if kind not in kinds:
            self.fail(path, f"{purpose} needs a {' or '.join(kinds)} field; {name!r} is {kind}")
        return name

    def _known(self) -> set[str]:
        s = self.fields.schema
        return {*s.text, *s.keyword, *s.date, *s.number, *s.boolean}

    def _get(self, path: Path_) -> Any:
        value: Any = self.data
        for part in path:
            value = value[part]
        return value

    def duration(self, path: Path_, default: timedelta) -> timedelta:
        try:
            raw = self._get(path)
        except KeyError:
            return default
        return parse_duration(raw)

    def tiered(self, path: Path_, tighter: str) -> Tiered:
        """``tighter``: "lower" when a lower number is stricter (counts that must be reached,
        bounds to stay under), "higher" when a higher one is (bounds to stay above)."""
        raw = self._get(path)
        if not isinstance(raw, dict):
            return Tiered.single(raw)
        high, medium, low = raw["high"], raw["medium"], raw["low"]
        ordered = high <= medium <= low if tighter == "lower" else high >= medium >= low
        if not ordered:
            sign = "<=" if tighter == "lower" else ">="
            self.fail(path, f"thresholds must be as strict or stricter for higher tiers: "
                            f"need high {sign} medium {sign} low, got {high}, {medium}, {low}")
        return Tiered(high, medium, low, raw["untiered"] if "untiered" in raw else low, True)

    # --- the rule -----------------------------------------------------------------------------

    def build(self) -> AlertRule:
        d = self.data
        schedule = Schedule(self.duration(("schedule", "every"), DEFAULT_EVERY),
                            self.duration(("schedule", "buffer"), DEFAULT_BUFFER))
        realert_after = self.duration(("realert", "after"), DEFAULT_REALERT)
        realert_max = self.duration(("realert", "max"), timedelta(0)) or None
        if realert_max is not None and realert_max < realert_after:
            self.fail(("realert", "max"), "realert max is shorter than realert after")
        options = self.options(schedule)
        rule = AlertRule(
            id=d["id"],
            title=Text(**d["title"]),
            description=Text(**d["description"]) if "description" in d else None,
            type=d["type"],
            options=options,
            severity=self.severity(),
            owner=d["owner"],
            group=d["group"],
            labels=tuple(sorted(d.get("labels", {}).items())),
            index=d.get("index", REPORTS_INDEX),
            time_field=d.get("time_field", "reported_at"),
            schedule=schedule,
            filter=self.filter(),
            realert=Realert(realert_after, realert_max),
            pending=self.duration(("pending",), timedelta(0)),
            clear_after=self.duration(("clear_after",), timedelta(0)),
            reopen_within=self.duration(("reopen_within",), realert_after),
            max_reports=d.get("max_reports", DEFAULT_MAX_REPORTS),
            summary_fields=tuple(self.field(("summary_fields", i), ("keyword",), "summary_fields")
                                 for i in range(len(d.get("summary_fields", [])))),
            enabled=d.get("enabled", True),
            dedup_key=d.get("dedup_key"),
            auto_resolve_after=self.duration(("auto_resolve_after",), timedelta(0)) or None,
            filename=self.name,
            line=line_of(self.lines, ("id",)),
            checksum=hashlib.sha256(self.text.encode("utf-8")).hexdigest(),
        )
        if self.errors:
            raise AlertRuleInvalid(self.errors)
        return rule

    def severity(self) -> Severity:
        raw = self.data["severity"]
        if isinstance(raw, str):
            return Severity(raw, raw, raw, raw, False)
        return Severity(raw["high"], raw["medium"], raw["low"], raw.get("untiered", raw["low"]), True)

    def filter(self) -> SearchQuery:
        raw = self.data.get("filter", {})
        filters = {name: self.values(("filter", "match", name), value, "a match filter")
                   for name, value in raw.get("match", {}).items()}
        exclude = {name: self.values(("filter", "exclude", name), value, "an exclude filter")
                   for name, value in raw.get("exclude", {}).items()}
        ranges: dict[str, Range] = {}
        for name, bounds in raw.get("range", {}).items():
            self.field(("filter", "range", name), ("number",), "a range filter", name)
            if "gte" in bounds and "lt" in bounds and not bounds["gte"] < bounds["lt"]:
                self.fail(("filter", "range", name), "an empty range: gte must be below lt")
            ranges[name] = Range(bounds.get("gte"), bounds.get("lt"))
        return SearchQuery(text=raw.get("text"), filters=filters, ranges=ranges, exclude=exclude)

    def values(self, path: Path_, value: Any, purpose: str) -> Any:
        """A match or exclude entry: one value or a list, typed for its field, codes known."""
        name = path[-1]
        kind = self.fields.schema.kind_of(name) if name in self._known() else None
        self.field(path, ("keyword", "boolean", "number"), purpose, name)
        values = value if isinstance(value, list) else [value]
        if kind == "keyword" and not all(isinstance(v, str) for v in values):
            self.fail(path, f"{name!r} is a keyword field: match it with text values")
        elif kind == "boolean" and not all(isinstance(v, bool) for v in values):
            self.fail(path, f"{name!r} is a yes/no field: match it with true or false")
        elif kind == "number" and not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            self.fail(path, f"{name!r} is a number field: match it with numbers")
        codes = self.fields.codes.get(name)
        for i, v in enumerate(values):
            if codes is not None and v not in codes:
                where = path + (i,) if isinstance(value, list) else path
                self.fail(where, f"unknown code {v!r} for field {name} (known: {', '.join(sorted(codes))})")
        return tuple(value) if isinstance(value, list) else value

    def options(self, schedule: Schedule) -> Options:
        d, kind = self.data, self.data["type"]
        group_by = self.field(("group_by",), ("keyword",), "group_by") if "group_by" in d else None
        window = self.duration(("window",), timedelta(0))
        if window and window < schedule.every:
            self.fail(("window",), f"window {d['window']} is shorter than schedule.every "
                                   f"{d.get('schedule', {}).get('every', '1m')}: reports between windows would never count")
        if kind == "frequency":
            return FrequencyOptions(window, self.tiered(("threshold",), "lower"), group_by)
        if kind == "spike":
            return SpikeOptions(window, d["ratio"], d.get("direction", "up"), d.get("min_current", 0),
                                d.get("min_reference", 0), group_by, d.get("alert_on_new_key", False))
        if kind == "new_term":
            lookback = self.duration(("lookback",), timedelta(0))
            if lookback < (window or schedule.every):
                self.fail(("lookback",), f"lookback {d['lookback']} is shorter than the window it looks back from")
            return NewTermOptions(self.field(("field",), ("keyword",), "new_term"), lookback, window or None,
                                  d.get("min_count", 1))
        if kind == "cardinality":
            distinct = self.field(("distinct_field",), ("keyword",), "distinct_field")
            direction = d.get("direction", "at_least")
            if distinct == group_by:
                self.fail(("distinct_field",), "distinct_field is the group_by field: it has one value per group")
            return CardinalityOptions(window, group_by or "", distinct, self.tiered(("threshold",), "lower"), direction,
                                      distinct in self.fields.multi_valued)
        if kind == "threshold":
            above, below = self.bounds()
            return ThresholdOptions(self.field(("field",), ("number",), "a threshold"), above, below, group_by)
        if kind == "metric":
            above, below = self.bounds()
            metric_field = self.field(("metric", "field"), ("number",), f"metric {d['metric']['op']}")
            return MetricOptions(window, d["metric"]["op"], metric_field, above, below, group_by, d.get("min_reports", 1))
        assert kind == "flatline"
        expect = tuple(d.get("expect", ()))
        if expect and group_by is None:
            self.fail(("expect",), "expect lists group_by keys: set group_by")
        if "baseline" in d and (group_by is None or expect):
            self.fail(("baseline",), "baseline finds the keys to expect: it needs group_by and no expect list")
        baseline = self.duration(("baseline",), timedelta(days=7))
        return FlatlineOptions(window, d["threshold"], group_by, baseline, expect)

    def bounds(self) -> tuple[Tiered | None, Tiered | None]:
        has = [k for k in ("above", "below") if k in self.data]
        if len(has) != 1:
            self.fail(("type",), f"a {self.data['type']} rule needs exactly one of above or below, got "
                                 f"{' and '.join(has) or 'neither'}")
            return Tiered.single(0), None
        if has[0] == "above":
            return self.tiered(("above",), "lower"), None
        return None, self.tiered(("below",), "higher")
