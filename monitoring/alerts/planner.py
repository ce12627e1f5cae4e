"""Batch the search work of due rules so its cost grows with the distinct queries, not the rules.

Every rule type asks for group queries (or searches) at its window end. Requests that select the
same documents -- same date field, same filter once normalised, same group_by and key list -- are
merged into one: the union of their windows (a window is named by its bounds, so equal windows
are shared), the union of their metrics, the smallest minimum count. Identical searches are
asked once. Pure: rules and window ends in, requests and routes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tierwatch.core.search import GroupQuery, Metric, SearchQuery, Window
from tierwatch.monitoring.alerts.model import AlertRule
from tierwatch.monitoring.alerts.types import TYPES, Request

# Requests are merged only when their longest windows differ by at most this factor: a 10-minute
# window merged into a 3-day request would page through every key of the 3 days.
MAX_SPAN_RATIO = 12
# Elasticsearch refuses a response with more than search.max_buckets (65,536) buckets; a page of
# a group query holds 1 + windows x (1 + values-metric buckets) buckets per key.
MAX_BUCKETS = 60_000
VALUES_BUCKETS = 4  # buckets a "values" metric adds per window, expected (tiers: 4 at most)
# Keys per page, at most. Each page of a request that needs every key re-reads the matching
# documents on Elasticsearch (composite), so a few large pages beat many small ones (measured:
# bench_alerting.py, 1,000 -> 10,000 took a request over 25,000 keys from 7 scans to 3).
PAGE_LIMIT = 10_000


@dataclass(frozen=True)
class Due:
    rule: AlertRule
    end: datetime  # the window end to evaluate (aligned to the rule's schedule)


@dataclass
class Plan:
    requests: list[Request] = field(default_factory=list)
    # (rule id, end) -> for each of the rule's own requests, in order, the index of the request
    # that answers it
    routes: dict[tuple[str, datetime], list[int]] = field(default_factory=dict)

    def for_rule(self, due: Due, answers: Sequence[Any]) -> list[Any]:
        return [answers[i] for i in self.routes[(due.rule.id, due.end)]]


def _values(value: Any) -> tuple[Any, ...]:
    values = value if isinstance(value, list | tuple) else [value]
    return tuple(sorted(set(values), key=repr))


def canonical_query(query: SearchQuery) -> tuple[Any, ...]:
    """Equal for queries that select the same documents: term order, a scalar against a
    one-item list, and filter order do not matter."""
    # Rules keep their filter objects for their lifetime: the same object gives the same answer
    # (a cycle asks it hundreds of times). Keyed by identity, holding the object so the id stays
    # its own; a bounded cache, as rule sets are small.
    cached = _CANONICAL.get(id(query))
    if cached is not None and cached[0] is query:
        return cached[1]
    value = _canonical(query)
    if len(_CANONICAL) > 20_000:
        _CANONICAL.clear()
    _CANONICAL[id(query)] = (query, value)
    return value


_CANONICAL: dict[int, tuple[SearchQuery, tuple[Any, ...]]] = {}


def _canonical(query: SearchQuery) -> tuple[Any, ...]:
    terms = tuple(sorted(set((query.text or "").split())))
    filters = tuple(sorted((k, _values(v)) for k, v in query.filters.items()))
    ranges = tuple(sorted((k, r.gte, r.lt) for k, r in query.ranges.items()))
    exclude = tuple(sorted((k, _values(v)) for k, v in query.exclude.items() if _values(v)))
    return terms, filters, ranges, exclude


def _normalised(query: SearchQuery) -> SearchQuery:
    terms, filters, ranges, exclude = canonical_query(query)
    return SearchQuery(
        text=" ".join(terms) or None,
        filters={k: v for k, v in filters},
        ranges={k: query.ranges[k] for k, _, _ in ranges},
        exclude={k: v for k, v in exclude},
    )


def _group_key(request: GroupQuery) -> tuple[Any, ...]:
    # A request that needs every key (minimum count 1) is not merged with one that needs only
    # keys with several documents: the engine can leave the many one-report keys out of the
    # latter (Elasticsearch's min_doc_count), and merging would make it return them all.
    return (request.date_field, canonical_query(request.query), request.group_by, request.keys,
            request.min_count > 1)


def _longest(request: GroupQuery) -> float:
    return max((w.lt - w.gte).total_seconds() for w in request.windows)


def _search_key(query: SearchQuery) -> tuple[Any, ...]:
    return (canonical_query(query), query.sort, query.offset, query.limit)


def _slot_for(candidates: list[list[Any]], longest: float, new_slot: int) -> int:
    """The first request of the same documents whose windows stay within MAX_SPAN_RATIO of this
    one's once merged; else a new request."""
    for entry in candidates:
        slot, low, high = entry
        if max(high, longest) <= MAX_SPAN_RATIO * min(low, longest):
            entry[1], entry[2] = min(low, longest), max(high, longest)
            return slot
    candidates.append([new_slot, longest, longest])
    return new_slot


def page_size(windows: int, metrics: Sequence[Metric], limit: int = PAGE_LIMIT) -> int:
    per_key = 1 + windows * (1 + VALUES_BUCKETS * sum(m.op == "values" for m in metrics))
    return max(1, min(limit, MAX_BUCKETS // per_key))


def plan(due: Sequence[Due], *, page_limit: int = PAGE_LIMIT) -> Plan:
    return merge([(d, TYPES[d.rule.type].requests(d.rule, d.end)) for d in due], page_limit=page_limit)


def merge(asked: Sequence[tuple[Due, Sequence[Request]]], *, page_limit: int = PAGE_LIMIT) -> Plan:
    """Merge the requests of several rules (first round or follow-ups)."""
    result = Plan()
    slots: dict[tuple[Any, ...], int] = {}
    # base key -> [(slot, shortest and longest "longest window" merged into it)]
    spans: dict[tuple[Any, ...], list[list[Any]]] = {}
    windows: dict[int, dict[str, Window]] = {}
    metrics: dict[int, dict[str, Metric]] = {}
    min_count: dict[int, int] = {}
    for d, requests in asked:
        route = result.routes.setdefault((d.rule.id, d.end), [])
        for request in requests:
            if isinstance(request, GroupQuery):
                slot = _slot_for(spans.setdefault(_group_key(request), []), _longest(request), len(result.requests))
                if slot == len(result.requests):
                    result.requests.append(replace(request, query=_normalised(request.query), windows=(), metrics=()))
                    windows[slot], metrics[slot] = {}, {}
                windows[slot].update({w.name: w for w in request.windows})
                metrics[slot].update({m.key: m for m in request.metrics})
                min_count[slot] = min(min_count.get(slot, request.min_count), request.min_count)
            else:
                key = ("search", *_search_key(request))
                if key not in slots:
                    slots[key] = len(result.requests)
                    normal = _normalised(request)
                    result.requests.append(replace(request, filters=normal.filters, exclude=normal.exclude))
                slot = slots[key]
            route.append(slot)
    for slot, request in enumerate(result.requests):
        if isinstance(request, GroupQuery):
            chosen, merged = tuple(metrics[slot].values()), tuple(windows[slot].values())
            result.requests[slot] = replace(request, windows=merged, metrics=chosen, min_count=min_count[slot],
                                            size=page_size(len(merged), chosen, page_limit))
    return result
