"""How often an identifier was reported before: the database ReputationSource of the detectors
("this phone number was reported 14 times from 5 provinces since March").

Reads the running totals in ``identifiers``; only when a total includes reports at or after
``before`` (a historical question) does it count ``report_identifiers`` itself.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.monitoring.bulk import dumps
from tierwatch.monitoring.models import IdentifierRegion, KnownIdentifier, ReportIdentifier
from tierwatch.monitoring.models import Report as ReportRow

from tierwatch.antifraud.reputation import IdentifierStats
from tierwatch.antifraud.trust import reporter_identity, reporter_weight

# Keep each IN list well under SQLite's bound-parameter limit.
CHUNK = 400


def split_key(key: str) -> tuple[str, str]:
    kind, _, value = key.partition(":")
    return kind, value


def chunks(items: list, size: int = CHUNK) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def pair_chunks(session: Session, pairs: list) -> list[list]:
    """(kind, value) pairs in groups small enough for SQLite; one group for PostgreSQL, whose
    unnest join takes any number."""
    if session.get_bind().dialect.name == "postgresql":
        return [pairs] if pairs else []
    return chunks(pairs)


def with_pairs(session: Session, stmt: sa.Select, table: sa.Table, pairs: list[tuple[str, str]]) -> sa.Select:
    """``stmt`` restricted to rows of ``table`` whose (kind, value) is in ``pairs``.

    PostgreSQL plans a long row-value IN list slowly (100 ms for 400 pairs), so there the pairs
    come as two arrays joined with unnest (5 ms); SQLite handles the IN list well.
    """
    if session.get_bind().dialect.name != "postgresql":
        return stmt.where(sa.tuple_(table.c.kind, table.c.value).in_(pairs))
    from sqlalchemy.dialects.postgresql import ARRAY

    wanted = (
        sa.func.unnest(sa.literal([k for k, _ in pairs], ARRAY(sa.String)),
                       sa.literal([v for _, v in pairs], ARRAY(sa.String)))
        .table_valued("kind", "value")
        .render_derived(name="wanted", with_types=False)
    )
    on = sa.and_(table.c.kind == wanted.c.kind, table.c.value == wanted.c.value)
    return stmt.join_from(table, wanted, on)


def as_utc(value: datetime | str) -> datetime:
    # Aggregates over a UTCDateTime column come back untyped (a string on SQLite).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Totals:
    count: int
    first_seen: datetime
    last_seen: datetime
    campaign_id: int | None
    regions: frozenset[str]
    weight: float = 0.0  # distinct reporters weighted by trust (antifraud.trust)


class DbReputation:
    """ReputationSource over the report tables. Keys are "kind:value" strings.

    By default exact: only reports strictly before ``before`` count. The worker passes
    ``live=True``: a report is scored against everything stored before its batch, read once per
    batch. The two differ only for reports stored out of time order (six partitions interleave;
    a replayed old feed), where live counts a stored report with a later time too — what the
    service knew when it scored, at one query per batch instead of one per report.
    """

    def __init__(self, session: Session, *, live: bool = False, lock: threading.Lock | None = None):
        self.session = session
        self.live = live
        self._lock = lock or contextlib.nullcontext()  # held around reads of the session
        self.totals: dict[tuple[str, str], Totals] = {}
        self._asked: set[tuple[str, str]] = set()

    def load(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Totals]:
        with self._lock:
            return self._load(pairs)

    def _load(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Totals]:
        wanted = sorted(set(pairs) - self._asked)
        self._asked.update(wanted)
        if wanted and self.session.get_bind().dialect.name == "postgresql":
            self._load_pg(wanted)
            return self.totals
        known, reg = KnownIdentifier.__table__, IdentifierRegion.__table__
        for chunk in pair_chunks(self.session, wanted):
            regions: dict[tuple[str, str], set[str]] = {}
            stmt = with_pairs(self.session, sa.select(reg.c.kind, reg.c.value, reg.c.region), reg, chunk)
            for kind, value, region in self.session.execute(stmt):
                regions.setdefault((kind, value), set()).add(region)
            stmt = sa.select(known.c.kind, known.c.value, known.c.report_count, known.c.first_seen,
                             known.c.last_seen, known.c.campaign_id, known.c.reporter_weight)
            rows = self.session.execute(with_pairs(self.session, stmt, known, chunk))
            for kind, value, count, first, last, campaign_id, weight in rows:
                pair = (kind, value)
                self.totals[pair] = Totals(count, first, last, campaign_id, frozenset(regions.get(pair, ())), weight)
        return self.totals

    def _load_pg(self, wanted: list[tuple[str, str]]) -> None:
        # One statement and one row per known identifier, its regions as an array (a region row
        # is only ever written together with its identifier's totals).
        rows = self.session.execute(
            sa.text(
                "SELECT i.kind, i.value, i.report_count, i.first_seen, i.last_seen, i.campaign_id, i.reporter_weight,"
                " ARRAY(SELECT r.region FROM identifier_regions r WHERE r.kind = i.kind AND r.value = i.value)"
                " FROM json_to_recordset(CAST(:pairs AS json)) AS w(kind text, value text)"
                " JOIN identifiers i ON i.kind = w.kind AND i.value = w.value"
            ),
            {"pairs": dumps([{"kind": k, "value": v} for k, v in wanted])},
        )
        for kind, value, count, first, last, campaign_id, weight, regions in rows.all():  # one fetch, not one per row
            self.totals[(kind, value)] = Totals(count, as_utc(first), as_utc(last), campaign_id, frozenset(regions),
                                                weight)

    def lookup(self, identifiers: Iterable[str], before: datetime) -> dict[str, IdentifierStats]:
        pairs = {split_key(k) for k in identifiers}
        if not pairs <= self._asked:  # the worker loaded the whole batch up front
            self.load(pairs)
        totals = self.totals
        out: dict[str, IdentifierStats] = {}
        historical = []
        for pair in sorted(p for p in pairs if p in totals):
            t = totals[pair]
            if t.last_seen >= before and not self.live:
                historical.append(pair)
            else:
                out[f"{pair[0]}:{pair[1]}"] = IdentifierStats(t.count, t.first_seen, t.last_seen, len(t.regions),
                                                              t.weight)
        out.update(self._count_before(historical, before))
        return out

    def _count_before(self, pairs: list[tuple[str, str]], before: datetime) -> dict[str, IdentifierStats]:
        """From the reports themselves: what ``identifiers`` and ``identifier_reporters`` held
        when the last report before ``before`` was stored (a reporter weighs once, by its first
        report of the identifier)."""
        t, r = ReportIdentifier.__table__, ReportRow.__table__
        acc: dict[str, list] = {}
        for chunk in pair_chunks(self.session, pairs):
            stmt = (
                sa.select(t.c.kind, t.c.value, t.c.region, t.c.reported_at, t.c.report_id,
                          r.c.reporter_key, r.c.reporter_type, r.c.source)
                .join_from(t, r, r.c.report_id == t.c.report_id)
                .where(t.c.reported_at < before)
            )
            rows = self.session.execute(with_pairs(self.session, stmt, t, chunk)).all()
            for kind, value, region, at, report_id, reporter_key, reporter_type, source in sorted(
                    rows, key=lambda row: (row[0], row[1], as_utc(row[3]), row[4])):
                at = as_utc(at)
                entry = acc.setdefault(f"{kind}:{value}", [0, at, at, set(), set(), 0.0])
                entry[0] += 1
                entry[1], entry[2] = min(entry[1], at), max(entry[2], at)
                if region:
                    entry[3].add(region)
                who = reporter_identity(reporter_key, report_id)
                if who not in entry[4]:
                    entry[4].add(who)
                    entry[5] += reporter_weight(reporter_type, source)
        return {
            key: IdentifierStats(count=c, first_seen=f, last_seen=l, regions=len(rg), weight=w)
            for key, (c, f, l, rg, _who, w) in acc.items()
        }
