"""The reports behind each alert touched in a cycle: gathered while the cycle decides, fetched at
its end in batched searches (one round trip per 100 alerts), linked up to the rule's
``max_reports``, and the alert's summary, identifiers, applications and campaigns updated.

An alert that keeps matching looks for new reports every five minutes, from where it last
looked less the rule's buffer (late reports within the buffer are linked too; later ones are
counted by the rule but not linked); its numbers and severity follow every match.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tierwatch.core.search import SearchIndex, SearchQuery, SearchResult
from tierwatch.monitoring.alerts import store
from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.models import Alert
from tierwatch.monitoring.alerts.summary import add_facets, summarise
from tierwatch.monitoring.alerts.types import Match, reports_query

BATCH = 100
LINK_EVERY = timedelta(minutes=5)
MAX_LISTED = 50  # identifiers, applications, campaigns kept on the alert row
COUNTING = ("frequency", "spike", "new_term", "cardinality", "metric")  # summaries count reports


@dataclass
class _Wanted:
    rule: AlertRule
    alert: Alert
    match: Match
    report_ids: set[str] = field(default_factory=set)


def looks_again(linked_until: datetime | None, end: datetime) -> bool:
    """Whether an alert matching at ``end`` looks for new reports (else only its numbers move)."""
    return linked_until is None or end - linked_until >= LINK_EVERY


class Links:
    def __init__(self, search: SearchIndex, index: str):
        self.search, self.index = search, index
        self.wanted: dict[int, _Wanted] = {}
        self.requests = self.round_trips = 0  # what linking cost, for the cycle's counts

    def want(self, rule: AlertRule, alert: Alert, match: Match) -> None:
        """The reports of this match belong to this alert. An alert that keeps matching looks
        for new reports every LINK_EVERY (its numbers are updated at every match)."""
        start = match.start
        if alert.linked_until is not None and not match.report_id:
            if not looks_again(alert.linked_until, match.end):
                return
            start = max(start, alert.linked_until - rule.schedule.buffer - rule.schedule.every)
        found = self.wanted.get(alert.id)
        if found is None:
            found = self.wanted[alert.id] = _Wanted(rule, alert, replace(match, start=min(start, match.end)))
        else:
            found.match = replace(match, start=min(found.match.start, start))
        if match.report_id:
            found.report_ids.add(match.report_id)

    def fetch_and_link(self, session: Session, now: datetime) -> dict[int, int]:
        """Link what each alert wants; returns alert id -> reports newly linked."""
        docs = self._fetch()
        fresh = store.link_reports(session, {alert_id: (docs.get(alert_id, []), w.rule.max_reports - w.alert.report_count)
                                             for alert_id, w in self.wanted.items()}, now)
        linked: dict[int, int] = {}
        for alert_id, wanted in self.wanted.items():
            alert, rule = wanted.alert, wanted.rule
            new = fresh.get(alert_id, [])
            linked[alert_id] = len(new)
            alert.linked_until = max(alert.linked_until or wanted.match.end, wanted.match.end)
            if new:
                alert.report_count += len(new)
                alert.facets = add_facets(alert.facets, rule.summary_fields, new)
                alert.identifiers = _union(alert.identifiers, (i for d in new for i in _list(d.get("identifiers"))))
                alert.application_ids = _union(alert.application_ids, (a for d in new for a in _list(d.get("application_id"))))
                alert.campaign_ids = _union(alert.campaign_ids, (c for d in new for c in _list(d.get("campaign_id"))))
            alert.summary = summary_of(alert, rule)
        return linked

    def _fetch(self) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {}
        queries: list[tuple[int, SearchQuery]] = []
        for alert_id, w in self.wanted.items():
            room = w.rule.max_reports - w.alert.report_count
            if room <= 0:
                continue
            if w.report_ids:  # per-report rules name their reports
                out[alert_id] = [d for d in (self.search.get(self.index, r) for r in sorted(w.report_ids)) if d]
                self.requests += len(w.report_ids)
                self.round_trips += len(w.report_ids)
            else:
                queries.append((alert_id, reports_query(w.rule, w.match, room)))
        for start in range(0, len(queries), BATCH):
            chunk = queries[start:start + BATCH]
            self.requests += len(chunk)
            self.round_trips += 1
            for (alert_id, _), result in zip(chunk, self.search.batch(self.index, [q for _, q in chunk]), strict=True):
                if isinstance(result, SearchResult):
                    out[alert_id] = result.hits
                # a failed search links nothing now; the alert's next match tries again
        return out


def summary_of(alert: Alert, rule: AlertRule) -> dict[str, str]:
    """"13 reports in 2 h about <key>, 9 mention a cloned voice; Shenzhen, Dongguan" for rules
    that count reports; the rule's reason for the others (a threshold, a silent feed)."""
    if rule.type not in COUNTING or not alert.report_count:
        return dict(alert.reason)
    size = alert.window_end - alert.window_start
    # Every linked report is in the latest window, or they came over the alert's life.
    within = alert.report_count <= int(alert.counts.get("current", 0))
    span = size if within else (alert.window_end - alert.first_match_at) + size
    text = summarise(alert.report_count, _round(span), alert.group_key or None, alert.group_field, alert.facets)
    return {"zh": text.zh, "en": text.en}


def _round(span: timedelta) -> timedelta:
    for unit in (timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)):
        if span >= unit:
            return unit * round(span / unit)
    return span


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _union(existing: list[Any], more: Any) -> list[Any]:
    return list(dict.fromkeys([*existing, *more]))[:MAX_LISTED]
