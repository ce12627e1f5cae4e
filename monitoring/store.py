"""Turn validated reports into rows and store a batch idempotently (SQLite and PostgreSQL).

``prepare`` is pure (identifiers, row values); ``persist`` runs in one transaction: skip reports
already stored, link, score, INSERT … ON CONFLICT DO NOTHING, join campaigns. A redelivered
report therefore never makes a second row and keeps its first score.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.antifraud.results import Score
from tierwatch.antifraud.trust import reporter_identity, reporter_weight
from tierwatch.core.keys import KeyRing
from tierwatch.monitoring import identifiers as ids
from tierwatch.monitoring.bulk import dumps, insert_rows
from tierwatch.monitoring.campaigns import join_campaigns
from tierwatch.monitoring.contacts import ContactCipher
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.messages import IncidentReport, Report, ScamReport, tracking_code_for
from tierwatch.monitoring.models import (
    IdentifierRegion,
    IdentifierReporter,
    KnownIdentifier,
    ReportContact,
    ReportIdentifier,
)
from tierwatch.monitoring.models import Report as ReportRow
from tierwatch.monitoring.reputation import DbReputation, Totals, chunks, split_key
from tierwatch.monitoring.scoring import Scorer, ScoringInput

log = logging.getLogger(__name__)
_LOCK_SPACE = 0x7477  # first key of pg_advisory_xact_lock(int, int): "tw" report ids


@dataclass(frozen=True)
class ReportKeys:
    """The secrets a report's rows are made with, from the key ring (tierwatch.bootstrap): the
    tracking code's key, which the web process holds too, and the contacts' cipher."""

    tracking: bytes
    contacts: ContactCipher

    @classmethod
    def from_ring(cls, ring: KeyRing) -> "ReportKeys":
        return cls(ring.key("tracking"), ContactCipher.from_ring(ring))


@dataclass(frozen=True)
class Prepared:
    report: Report
    keys: tuple[str, ...]  # identifiers as "kind:value"
    row: dict[str, Any]
    contact: dict[str, Any] | None  # in memory only (the worker's reporter key); stored sealed
    sealed_contact: str | None = None

    @property
    def report_id(self) -> str:
        return self.report.report_id


def report_identifiers(report: Report) -> list[ids.Identifier]:
    found = set(ids.extract(report.description))
    if isinstance(report, ScamReport):
        structured = report.identifiers
        for field_name in ("phones", "urls", "accounts", "payment_accounts"):
            for raw in getattr(structured, field_name):
                found.update(ids.extract_field(field_name, raw))
    else:
        found.update(ids.extract(report.measures or ""))
    if report.app_name:
        found.update(ids.extract_field("app", report.app_name))
    return sorted(found)


# Every column a report row carries, whatever its kind: a batch mixes kinds, and one statement
# writes the whole batch (monitoring.bulk pads too; this keeps the row shape explicit).
_KIND_COLUMNS = (
    "reporter_type", "channel", "amount_lost", "ai_technique", "ai_techniques", "payment_method",
    "reporter_key",  # scam reports
    "filing_number", "company", "incident_type", "severity", "affected_users", "measures",  # incidents
)


def prepare(report: Report, received_at: datetime, report_keys: ReportKeys) -> Prepared:
    keys = tuple(f"{kind}:{value}" for kind, value in report_identifiers(report))  # as str(Identifier)
    row: dict[str, Any] = dict.fromkeys(_KIND_COLUMNS)
    row |= {
        "report_id": report.report_id,
        "tracking_code": tracking_code_for(report.report_id, report_keys.tracking),
        "kind": report.kind,
        "schema_version": report.schema_version,
        "source": report.source,
        "description": report.description,
        "app_name": report.app_name,
        "region": report.region,
        "occurred_at": report.occurred_at,
        "reported_at": report.reported_at,
        "received_at": received_at,
    }
    contact = None
    if isinstance(report, ScamReport):
        techniques = report.techniques
        row.update(
            reporter_type=report.reporter_type.value,
            channel=report.channel.value,
            amount_lost=report.amount_lost,
            ai_technique=techniques[0] if techniques else None,
            ai_techniques=techniques or None,
            payment_method=report.payment_method.value if report.payment_method else None,
            reporter_key=report.reporter_key,
        )
        if report.reporter_contact is not None:
            contact = report.reporter_contact.model_dump(exclude_none=True)
    elif isinstance(report, IncidentReport):
        row.update(
            filing_number=report.filing_number,
            company=report.company,
            incident_type=report.incident_type.value,
            severity=report.severity.value,
            affected_users=report.affected_users,
            measures=report.measures,
        )
    return Prepared(report, keys, row, contact, report_keys.contacts.seal(contact) if contact else None)


# One scoring thread for the process: persist calls come one at a time from the worker loop.
_SCORING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring")

_STORED = ("scam_probability", "is_scam", "scam_type", "model_version", "application_id", "score_reasons")


def persist(
    session: Session,
    batch: Sequence[Prepared],
    scorer: Scorer,
    linker: ApplicationLinker,
    now: datetime,
    on_scored: Callable[[dict[str, dict[str, Any]]], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], int]:
    """Store the batch (caller commits). Returns report_id -> stored scoring/link columns, and how
    many reports this call inserted (the rest had been stored by an earlier delivery).

    ``on_scored`` gets the columns of the new reports as soon as they are scored, before the
    writes: the worker starts indexing them while the database works."""
    t = ReportRow.__table__
    _lock(session, [p.report_id for p in batch])
    existing = _stored_ids(session, [p.report_id for p in batch])
    new = [p for p in batch if p.report_id not in existing]
    stored: dict[str, dict[str, Any]] = {}
    if new:
        # The session is used by one thread at a time: the scoring thread reaches the database
        # only if a scorer asks about an identifier the batch read did not cover, and then waits.
        session_lock = threading.Lock()
        reputation = DbReputation(session, live=True, lock=session_lock)
        reputation.load(split_key(k) for p in new for k in p.keys)  # one read for the whole batch
        before = dict(reputation.totals)

        def score() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
            rows = _rows(new, scorer, linker, reputation)
            scored = {r["report_id"]: {k: r[k] for k in _STORED} for r in rows}
            if on_scored is not None:
                on_scored(scored)
            return rows, scored

        # Scoring needs only what was read above, so it runs in a thread while this one settles
        # identifier totals and campaigns, which mostly wait on PostgreSQL. Campaigns are settled
        # before the rows go in, so each report is written once, complete.
        scoring = _SCORING.submit(score)
        try:
            with session_lock:
                totals = _count_identifiers(session, new, before)
                campaign_of = join_campaigns(
                    session, [(p.report_id, p.keys, p.row["reported_at"]) for p in new], totals
                )
        finally:
            wait([scoring])  # never leave with the scorer still running (a retry would overlap)
        rows, stored = scoring.result()
        for row in rows:
            row["campaign_id"] = stored[row["report_id"]]["campaign_id"] = campaign_of.get(row["report_id"])
        insert_rows(session, t, rows, conflict=["report_id"])
        contacts = [{"report_id": p.report_id, "sealed": p.sealed_contact} for p in new if p.sealed_contact]
        insert_rows(session, ReportContact.__table__, contacts, conflict=["report_id"])
        insert_rows(
            session,
            ReportIdentifier.__table__,
            [{"report_id": p.report_id, "kind": k, "value": v, "region": p.row["region"],
              "reported_at": p.row["reported_at"]} for p in new for k, v in map(split_key, p.keys)],
            conflict=["report_id", "kind", "value"],
        )
    cols = [t.c.report_id, t.c.campaign_id, *(t.c[name] for name in _STORED)]
    for chunk in chunks(sorted(existing)):
        for r in session.execute(sa.select(*cols).where(t.c.report_id.in_(chunk))).mappings():
            stored[r["report_id"]] = {k: r[k] for k in (*_STORED, "campaign_id")}
    return stored, len(new)


def _stored_ids(session: Session, report_ids: list[str]) -> set[str]:
    t = ReportRow.__table__
    if session.get_bind().dialect.name == "postgresql":
        # One JSON parameter, not 500 binds, nor an array that psycopg adapts item by item.
        return set(session.execute(
            sa.text("SELECT report_id FROM reports"
                    " WHERE report_id = ANY(ARRAY(SELECT json_array_elements_text(CAST(:ids AS json))))"),
            {"ids": dumps(report_ids)},
        ).scalars().all())
    existing: set[str] = set()
    for chunk in chunks(report_ids):
        existing.update(session.execute(sa.select(t.c.report_id).where(t.c.report_id.in_(chunk))).scalars())
    return existing


def _lock(session: Session, report_ids: list[str]) -> None:
    """PostgreSQL: lock the batch's report ids until commit, so two workers handed the same
    report (a rebalance) take turns and the second finds it stored. SQLite has one writer."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({int.from_bytes(hashlib.blake2b(r.encode(), digest_size=4).digest(), "big", signed=True)
                   for r in report_ids})
    session.execute(
        sa.text("SELECT count(pg_advisory_xact_lock(:space, k)) FROM"
                " (SELECT CAST(json_array_elements_text(CAST(:keys AS json)) AS integer) AS k ORDER BY 1) s"),
        {"space": _LOCK_SPACE, "keys": dumps(keys)},
    )


def _rows(
    new: list[Prepared], scorer: Scorer, linker: ApplicationLinker, reputation: DbReputation
) -> list[dict[str, Any]]:
    rows = []
    for p, score in zip(new, _score(scorer, new, reputation)):
        app_names = [k.partition(":")[2] for k in p.keys if k.startswith(ids.APP + ":")]
        app = linker.find(filing_number=p.row.get("filing_number"), names=app_names)
        rows.append(
            {
                **p.row,
                "scam_probability": score.scam_probability if score else None,
                "is_scam": score.is_scam if score else None,
                "scam_type": score.scam_type if score else None,
                "score_reasons": score.reasons if score else ["not scored: scorer failed"],
                "model_version": score.model_version if score else None,
                "application_id": app.application_id if app else None,
            }
        )
    return rows


def _count_identifiers(
    session: Session, new: list[Prepared], before: dict[tuple[str, str], Totals]
) -> dict[tuple[str, str], tuple[int, int | None]]:
    """Add the batch to the running totals (and regions); returns (kind, value) -> (count after,
    campaign id) as stored now."""
    added: dict[tuple[str, str], list] = {}
    regions: set[tuple[str, str, str]] = set()
    reporters: dict[tuple[str, str, str], float] = {}
    for p in new:
        at, region = p.row["reported_at"], p.row["region"]
        who = reporter_identity(p.row.get("reporter_key"), p.report_id)
        weight = reporter_weight(p.row.get("reporter_type"), p.row.get("source"))
        for key in p.keys:
            pair = split_key(key)
            reporters.setdefault((*pair, who), weight)  # the first report of a reporter in the batch
            entry = added.get(pair)
            if entry is None:
                added[pair] = [1, at, at]
            else:
                entry[0] += 1
                if at < entry[1]:
                    entry[1] = at
                elif at > entry[2]:
                    entry[2] = at
            if region:
                known = before.get(pair)
                if known is None or region not in known.regions:
                    regions.add((*pair, region))
    if not added:
        return {}
    # A reporter adds its weight to an identifier once: the rows this insert writes are exactly
    # the (identifier, reporter) pairs not seen before (a concurrent worker inserting the same
    # pair waits for this transaction, then writes nothing), so the sum stays exact.
    weights: dict[tuple[str, str], float] = {}
    for kind, value, weight in insert_rows(
        session,
        IdentifierReporter.__table__,
        [{"kind": k, "value": v, "reporter": r, "weight": w} for (k, v, r), w in sorted(reporters.items())],
        conflict=["kind", "value", "reporter"],
        returning=["kind", "value", "weight"],
    ):
        weights[(kind, value)] = weights.get((kind, value), 0.0) + weight
    # Sorted, so two workers lock the same rows in the same order (no deadlock between them).
    # The rows stay locked until commit, so the counts and campaign ids returned are current and
    # no other worker can move these identifiers to another campaign meanwhile.
    after = insert_rows(
        session,
        KnownIdentifier.__table__,
        [{"kind": k, "value": v, "report_count": c, "reporter_weight": weights.get((k, v), 0.0),
          "first_seen": f, "last_seen": l}
         for (k, v), (c, f, l) in sorted(added.items())],
        conflict=["kind", "value"],
        update={
            "report_count": "{t}.report_count + excluded.report_count",
            "reporter_weight": "{t}.reporter_weight + excluded.reporter_weight",
            "first_seen": "CASE WHEN excluded.first_seen < {t}.first_seen THEN excluded.first_seen"
            " ELSE {t}.first_seen END",
            "last_seen": "CASE WHEN excluded.last_seen > {t}.last_seen THEN excluded.last_seen"
            " ELSE {t}.last_seen END",
        },
        returning=["kind", "value", "report_count", "campaign_id"],
    )
    insert_rows(
        session,
        IdentifierRegion.__table__,
        [{"kind": k, "value": v, "region": r} for k, v, r in sorted(regions)],
        conflict=["kind", "value", "region"],
    )
    return {(kind, value): (count, campaign_id) for kind, value, count, campaign_id in after}


def _score(scorer: Scorer, batch: list[Prepared], reputation: DbReputation) -> list[Score | None]:
    inputs = [
        ScoringInput(
            report_id=p.report_id,
            kind=p.row["kind"],
            text=p.row["description"],
            channel=p.row.get("channel"),
            amount_lost=p.row.get("amount_lost"),
            ai_technique=p.row.get("ai_technique"),
            ai_techniques=tuple(p.row.get("ai_techniques") or ()),
            region=p.row.get("region"),
            reported_at=p.row["reported_at"],
            identifiers=p.keys,
            reporter_type=p.row.get("reporter_type"),
        )
        for p in batch
    ]
    try:
        return list(scorer.score_batch(inputs, reputation))
    except Exception:  # noqa: BLE001 - a scorer bug must not stop intake; find the culprit
        log.exception("batch scoring failed; scoring reports one by one")
    out: list[Score | None] = []
    for item in inputs:
        try:
            out.append(scorer.score_batch([item], reputation)[0])
        except Exception:  # noqa: BLE001
            log.exception("scoring failed for report %s; stored unscored", item.report_id)
            out.append(None)
    return out


def detector_inputs(session: Session, report_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Stored reports as the detector's input dicts (text, channel, ... identifiers), for
    retraining and drift checks."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(report_ids), 500):
        chunk = report_ids[start : start + 500]
        for r in session.scalars(sa.select(ReportRow).where(ReportRow.report_id.in_(chunk))):
            out[r.report_id] = {
                "text": r.description, "channel": r.channel, "amount_lost": r.amount_lost,
                "ai_technique": r.ai_technique, "ai_techniques": r.ai_techniques, "region": r.region,
                "reported_at": r.reported_at,
                "reporter_type": r.reporter_type, "identifiers": {},
            }
        for ident in session.scalars(sa.select(ReportIdentifier).where(ReportIdentifier.report_id.in_(chunk))):
            if ident.report_id in out:
                out[ident.report_id]["identifiers"].setdefault(ident.kind, []).append(ident.value)
    return out



def find_report_id(session: Session, *, report_id: str | None = None, tracking_code: str | None = None) -> str | None:
    """The stored report's id, found by its id or by the tracking code its reporter holds."""
    column = ReportRow.report_id if report_id is not None else ReportRow.tracking_code
    return session.scalar(sa.select(ReportRow.report_id).where(column == (report_id or tracking_code)))
