"""Group queries answered from windows held in memory and slid forward, so that a steady cycle
reads only the newest minutes from the index instead of every window again.

A *stream* is the documents one filter selects on one date field, grouped by one key field. For
each stream the evaluator keeps, per minute, each key's count and the values of the fields its
rules aggregate (``Partial``), and, per window a rule asks for, the sum of those minutes. At the
next window end a window slides: the minutes that entered are added, those that left are
subtracted. Sums of minutes are exact, so an answer is the one the index would give for the same
documents (the equivalence tests compare both on every rule type).

What is read from the index (``SearchIndex.tagged``, one request per date field for all streams):
- a new stream, or one whose windows grew: every minute of its span, once;
- every cycle: the minutes from ``reread`` before the last end to the new end, which *replace*
  what was held for them: reports that reach the index late (within ``reread``) or are removed
  again are counted as the index holds them.
A change made in place to indexed reports (re-tiering, relinking) bumps the index-change mark in
the database (``alert_index_changes``); the evaluator then drops every stream and reads them
again. A new evaluator (restart, lease moved) starts empty and reads every span once: nothing is
missed, and nothing is held that the index does not hold.

Only windows on whole minutes within ``max_span`` are served here; every other request (keyed
look-ups, searches, longer windows) goes to the index as before.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tierwatch.core.search import MAX_KEYS, MAX_VALUES, Group, GroupQuery, SearchIndex, SearchQuery, SearchResult, Window
from tierwatch.monitoring.alerts.planner import canonical_query

MINUTE = 60
PARTS = 8  # a look-back asked of the index is cut in this many parts (see Sliding.seen)
KEEP_UNUSED = 1440  # cycles a stream no rule reads is kept (a day of one-minute cycles)
StreamKey = tuple[Any, ...]


def minute_of(moment: datetime) -> int | None:
    """The minute number of an instant on a whole minute; None otherwise."""
    seconds = moment.timestamp()
    return int(seconds) // MINUTE if seconds % MINUTE == 0 else None


def _doc_minute(value: Any) -> int | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return int(moment.astimezone(UTC).timestamp() // MINUTE)


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class Partial:
    """One key's documents in one minute or one window: how many, and the values of each
    aggregated field (a multiset, so that subtracting a minute is exact)."""

    __slots__ = ("count", "values")

    def __init__(self) -> None:
        self.count = 0
        self.values: dict[str, Counter[Any]] = {}

    def add(self, other: Partial, sign: int = 1) -> None:
        self.count += sign * other.count
        for name, counter in other.values.items():
            mine = self.values.setdefault(name, Counter())
            if sign > 0:
                mine.update(counter)
            else:
                mine.subtract(counter)
                for value in [v for v, n in mine.items() if n <= 0]:
                    del mine[value]

    def metric(self, op: str, name: str) -> Any:
        counter = self.values.get(name, Counter())
        if op == "cardinality":
            return len(counter)
        if op == "values":
            return sorted(counter)[:MAX_VALUES]
        n = sum(counter.values())
        if op == "sum":
            return float(sum(v * c for v, c in counter.items())) if n else 0.0
        if not n:
            return None
        if op == "avg":
            return float(sum(v * c for v, c in counter.items())) / n
        return float(min(counter) if op == "min" else max(counter))


@dataclass
class _Window:
    lo: int  # minutes [lo, hi)
    hi: int
    keys: dict[str | None, Partial]
    used: int  # the cycle that last read it


class Stream:
    def __init__(self, key: StreamKey, query: SearchQuery, date_field: str, group_by: str | None,
                 fields: frozenset[str], name: str):
        self.key, self.query, self.date_field, self.group_by = key, query, date_field, group_by
        self.fields, self.name = fields, name
        self.minutes: dict[int, dict[str | None, Partial]] = {}
        self.lo: int | None = None  # minutes [lo, hi) are held
        self.hi: int | None = None
        self.windows: list[_Window] = []
        self.seq = 0  # bumped by every change to a window
        # seq and key of every change to a window, in seq order: what changed since a rule looked
        self.change_seqs: list[int] = []
        self.change_keys: list[str | None] = []
        self.used = 0  # the cycle that last read it
        self.asked_lo: int | None = None  # the earliest minute read in that cycle (documents)

    # --- minutes --------------------------------------------------------------------------

    def partials(self, docs: Iterable[tuple[int, Mapping[str, Any]]]) -> dict[int, dict[str | None, Partial]]:
        out: dict[int, dict[str | None, Partial]] = {}
        for minute, doc in docs:
            keys = [None] if self.group_by is None else [str(k) for k in dict.fromkeys(_values(doc.get(self.group_by)))]
            for k in keys:
                p = out.setdefault(minute, {}).get(k)
                if p is None:
                    p = out[minute][k] = Partial()
                p.count += 1
                for f in self.fields:
                    vals = list(dict.fromkeys(_values(doc.get(f))))
                    if vals:
                        p.values.setdefault(f, Counter()).update(vals)
        return out

    def replace(self, lo: int, hi: int, fresh: dict[int, dict[str | None, Partial]]) -> None:
        """Minutes [lo, hi) as the index holds them now; windows over them follow."""
        self.seq += 1
        for minute in range(lo, hi):
            old, new = self.minutes.pop(minute, None), fresh.get(minute)
            if new:
                self.minutes[minute] = new
            if old is None and new is None:
                continue
            for w in self.windows:
                if w.lo <= minute < w.hi:
                    self._apply(w, old, -1)
                    self._apply(w, new, 1)
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)

    def evict(self, before: int) -> None:
        for minute in [m for m in self.minutes if m < before]:
            del self.minutes[minute]
        if self.lo is not None and self.lo < before:
            self.lo = before
        self.windows = [w for w in self.windows if w.lo >= before]

    def holds(self, lo: int, hi: int) -> bool:
        return self.lo is not None and self.hi is not None and self.lo <= lo and hi <= self.hi

    # --- windows --------------------------------------------------------------------------

    def _apply(self, w: _Window, minute: dict[str | None, Partial] | None, sign: int) -> None:
        if not minute:
            return
        for k, p in minute.items():
            mine = w.keys.get(k)
            if mine is None:
                mine = w.keys[k] = Partial()
            mine.add(p, sign)
            if mine.count <= 0:
                del w.keys[k]
            self.change_seqs.append(self.seq)
            self.change_keys.append(k)

    def window(self, lo: int, hi: int, cycle: int) -> _Window:
        """The window [lo, hi): one already there, the nearest earlier one of the same length
        slid forward, or a new one summed from the minutes."""
        length = hi - lo
        best = None
        for w in self.windows:
            if w.lo == lo and w.hi == hi:
                w.used = cycle
                return w
            if w.hi - w.lo == length and w.hi < hi and w.used != cycle and hi - w.hi < length \
                    and (best is None or w.hi > best.hi):
                best = w
        self.seq += 1
        if best is None:
            best = _Window(lo, lo, {}, cycle)
            self.windows.append(best)
            for minute in range(lo, hi):
                self._apply(best, self.minutes.get(minute), 1)
        else:
            for minute in range(best.hi, hi):
                self._apply(best, self.minutes.get(minute), 1)
            for minute in range(best.lo, lo):
                self._apply(best, self.minutes.get(minute), -1)
        best.lo, best.hi, best.used = lo, hi, cycle
        return best

    def changed_since(self, seq: int) -> set[str | None]:
        return set(self.change_keys[bisect_right(self.change_seqs, seq):])

    def forget_changes(self, upto: int) -> None:
        """Changes no rule will ask about any more (every memo on this stream is newer)."""
        start = bisect_right(self.change_seqs, upto)
        self.change_seqs, self.change_keys = self.change_seqs[start:], self.change_keys[start:]


class DocStream(Stream):
    """The documents themselves, per minute (per-report rules read them: a few minutes' worth)."""

    def partials(self, docs: Iterable[tuple[int, Mapping[str, Any]]]) -> dict[int, Any]:
        out: dict[int, list[Mapping[str, Any]]] = {}
        for minute, doc in docs:
            out.setdefault(minute, []).append(doc)
        return out

    def replace(self, lo: int, hi: int, fresh: dict[int, Any]) -> None:
        for minute in range(lo, hi):
            self.minutes.pop(minute, None)
            if fresh.get(minute):
                self.minutes[minute] = fresh[minute]
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)

    def hits(self, lo: int, hi: int, limit: int) -> SearchResult:
        docs = [d for m in range(lo, hi) for d in self.minutes.get(m, ())]  # type: ignore[attr-defined]
        docs.sort(key=lambda d: (str(d.get(self.date_field)), str(d["id"])))
        return SearchResult(len(docs), [dict(d) for d in docs[:limit]])


def search_window(query: SearchQuery) -> tuple[str, int, int] | None:
    """A per-report search over whole minutes of one date field: (field, from, to), else None."""
    dated = [(f, r) for f, r in query.ranges.items() if isinstance(r.gte, datetime) or isinstance(r.lt, datetime)]
    if len(dated) != 1 or query.offset or query.sort != dated[0][0]:
        return None
    name, bounds = dated[0]
    lo = minute_of(bounds.gte) if isinstance(bounds.gte, datetime) else None
    hi = minute_of(bounds.lt) if isinstance(bounds.lt, datetime) else None
    return (name, lo, hi) if lo is not None and hi is not None and lo < hi else None


def _undated(query: SearchQuery, date_field: str) -> SearchQuery:
    return replace(query, ranges={f: r for f, r in query.ranges.items() if f != date_field},
                   sort=None, offset=0, limit=0)


class StreamGroups:
    """The answer to one group query from a stream: every group, or only some keys' (the
    evaluator asks for the keys that changed since a rule last looked, plus those that matched)."""

    def __init__(self, stream: Stream, request: GroupQuery, windows: list[tuple[str, _Window]]):
        self.stream, self.request, self.windows = stream, request, windows
        self.seq = stream.seq  # (a window read in this cycle does not move again before the next)
        self._groups: dict[str | None, Group | None] = {}  # rules merged into one request share them

    def _group(self, key: str | None) -> Group | None:
        if key not in self._groups:
            self._groups[key] = self._count(key)
        return self._groups[key]

    def _count(self, key: str | None) -> Group | None:
        counts, metrics = {}, {}
        for name, w in self.windows:
            p = w.keys.get(key)
            counts[name] = p.count if p else 0
            metrics[name] = {m.key: (p or Partial()).metric(m.op, m.field) for m in self.request.metrics}
        if max(counts.values()) < self.request.min_count:
            return None
        return Group(key, counts, metrics)

    def keys(self) -> set[str | None]:
        return set().union(*(w.keys for _, w in self.windows))

    def all(self) -> list[Group]:
        return self.some(self.keys())

    def some(self, keys: Iterable[str | None]) -> list[Group]:
        groups = (self._group(k) for k in sorted(set(keys), key=lambda k: (k is not None, k or "")))
        return [g for g in groups if g is not None]


@dataclass
class _Seen:
    """What is known of one key's latest document before minute ``upto`` (call it L): L is at
    least ``since``, and there is none in [``none_from``, ``upto``)."""

    upto: int
    since: int | None
    none_from: int | None


@dataclass
class _Memo:
    stream: Stream
    seq: int
    matched: set[str | None]
    checksum: str


@dataclass
class Sliding:
    """The evaluator's memory across cycles (one per evaluator process)."""

    max_span: timedelta = timedelta(days=2)
    reread: timedelta = timedelta(minutes=5)
    streams: dict[StreamKey, Stream] = field(default_factory=dict)
    memos: dict[str, _Memo] = field(default_factory=dict)  # rule id -> what it saw last
    change_mark: int | None = None
    cycle: int = 0
    docs_read: int = 0  # documents read from the index (for the benchmark)
    requests: int = 0
    _serial: int = 0
    seen_keys: dict[tuple[StreamKey, str], _Seen] = field(default_factory=dict)
    _seen_asked: set[tuple[StreamKey, str]] = field(default_factory=set)

    # --- which requests are served here ---------------------------------------------------

    def servable(self, request: GroupQuery, end: datetime) -> bool:
        if request.keys is not None or request.after is not None:
            return False
        bounds = [minute_of(b) for w in request.windows for b in (w.gte, w.lt)]
        if any(b is None for b in bounds):
            return False
        lo = min(minute_of(w.gte) or 0 for w in request.windows)
        return (minute_of(end) or 0) - lo <= self.max_span.total_seconds() // MINUTE

    @staticmethod
    def stream_key(request: GroupQuery) -> StreamKey:
        return (request.date_field, canonical_query(request.query), request.group_by)

    # --- one cycle ------------------------------------------------------------------------

    def start_cycle(self, change_mark: int | None) -> None:
        self.cycle += 1
        if change_mark != self.change_mark:
            self.forget()
            self.change_mark = change_mark

    def servable_search(self, query: SearchQuery, end: datetime) -> bool:
        span = search_window(query)
        end_m = minute_of(end)
        return span is not None and end_m is not None and end_m - span[1] <= self.max_span.total_seconds() // MINUTE

    def load(self, search: SearchIndex, index: str, requests: Sequence[GroupQuery], end: datetime,
             searches: Sequence[SearchQuery] = (), fields: Iterable[str] = ()) -> None:
        """Make every stream these requests need hold the minutes of their windows up to ``end``,
        reading new minutes (and the last ``reread`` again) in one request per date field.
        ``searches`` are per-report searches (see ``search_window``); ``fields`` what their
        rules read of each document."""
        end_m = minute_of(end)
        assert end_m is not None
        reread = int(self.reread.total_seconds() // MINUTE)
        wanted: dict[StreamKey, tuple[Any, str, str | None, int, set[str], type[Stream]]] = {}
        for r in requests:
            key = self.stream_key(r)
            lo = min(minute_of(w.gte) or 0 for w in r.windows)
            wanted_fields = {m.field for m in r.metrics}
            if key in wanted:
                lo, wanted_fields = min(lo, wanted[key][3]), wanted_fields | wanted[key][4]
            wanted[key] = (r.query, r.date_field, r.group_by, lo, wanted_fields, Stream)
        for q in searches:
            date_field, lo, _ = search_window(q)  # type: ignore[misc]
            undated = _undated(q, date_field)
            key = ("docs", date_field, canonical_query(undated))
            if key in wanted:
                lo = min(lo, wanted[key][3])
            wanted[key] = (undated, date_field, None, lo, set(fields), DocStream)
        reads: dict[str, list[tuple[Stream, int, int]]] = {}  # date field -> (stream, from, to)
        for key, (query, date_field, group_by, lo, wanted_fields, kind) in wanted.items():
            stream = self.streams.get(key)
            if stream is None or not wanted_fields <= stream.fields or stream.lo is None or stream.lo > lo:
                # new, or a rule aggregates a new field or needs older minutes: read it whole
                self._serial += 1
                held = stream.fields if stream is not None else frozenset()
                stream = self.streams[key] = kind(key, query, date_field, group_by,
                                                  frozenset(wanted_fields) | held, f"s{self._serial}")
                reads.setdefault(date_field, []).append((stream, lo, end_m))
            elif stream.hi is not None and stream.hi < end_m:
                reads.setdefault(date_field, []).append((stream, max(stream.lo, stream.hi - reread), end_m))
        for date_field, items in reads.items():
            self._read(search, index, date_field, items)

    def _read(self, search: SearchIndex, index: str, date_field: str, items: list[tuple[Stream, int, int]]) -> None:
        # Streams starting (the whole span) and streams moving on (the newest minutes) in two
        # requests, so that the newest minutes are not read for every query over the whole span.
        for group in ([i for i in items if i[0].hi is None], [i for i in items if i[0].hi is not None]):
            if not group:
                continue
            lo, hi = min(i[1] for i in group), max(i[2] for i in group)
            fields = sorted({f for s, _, _ in group for f in (*s.fields, *([s.group_by] if s.group_by else []))})
            found = search.tagged(index, date_field, Window("read", _at(lo), _at(hi)),
                                  {s.name: s.query for s, _, _ in group}, fields)
            self.requests += 1
            self.docs_read += len(found)
            per_stream: dict[str, list[tuple[int, Mapping[str, Any]]]] = {s.name: [] for s, _, _ in group}
            for t in found:
                minute = _doc_minute(t.doc.get(date_field))
                if minute is None:
                    continue
                for name in t.names:
                    if name in per_stream:
                        per_stream[name].append((minute, t.doc))
            for stream, s_lo, s_hi in group:
                docs = [(m, d) for m, d in per_stream[stream.name] if s_lo <= m < s_hi]
                stream.replace(s_lo, s_hi, stream.partials(docs))

    def answer(self, request: GroupQuery) -> StreamGroups:
        stream = self.streams[self.stream_key(request)]
        stream.used = self.cycle
        windows = []
        for w in sorted(request.windows, key=lambda w: w.lt):
            lo, hi = minute_of(w.gte), minute_of(w.lt)
            assert lo is not None and hi is not None and stream.holds(lo, hi), "load() first"
            windows.append((w.name, stream.window(lo, hi, self.cycle)))
        return StreamGroups(stream, request, windows)

    def answer_search(self, query: SearchQuery) -> SearchResult:
        date_field, lo, hi = search_window(query)  # type: ignore[misc]
        stream = self.streams[("docs", date_field, canonical_query(_undated(query, date_field)))]
        assert isinstance(stream, DocStream) and stream.holds(lo, hi), "load() first"
        if stream.used != self.cycle:
            stream.used, stream.asked_lo = self.cycle, lo
        stream.asked_lo = min(lo, stream.asked_lo if stream.asked_lo is not None else lo)
        return stream.hits(lo, hi, query.limit)

    # --- look-backs: has a key been seen before the window? (new_term) ---------------------------

    def lookback_servable(self, request: GroupQuery) -> bool:
        if request.keys is None or len(request.windows) != 1 or request.metrics or request.min_count != 1:
            return False
        w = request.windows[0]
        return minute_of(w.gte) is not None and minute_of(w.lt) is not None and self.stream_key(request) in self.streams

    def seen(self, search: SearchIndex, index: str, requests: Sequence[GroupQuery]) -> list[list[Group]]:
        """Answers to look-back requests: a group, with count 1 meaning "at least one document",
        for each asked key that has a document in the window. Keys whose answer memory cannot
        give (never asked, or the window moved past what was known) are asked of the index in
        one round trip, the window cut in PARTS so that the answer stays good for a while."""
        unknown: dict[int, list[str]] = {}
        known: dict[int, set[str]] = {}
        for i, r in enumerate(requests):
            skey, w = self.stream_key(r), r.windows[0]
            a, b = minute_of(w.gte), minute_of(w.lt)
            assert a is not None and b is not None
            stream = self.streams[skey]
            known[i] = set()
            for k in r.keys or ():
                self._seen_asked.add((skey, k))
                verdict = self._verdict(stream, skey, k, a, b)
                if verdict is None:
                    unknown.setdefault(i, []).append(k)
                elif verdict:
                    known[i].add(k)
        if unknown:
            asks, where = [], []
            for i, keys in unknown.items():
                r, w = requests[i], requests[i].windows[0]
                a, b = minute_of(w.gte), minute_of(w.lt)
                assert a is not None and b is not None
                bounds = sorted({a + (b - a) * j // PARTS for j in range(PARTS)} | {b})
                parts = tuple(Window(f"p{j}", _at(lo), _at(hi)) for j, (lo, hi) in enumerate(zip(bounds, bounds[1:])))
                for start in range(0, len(keys), MAX_KEYS):
                    asks.append(replace(r, windows=parts, keys=tuple(keys[start:start + MAX_KEYS])))
                    where.append((i, a, b, bounds))
            answers = search.batch(index, asks)
            self.requests += 1
            for (i, a, b, bounds), ask, answer in zip(where, asks, answers, strict=True):
                if isinstance(answer, Exception):
                    raise answer
                skey = self.stream_key(requests[i])
                found = {g.key: g for g in answer.groups}  # type: ignore[union-attr]
                for k in ask.keys or ():
                    g = found.get(k)
                    filled = [j for j in range(len(bounds) - 1) if g is not None and g.counts.get(f"p{j}", 0) > 0]
                    if filled:
                        last = filled[-1]
                        self.seen_keys[(skey, k)] = _Seen(b, bounds[last], bounds[last + 1])
                        known[i].add(k)
                    else:
                        self.seen_keys[(skey, k)] = _Seen(b, None, a)
        return [[Group(k, {r.windows[0].name: 1}, {r.windows[0].name: {}}) for k in sorted(known[i])]
                for i, r in enumerate(requests)]

    def _verdict(self, stream: Stream, skey: StreamKey, k: str, a: int, b: int) -> bool | None:
        entry = self.seen_keys.get((skey, k))
        # the minutes since the entry was made, and the re-read ones before (late reports)
        start = entry.upto - int(self.reread.total_seconds() // MINUTE) if entry is not None else 0
        if entry is None or entry.upto > b or not stream.holds(max(start, stream.lo or start), b):
            return None
        latest = next((m for m in range(b - 1, max(start, stream.lo or start) - 1, -1)
                       if k in stream.minutes.get(m, {})), None)
        if latest is not None:
            entry = _Seen(b, latest, latest + 1)
        else:
            entry = _Seen(b, entry.since, entry.none_from if entry.none_from is not None else entry.upto)
        self.seen_keys[(skey, k)] = entry
        if entry.since is not None and entry.since >= a:
            return True
        if entry.none_from is not None and entry.none_from <= a:
            return False
        return None

    def end_cycle(self) -> None:
        """Drop the windows no request read in this cycle, the minutes before those read, and
        streams no rule has read for a day of cycles (a rule removed)."""
        reread = int(self.reread.total_seconds() // MINUTE)
        self.seen_keys = {k: v for k, v in self.seen_keys.items() if k in self._seen_asked and k[0] in self.streams}
        self._seen_asked = set()
        for key, stream in list(self.streams.items()):
            if self.cycle - stream.used > KEEP_UNUSED:
                del self.streams[key]
                continue
            if stream.used != self.cycle:
                continue
            stream.windows = [w for w in stream.windows if w.used == self.cycle]
            floor = min((w.lo for w in stream.windows), default=stream.asked_lo)
            if floor is not None:
                stream.evict(floor - reread)
            seen = [m.seq for m in self.memos.values() if m.stream is stream]
            stream.forget_changes(min(seen) if seen else stream.seq)

    def forget(self) -> None:
        self.streams.clear()
        self.memos.clear()
        self.seen_keys.clear()

    # --- rule memos: which keys a rule must look at ------------------------------------------

    def candidates(self, rule_id: str, checksum: str, groups: StreamGroups) -> set[str | None] | None:
        memo = self.memos.get(rule_id)
        if memo is None or memo.stream is not groups.stream or memo.checksum != checksum:
            return None
        return groups.stream.changed_since(memo.seq) | memo.matched

    def remember(self, rule_id: str, checksum: str, groups: StreamGroups, matched: Iterable[str | None]) -> None:
        self.memos[rule_id] = _Memo(groups.stream, groups.seq, set(matched), checksum)


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * MINUTE, tz=UTC)
