"""Campaigns: reports connected through shared identifiers (a phone number, a site, a card).

Run by the worker inside the batch's transaction, after the batch's identifiers were counted.
The identifiers shared by 2+ reports, the campaigns they already belong to and the reports still
outside any campaign are grouped with union-find; each group ends up as one campaign, the oldest
one when several meet (the others are merged into it). Cost per batch is a handful of statements,
whatever the history: totals come from the ``identifiers`` table, not from a scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.monitoring import identifiers as ids
from tierwatch.monitoring.bulk import dumps, insert_rows, is_postgres, update_rows
from tierwatch.monitoring.models import Campaign, KnownIdentifier, ReportIdentifier
from tierwatch.monitoring.models import Report as ReportRow
from tierwatch.monitoring.reputation import as_utc, chunks, pair_chunks, with_pairs

# App names and official short numbers (95588, 12306) are shared by victims of unrelated scams
# that merely impersonate them, so they do not tie reports together.
_LINK_KINDS = frozenset(ids.KINDS) - {ids.APP}

Node = tuple  # ("r", report_id) | ("k", kind, value) | ("c", campaign_id)


def links_reports(kind: str, value: str) -> bool:
    if kind not in _LINK_KINDS:
        return False
    if kind == ids.DOMAIN and value in ids.COMMON_DOMAINS:
        return False
    return not (kind == ids.PHONE and not value.startswith("+"))


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[Node, Node] = {}

    def find(self, node: Node) -> Node:
        root = node
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while node != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: Node, b: Node) -> None:
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[Node]]:
        out: dict[Node, list[Node]] = {}
        for node in list(self.parent):
            out.setdefault(self.find(node), []).append(node)
        return sorted((sorted(g, key=repr) for g in out.values()), key=repr)


def join_campaigns(
    session: Session,
    reports: Sequence[tuple[str, Sequence[str], datetime]],
    totals: dict[tuple[str, str], tuple[int, int | None]],
) -> dict[str, int]:
    """``reports``: this batch's new (report_id, "kind:value" keys, reported_at), not stored yet;
    ``totals``: (kind, value) -> (report count including this batch, current campaign id).
    Returns report_id -> campaign id for the batch's reports that belong to one; earlier reports
    and identifiers are updated here."""
    shared = {kv for kv, (count, _) in totals.items() if count >= 2 and links_reports(*kv)}
    if not shared:
        return {}
    g = _Groups()
    when: dict[str, datetime] = {}
    for report_id, keys, reported_at in reports:
        for key in keys:
            kind, _, value = key.partition(":")
            if (kind, value) in shared:
                g.union(("r", report_id), ("k", kind, value))
                when[report_id] = reported_at
    for kind, value in shared:
        campaign_id = totals[(kind, value)][1]
        if campaign_id is not None:
            g.union(("k", kind, value), ("c", campaign_id))
    batch = set(when)
    _pull_in_earlier_reports(session, g, when, sorted(kv for kv in shared if totals[kv][1] is None))
    return _apply(session, g.groups(), when, batch, {kv: totals[kv][1] for kv in shared})


def _pull_in_earlier_reports(session: Session, g: _Groups, when: dict[str, datetime], fresh: list) -> None:
    # An identifier shared for the first time: its earlier report(s) join the group, or bring
    # their campaign along if another identifier already put them in one.
    ri, rep = ReportIdentifier.__table__, ReportRow.__table__
    for chunk in pair_chunks(session, fresh):
        stmt = sa.select(ri.c.kind, ri.c.value, ri.c.report_id, rep.c.campaign_id, rep.c.reported_at)
        stmt = with_pairs(session, stmt, ri, chunk).join(rep, rep.c.report_id == ri.c.report_id)
        for kind, value, report_id, campaign_id, reported_at in session.execute(stmt):
            if report_id in when:
                continue
            if campaign_id is not None:
                g.union(("k", kind, value), ("c", campaign_id))
            else:
                g.union(("k", kind, value), ("r", report_id))
                when[report_id] = reported_at


def _apply(
    session: Session,
    groups: list[list[Node]],
    when: dict[str, datetime],
    batch: set[str],
    campaign_of: dict[tuple[str, str], int | None],
) -> dict[str, int]:
    """``campaign_of``: each shared identifier's campaign as read (and locked) this batch."""
    rep, camp, known = ReportRow.__table__, Campaign.__table__, KnownIdentifier.__table__
    parts = []
    for members in groups:
        campaign_ids = sorted(n[1] for n in members if n[0] == "c")
        report_ids = [n[1] for n in members if n[0] == "r"]
        keys = [(n[1], n[2]) for n in members if n[0] == "k"]
        parts.append((campaign_ids, report_ids, keys, [as_utc(when[r]) for r in report_ids]))
    created = _create(session, [(f"{keys[0][0]}:{keys[0][1]}", times) for cids, _, keys, times in parts if not cids])
    targets = []
    for campaign_ids, report_ids, keys, times in parts:
        target = campaign_ids[0] if campaign_ids else created[f"{keys[0][0]}:{keys[0][1]}"]
        targets.append((target, campaign_ids[1:]))
    moved_to = _merge(session, targets)
    plans = [(target, report_ids, keys, times, moved_to.get(target, 0))
             for (target, _), (_, report_ids, keys, times) in zip(targets, parts)]
    assigned = {r: target for target, report_ids, _, _, _ in plans for r in report_ids}
    update_rows(
        session, rep, ["report_id"],
        [{"report_id": r, "campaign_id": c} for r, c in sorted(assigned.items()) if r not in batch],
    )
    # Only identifiers whose campaign changes: one already in the target stays as it is, one in a
    # campaign merged away was moved by ``_merge``.
    merged_into = {old: target for target, merged in targets for old in merged}
    update_rows(
        session, known, ["kind", "value"],
        sorted(({"kind": k, "value": v, "campaign_id": target} for target, _, keys, _, _ in plans for k, v in keys
                if merged_into.get(campaign_of.get((k, v)), campaign_of.get((k, v))) != target),
               key=lambda row: (row["kind"], row["value"])),
    )
    counts = [
        {"b_cid": target, "b_n": len(report_ids) + moved, "b_first": min(times), "b_last": max(times)}
        for target, report_ids, _, times, moved in plans
        if report_ids or moved
    ]
    if counts:
        first: sa.BindParameter[Any] = sa.bindparam("b_first")
        last: sa.BindParameter[Any] = sa.bindparam("b_last")
        session.execute(
            sa.update(camp)
            .where(camp.c.id == sa.bindparam("b_cid"))
            .values(
                report_count=camp.c.report_count + sa.bindparam("b_n"),
                first_seen=sa.case((first < camp.c.first_seen, first), else_=camp.c.first_seen),
                last_seen=sa.case((last > camp.c.last_seen, last), else_=camp.c.last_seen),
            ),
            sorted(counts, key=lambda c: c["b_cid"]),
        )
    return {r: c for r, c in assigned.items() if r in batch}


def _create(session: Session, new: list[tuple[str, list[datetime]]]) -> dict[str, int]:
    """New campaigns named after their first identifier -> their ids (an existing one of the same
    name, made by a concurrent worker, is joined instead)."""
    if not new:
        return {}
    camp = Campaign.__table__
    insert_rows(
        session,
        camp,
        [{"key": key, "report_count": 0, "first_seen": min(times), "last_seen": max(times),
          "created_at": max(times)} for key, times in sorted(new, key=lambda kt: kt[0])],
        conflict=["key"],
    )
    out: dict[str, int] = {}
    for chunk in chunks(sorted(key for key, _ in new)):
        out.update({k: i for k, i in session.execute(sa.select(camp.c.key, camp.c.id).where(camp.c.key.in_(chunk)))})
    return out


def _merge(session: Session, targets: list[tuple[int, list[int]]]) -> dict[int, int]:
    """Fold each ``(target, merged campaigns)``'s merged campaigns into its target, all in three
    statements; returns target -> how many reports moved into it."""
    into = {old: target for target, merged in targets for old in merged}
    if not into:
        return {}
    rep, camp, known = ReportRow.__table__, Campaign.__table__, KnownIdentifier.__table__
    olds = sorted(into)
    if is_postgres(session):
        mapping = dumps([{"old": o, "new": into[o]} for o in olds])
        source = "json_to_recordset(CAST(:m AS json)) AS m(old integer, new integer)"
        moved = session.execute(
            sa.text(f"WITH u AS (UPDATE reports SET campaign_id = m.new FROM {source}"  # nosec B608 # a constant recordset expression, values bound
                    " WHERE reports.campaign_id = m.old RETURNING m.new AS target)"
                    " SELECT target, count(*) FROM u GROUP BY target"),
            {"m": mapping},
        )
        out = {target: int(n) for target, n in moved}
        session.execute(
            sa.text(f"UPDATE identifiers SET campaign_id = m.new FROM {source} WHERE identifiers.campaign_id = m.old"),  # nosec B608 # a constant recordset expression, values bound
            {"m": mapping},
        )
    else:
        out = {}
        for old in olds:
            moved = session.execute(sa.update(rep).where(rep.c.campaign_id == old).values(campaign_id=into[old]))
            n = cast(sa.CursorResult[Any], moved).rowcount  # an UPDATE's result has a row count
            out[into[old]] = out.get(into[old], 0) + n
            session.execute(sa.update(known).where(known.c.campaign_id == old).values(campaign_id=into[old]))
    session.execute(sa.delete(camp).where(camp.c.id.in_(olds)))
    return out
