"""monitoring: reporter contacts encrypted at rest; identifier reputation by distinct reporters
weighted by trust

``report_contacts.contact`` (JSON in clear) becomes ``sealed`` (a Fernet token made with the key
ring's "contacts" key, handed in by `tierwatch db upgrade`). ``identifier_reporters`` records who
reported each identifier, once each, and ``identifiers.reporter_weight`` their trust-weighted
sum; both are filled from the stored reports.

Revision ID: 0032_monitoring_trust
Revises: 0031_monitoring_public
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0032_monitoring_trust"
down_revision = "0031_monitoring_public"
branch_labels = None
depends_on = None

CHUNK = 500


def _cipher():  # type: ignore[no-untyped-def]
    from tierwatch.monitoring.contacts import ContactCipher

    keys = context.config.attributes.get("keys")
    if keys is None:
        raise RuntimeError("this migration encrypts reporter contacts: run it with `tierwatch db upgrade` "
                           "(which hands it the key ring), not with alembic alone")
    return ContactCipher.from_ring(keys)


# The weights as of this revision (antifraud.trust), frozen here so the backfill never changes.
def _weight(reporter_type: str | None, source: str | None) -> float:
    if reporter_type in ("partner_feed", "company") or (reporter_type == "citizen" and source == "regulator"):
        return 1.0
    if reporter_type == "citizen" and source == "web":
        return 0.25
    return 0.5


def upgrade() -> None:
    bind = op.get_bind()
    contacts = sa.table("report_contacts", sa.column("report_id", sa.String), sa.column("contact", sa.JSON),
                        sa.column("sealed", sa.Text))
    # The key first: without it, fail before changing anything (SQLite has no transactional DDL).
    disputes = sa.table("identifier_disputes", sa.column("contact", sa.JSON))
    in_clear = bind.scalar(sa.select(sa.func.count()).select_from(contacts)) or bind.scalar(
        sa.select(sa.func.count()).select_from(disputes).where(disputes.c.contact.isnot(None)))
    cipher = _cipher() if in_clear else None
    with op.batch_alter_table("report_contacts") as batch:
        batch.add_column(sa.Column("sealed", sa.Text(), nullable=True))
    if cipher is not None:
        after = ""
        while rows := bind.execute(sa.select(contacts.c.report_id, contacts.c.contact)
                                   .where(contacts.c.report_id > after).order_by(contacts.c.report_id)
                                   .limit(CHUNK)).all():
            bind.execute(contacts.update().where(contacts.c.report_id == sa.bindparam("b_id"))
                         .values(sealed=sa.bindparam("b_sealed")),
                         [{"b_id": rid, "b_sealed": cipher.seal(_as_dict(contact))} for rid, contact in rows])
            after = rows[-1][0]
    with op.batch_alter_table("report_contacts") as batch:
        batch.alter_column("sealed", existing_type=sa.Text(), nullable=False)
        batch.drop_column("contact")

    with op.batch_alter_table("identifiers") as batch:
        batch.add_column(sa.Column("reporter_weight", sa.Float(), nullable=False, server_default="0"))
    op.create_table(
        "identifier_reporters",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("reporter", sa.String(120), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "reporter", name=op.f("pk_identifier_reporters")),
    )
    _backfill_reporters(bind)
    _seal_dispute_contacts(bind, cipher)


def _seal_dispute_contacts(bind: sa.engine.Connection, cipher: Any) -> None:
    # The contact left with a dispute of a checked number is as private as a reporter's.
    disputes = sa.table("identifier_disputes", sa.column("id", sa.Integer), sa.column("contact", sa.JSON),
                        sa.column("sealed_contact", sa.Text))
    with op.batch_alter_table("identifier_disputes") as batch:
        batch.add_column(sa.Column("sealed_contact", sa.Text(), nullable=True))
    rows = bind.execute(sa.select(disputes.c.id, disputes.c.contact).where(disputes.c.contact.isnot(None))).all()
    if rows:
        for row_id, contact in rows:
            bind.execute(disputes.update().where(disputes.c.id == row_id)
                         .values(sealed_contact=cipher.seal(_as_dict(contact))))
    with op.batch_alter_table("identifier_disputes") as batch:
        batch.drop_column("contact")


def _as_dict(contact: object) -> dict:
    return json.loads(contact) if isinstance(contact, str) else dict(contact)  # type: ignore[call-overload]


def _backfill_reporters(bind: sa.engine.Connection) -> None:
    ri = sa.table("report_identifiers", sa.column("report_id"), sa.column("kind"), sa.column("value"),
                  sa.column("reported_at"))
    r = sa.table("reports", sa.column("report_id"), sa.column("reporter_key"), sa.column("reporter_type"),
                 sa.column("source"))
    # Earliest report first, so each reporter weighs what its first report of an identifier said.
    rows = bind.execute(
        sa.select(ri.c.kind, ri.c.value, r.c.reporter_key, ri.c.report_id, r.c.reporter_type, r.c.source)
        .join_from(ri, r, r.c.report_id == ri.c.report_id)
        .order_by(ri.c.reported_at, ri.c.report_id)
    )
    seen: dict[tuple[str, str, str], float] = {}
    for kind, value, reporter_key, report_id, reporter_type, source in rows:
        seen.setdefault((kind, value, reporter_key or f"report:{report_id}"), _weight(reporter_type, source))
    if not seen:
        return
    reporters = sa.table("identifier_reporters", sa.column("kind"), sa.column("value"), sa.column("reporter"),
                         sa.column("weight"))
    items = [{"kind": k, "value": v, "reporter": who, "weight": w} for (k, v, who), w in seen.items()]
    for start in range(0, len(items), CHUNK):
        bind.execute(reporters.insert(), items[start : start + CHUNK])
    totals: dict[tuple[str, str], float] = {}
    for (kind, value, _who), weight in seen.items():
        totals[(kind, value)] = totals.get((kind, value), 0.0) + weight
    identifiers = sa.table("identifiers", sa.column("kind"), sa.column("value"), sa.column("reporter_weight"))
    bind.execute(identifiers.update()
                 .where(identifiers.c.kind == sa.bindparam("b_kind"), identifiers.c.value == sa.bindparam("b_value"))
                 .values(reporter_weight=sa.bindparam("b_weight")),
                 [{"b_kind": k, "b_value": v, "b_weight": w} for (k, v), w in totals.items()])


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("identifier_disputes") as batch:
        batch.add_column(sa.Column("contact", sa.JSON(), nullable=True))
    disputes = sa.table("identifier_disputes", sa.column("id", sa.Integer), sa.column("contact", sa.JSON),
                        sa.column("sealed_contact", sa.Text))
    sealed_rows = bind.execute(sa.select(disputes.c.id, disputes.c.sealed_contact)
                               .where(disputes.c.sealed_contact.isnot(None))).all()
    if sealed_rows:
        cipher = _cipher()
        for row_id, sealed in sealed_rows:
            bind.execute(disputes.update().where(disputes.c.id == row_id).values(contact=cipher.open(sealed)))
    with op.batch_alter_table("identifier_disputes") as batch:
        batch.drop_column("sealed_contact")
    op.drop_table("identifier_reporters")
    with op.batch_alter_table("identifiers") as batch:
        batch.drop_column("reporter_weight")
    with op.batch_alter_table("report_contacts") as batch:
        batch.add_column(sa.Column("contact", sa.JSON(), nullable=True))
    contacts = sa.table("report_contacts", sa.column("report_id", sa.String), sa.column("contact", sa.JSON),
                        sa.column("sealed", sa.Text))
    if bind.scalar(sa.select(sa.func.count()).select_from(contacts)):
        cipher = _cipher()
        for rid, sealed in bind.execute(sa.select(contacts.c.report_id, contacts.c.sealed)).all():
            bind.execute(contacts.update().where(contacts.c.report_id == rid).values(contact=cipher.open(sealed)))
    with op.batch_alter_table("report_contacts") as batch:
        batch.alter_column("contact", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("sealed")

