"""One evaluation cycle over the search index: plan the due rules' requests, send them in
batches (one ``_msearch`` per batch on Elasticsearch), follow every page, ask the follow-ups,
and let each rule type decide. No database here: the caller persists matches, watermarks and run
records in one transaction (see DESIGN.md); a rule whose requests fail gets an error and no
matches, and does not stop the others.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tierwatch.core.search import GroupPage, GroupQuery, SearchIndex, SearchQuery, SearchResult
from tierwatch.monitoring.alerts.planner import PAGE_LIMIT, Due, Plan, merge, plan
from tierwatch.monitoring.alerts.types import MAX_HITS, TYPES, Match

BATCH = 100  # requests per round trip


@dataclass
class Cycle:
    matches: dict[str, list[Match]] = field(default_factory=dict)  # rule id -> matches (all its ends)
    by_end: dict[tuple[str, datetime], list[Match]] = field(default_factory=dict)  # (rule id, end) -> matches
    errors: dict[str, str] = field(default_factory=dict)  # rule id -> why it has no matches
    round_trips: int = 0  # batch calls (HTTP requests on Elasticsearch)
    requests: int = 0  # searches and group-query pages inside them
    distinct: int = 0  # distinct requests after merging (first round + follow-ups)
    seconds: float = 0.0
    request_seconds: list[float] = field(default_factory=list)  # per round trip


def evaluate(search: SearchIndex, index: str, due: Sequence[Due], *, page_limit: int = PAGE_LIMIT) -> Cycle:
    started = time.perf_counter()
    cycle = Cycle()
    first = plan(due, page_limit=page_limit)
    answers = _answer(search, index, first, cycle)
    second_round: list[tuple[Due, list[Any]]] = []
    asked = []
    for d in due:
        results = first.for_rule(d, answers)
        if _failed(d, results, cycle):
            continue
        followups = TYPES[d.rule.type].followups(d.rule, d.end, results)
        second_round.append((d, results))
        asked.append((d, followups))
    second = merge(asked, page_limit=page_limit)
    more = _answer(search, index, second, cycle) if second.requests else []
    for d, results in second_round:
        extra = second.for_rule(d, more)
        if _failed(d, extra, cycle):
            continue
        try:
            found = TYPES[d.rule.type].evaluate(d.rule, d.end, [*results, *extra])
            cycle.by_end[(d.rule.id, d.end)] = found
            cycle.matches.setdefault(d.rule.id, []).extend(found)
        except Exception as exc:  # noqa: BLE001 - a rule's bug must not stop the others
            cycle.errors[d.rule.id] = f"{type(exc).__name__}: {exc}"
    cycle.distinct = len(first.requests) + len(second.requests)
    cycle.seconds = time.perf_counter() - started
    return cycle


def _failed(d: Due, results: list[Any], cycle: Cycle) -> bool:
    errors = [r for r in results if isinstance(r, Exception)]
    if errors:
        cycle.errors[d.rule.id] = "; ".join(f"{type(e).__name__}: {e}" for e in errors)
    return bool(errors)


def _answer(search: SearchIndex, index: str, p: Plan, cycle: Cycle) -> list[Any]:
    """Every request of the plan answered in full: all pages of a group query, all hits of a
    search (up to MAX_HITS), or the exception that stopped it."""
    answers: list[Any] = [None] * len(p.requests)
    groups: dict[int, list[Any]] = {}
    pending: list[tuple[int, GroupQuery | SearchQuery]] = list(enumerate(p.requests))
    while pending:
        nxt: list[tuple[int, GroupQuery | SearchQuery]] = []
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            t0 = time.perf_counter()
            results = search.batch(index, [r for _, r in chunk])
            cycle.request_seconds.append(time.perf_counter() - t0)
            cycle.round_trips += 1
            cycle.requests += len(chunk)
            for (slot, request), result in zip(chunk, results, strict=True):
                if isinstance(result, Exception):
                    answers[slot] = result
                elif isinstance(result, GroupPage):
                    assert isinstance(request, GroupQuery)
                    groups.setdefault(slot, []).extend(result.groups)
                    if result.next_after is not None:
                        nxt.append((slot, replace(request, after=result.next_after)))
                    else:
                        answers[slot] = groups.pop(slot)
                else:
                    assert isinstance(request, SearchQuery) and isinstance(result, SearchResult)
                    answers[slot] = _more_hits(answers[slot], result)
                    got = len(answers[slot].hits)
                    if got < result.total and request.offset + len(result.hits) < MAX_HITS and result.hits:
                        nxt.append((slot, replace(request, offset=request.offset + len(result.hits))))
        pending = nxt
    return answers


def _more_hits(before: SearchResult | None, page: SearchResult) -> SearchResult:
    return page if before is None else SearchResult(page.total, before.hits + page.hits)
