"""One evaluation cycle over the search index: plan the due rules' requests, send them in
batches (one ``_msearch`` per batch on Elasticsearch), follow every page, ask the follow-ups,
and let each rule type decide. No database here: the caller persists matches, watermarks and run
records in one transaction (see DESIGN.md); a rule whose requests fail gets an error and no
matches, and does not stop the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tierwatch.core.search import GroupPage, GroupQuery, SearchIndex, SearchQuery, SearchResult
from tierwatch.monitoring.alerts.planner import PAGE_LIMIT, Due, Plan, merge, plan
from tierwatch.monitoring.alerts.sliding import Sliding, StreamGroups, search_window
from tierwatch.monitoring.alerts.types import MAX_HITS, TYPES, Match

# Types whose condition for a key depends only on that key's group: with windows held in memory,
# a rule of these types looks only at the keys that changed since it last looked, and at those
# that matched then (the others cannot match now).
PER_KEY = frozenset({"frequency", "spike", "cardinality", "metric"})

log = logging.getLogger(__name__)
BATCH = 100  # requests per round trip
_READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alert-index-reads")


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


def evaluate(search: SearchIndex, index: str, due: Sequence[Due], *, page_limit: int = PAGE_LIMIT,
             sliding: Sliding | None = None) -> Cycle:
    """``sliding``: the evaluator's windows held in memory (see sliding.py); None reads every
    window from the index."""
    started = time.perf_counter()
    cycle = Cycle()
    first = plan(due, page_limit=page_limit)
    # what per-report rules read of each document, when the documents come from memory
    fields = {f for d in due if d.rule.type == "threshold"
              for f in (getattr(d.rule.options, "field", None), getattr(d.rule.options, "group_by", None), "tier") if f}
    answers = _answer(search, index, first, cycle, sliding, fields)
    ends_per_rule: dict[str, int] = {}
    for d in due:
        ends_per_rule[d.rule.id] = ends_per_rule.get(d.rule.id, 0) + 1
    second_round: list[tuple[Due, list[Any], StreamGroups | None]] = []
    asked = []
    for d in due:
        results = first.for_rule(d, answers)
        if _failed(d, results, cycle):
            continue
        held = next((r for r in results if isinstance(r, StreamGroups)), None)
        results = _groups_for(d, results, sliding, single_end=ends_per_rule[d.rule.id] == 1)
        followups = TYPES[d.rule.type].followups(d.rule, d.end, results)
        second_round.append((d, results, held))
        asked.append((d, followups))
    second = merge(asked, page_limit=page_limit)
    more = _answer(search, index, second, cycle, None, lookbacks=_lookbacks(second, due, sliding)) \
        if second.requests else []
    for d, results, held in second_round:
        extra = second.for_rule(d, more)
        if _failed(d, extra, cycle):
            continue
        try:
            found = TYPES[d.rule.type].evaluate(d.rule, d.end, [*results, *extra])
            cycle.by_end[(d.rule.id, d.end)] = found
            cycle.matches.setdefault(d.rule.id, []).extend(found)
            if sliding is not None and held is not None:
                sliding.remember(d.rule.id, d.rule.checksum, held, {m.key for m in found})
        except Exception as exc:  # noqa: BLE001 - a rule's bug must not stop the others
            cycle.errors[d.rule.id] = f"{type(exc).__name__}: {exc}"
    cycle.distinct = len(first.requests) + len(second.requests)
    cycle.seconds = time.perf_counter() - started
    return cycle


def _groups_for(d: Due, results: list[Any], sliding: Sliding | None, *, single_end: bool) -> list[Any]:
    """Answers held in memory as the rule type reads them: every group, or for a per-key rule
    evaluated once in this cycle, the groups of the keys that changed or matched last time."""
    out = []
    for r in results:
        if isinstance(r, StreamGroups):
            keys = None
            if sliding is not None and single_end and d.rule.type in PER_KEY and len(results) == 1:
                keys = sliding.candidates(d.rule.id, d.rule.checksum, r)
            r = r.all() if keys is None else r.some(keys)
        out.append(r)
    return out


def _failed(d: Due, results: list[Any], cycle: Cycle) -> bool:
    errors = [r for r in results if isinstance(r, Exception)]
    if errors:
        cycle.errors[d.rule.id] = "; ".join(f"{type(e).__name__}: {e}" for e in errors)
    return bool(errors)


def _lookbacks(p: Plan, due: Sequence[Due], sliding: Sliding | None) -> tuple[Sliding, set[int]] | None:
    """The follow-ups memory may answer: new_term look-backs (only whether a key was seen)."""
    if sliding is None:
        return None
    rule_type = {(d.rule.id, d.end): d.rule.type for d in due}
    others = {slot for route, slots in p.routes.items() if rule_type[route] != "new_term" for slot in slots}
    slots = {slot for slot, r in enumerate(p.requests)
             if slot not in others and isinstance(r, GroupQuery) and sliding.lookback_servable(r)}
    return (sliding, slots) if slots else None


def _answer(search: SearchIndex, index: str, p: Plan, cycle: Cycle, sliding: Sliding | None,
            fields: set[str] | None = None, lookbacks: tuple[Sliding, set[int]] | None = None) -> list[Any]:
    """Every request of the plan answered in full: all pages of a group query, all hits of a
    search (up to MAX_HITS), or the exception that stopped it; or, for the group queries the
    windows held in memory can answer, their StreamGroups."""
    answers: list[Any] = [None] * len(p.requests)
    pending: list[tuple[int, GroupQuery | SearchQuery]] = list(enumerate(p.requests))
    if sliding is not None:
        held, pending = _servable(sliding, pending)
        # The index answers what memory cannot while memory reads its newest minutes: both
        # mostly wait on the index, so the cycle waits for the longer of the two, not the sum.
        reading = _READS.submit(_read, search, index, pending) if held and pending else None
        try:
            unanswered = _from_memory(search, index, sliding, fields or set(), answers, cycle, held)
        finally:
            if reading is not None:
                reading.result().into(answers, cycle)
        pending = unanswered + (pending if reading is None else [])
    if lookbacks is not None:
        memory, slots = lookbacks
        try:
            before = memory.requests
            asked = [(slot, r) for slot, r in pending if slot in slots]
            for (slot, _), groups in zip(asked, memory.seen(search, index, [r for _, r in asked]), strict=True):
                answers[slot] = groups
            cycle.round_trips += memory.requests - before
            cycle.requests += memory.requests - before
            pending = [(slot, r) for slot, r in pending if slot not in slots]
        except Exception:  # noqa: BLE001 - memory is an optimisation: read from the index
            log.exception("look-backs held in memory failed; reading them from the index")
            memory.forget()
            for slot in slots:
                answers[slot] = None
    _read(search, index, pending).into(answers, cycle)
    return answers


@dataclass
class _Read:
    answers: dict[int, Any] = field(default_factory=dict)
    round_trips: int = 0
    requests: int = 0
    request_seconds: list[float] = field(default_factory=list)

    def into(self, answers: list[Any], cycle: Cycle) -> None:
        for slot, answer in self.answers.items():
            answers[slot] = answer
        cycle.round_trips += self.round_trips
        cycle.requests += self.requests
        cycle.request_seconds += self.request_seconds


def _read(search: SearchIndex, index: str, pending: list[tuple[int, GroupQuery | SearchQuery]]) -> _Read:
    """These requests answered from the index, every page (touches nothing shared: it may run
    beside the windows held in memory)."""
    out = _Read()
    groups: dict[int, list[Any]] = {}
    while pending:
        nxt: list[tuple[int, GroupQuery | SearchQuery]] = []
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            t0 = time.perf_counter()
            results = search.batch(index, [r for _, r in chunk])
            out.request_seconds.append(time.perf_counter() - t0)
            out.round_trips += 1
            out.requests += len(chunk)
            for (slot, request), result in zip(chunk, results, strict=True):
                if isinstance(result, Exception):
                    out.answers[slot] = result
                elif isinstance(result, GroupPage):
                    assert isinstance(request, GroupQuery)
                    groups.setdefault(slot, []).extend(result.groups)
                    if result.next_after is not None:
                        nxt.append((slot, replace(request, after=result.next_after)))
                    else:
                        out.answers[slot] = groups.pop(slot)
                else:
                    assert isinstance(request, SearchQuery) and isinstance(result, SearchResult)
                    hits = out.answers[slot] = _more_hits(out.answers.get(slot), result)
                    if len(hits.hits) < result.total and request.offset + len(result.hits) < MAX_HITS and result.hits:
                        nxt.append((slot, replace(request, offset=request.offset + len(result.hits))))
        pending = nxt
    return out


def _servable(sliding: Sliding, pending: list[tuple[int, GroupQuery | SearchQuery]]
              ) -> tuple[list[tuple[int, GroupQuery | SearchQuery]], list[tuple[int, GroupQuery | SearchQuery]]]:
    """(the requests the windows held in memory can answer, the others)."""
    held, others = [], []
    for slot, r in pending:
        ok = (sliding.servable(r, _end(r)) if isinstance(r, GroupQuery)
              else search_window(r) is not None and sliding.servable_search(r, _end(r)))
        (held if ok else others).append((slot, r))
    return held, others


def _end(r: GroupQuery | SearchQuery) -> datetime:
    if isinstance(r, GroupQuery):
        return max(w.lt for w in r.windows)
    window = search_window(r)
    assert window is not None
    return _minute(window[2])


def _from_memory(search: SearchIndex, index: str, sliding: Sliding, fields: set[str], answers: list[Any],
                 cycle: Cycle, held: list[tuple[int, GroupQuery | SearchQuery]]) -> list[tuple[int, GroupQuery | SearchQuery]]:
    """Answer these requests from the windows held in memory; returns those left for the index
    (all of them if memory fails)."""
    if not held:
        return []
    try:
        before = sliding.requests
        groups = [r for _, r in held if isinstance(r, GroupQuery)]
        searches = [r for _, r in held if isinstance(r, SearchQuery)]
        sliding.load(search, index, groups, max(_end(r) for _, r in held), searches, fields)
        cycle.round_trips += sliding.requests - before
        cycle.requests += sliding.requests - before
        for slot, r in sorted(held, key=lambda sr: _end(sr[1])):
            answers[slot] = sliding.answer(r) if isinstance(r, GroupQuery) else sliding.answer_search(r)
    except Exception:  # noqa: BLE001 - memory is an optimisation: read from the index
        log.exception("windows held in memory failed; reading every window from the index")
        sliding.forget()
        for slot, _ in held:
            answers[slot] = None
        return held
    return []


def _minute(number: int) -> datetime:
    return datetime.fromtimestamp(number * 60, tz=UTC)


def _more_hits(before: SearchResult | None, page: SearchResult) -> SearchResult:
    return page if before is None else SearchResult(page.total, before.hits + page.hits)
