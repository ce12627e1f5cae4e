"""registry: token scope and lineage, who submitted a version, the security log, and a keyed
audit chain without personal data

Existing audit entries are rewritten once: actors become role:user-id, contact fields become a
marker, and every hash is recomputed as an HMAC with the key ring's "audit" key (handed in by
`tierwatch db upgrade`; see tierwatch.core.migrate.upgrade). The append-only triggers are lifted
for that rewrite only.

Revision ID: 0006_registry_hardening
Revises: 0002_registry
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

from tierwatch.core.db import UTCDateTime

revision = "0006_registry_hardening"
down_revision = "0002_registry"
branch_labels = None
depends_on = None

_PERSONAL = {"contact_name", "contact_email", "contact_phone", "email", "phone", "password"}


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(20), nullable=False, server_default="all"))
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_api_tokens_parent_id_api_tokens"), "api_tokens", ["parent_id"], ["id"])
        batch.create_index(op.f("ix_api_tokens_parent_id"), ["parent_id"])
    with op.batch_alter_table("application_versions") as batch:
        batch.add_column(sa.Column("submitted_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_application_versions_submitted_by_id_users"), "users",
                                 ["submitted_by_id"], ["id"])
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minute", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
        sa.UniqueConstraint("minute", "kind", "actor", "source", "route", name="uq_security_events_bucket"),
    )
    op.create_index(op.f("ix_security_events_minute"), "security_events", ["minute"])
    _rekey_audit_trail()


def downgrade() -> None:
    op.drop_index(op.f("ix_security_events_minute"), table_name="security_events")
    op.drop_table("security_events")
    with op.batch_alter_table("application_versions") as batch:
        batch.drop_constraint(op.f("fk_application_versions_submitted_by_id_users"), type_="foreignkey")
        batch.drop_column("submitted_by_id")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index(op.f("ix_api_tokens_parent_id"))
        batch.drop_constraint(op.f("fk_api_tokens_parent_id_api_tokens"), type_="foreignkey")
        batch.drop_column("parent_id")
        batch.drop_column("scope")


def _rekey_audit_trail() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT e.id, e.at, e.actor_id, e.actor, e.action, e.entity, e.entity_id, e.reason, e.changes,"
        " u.role FROM audit_entries e LEFT JOIN users u ON u.id = e.actor_id ORDER BY e.id"
    )).all()
    if not rows:
        return
    keys = context.config.attributes.get("keys")
    if keys is None:
        raise RuntimeError("this migration re-keys the audit trail: run it with `tierwatch db upgrade` "
                           "(which hands in the key ring)")
    key = keys.key("audit")
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change"))
    else:
        conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
    prev = "0" * 64
    for (id_, at, actor_id, actor, action, entity, entity_id, reason, changes, role) in rows:
        if isinstance(changes, str):
            changes = json.loads(changes)
        if actor_id is not None:
            actor = f"{role or 'user'}:{actor_id}"
        if changes:
            personal = _PERSONAL | ({"name"} if entity == "user" else set())
            changes = {k: "<personal data changed>" if k in personal else v for k, v in changes.items()}
        if isinstance(at, str):  # SQLite hands back text
            at = datetime.fromisoformat(at)
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        payload = {"id": id_, "at": at.astimezone(UTC).isoformat(), "actor_id": actor_id, "actor": actor,
                   "action": action, "entity": entity, "entity_id": entity_id, "reason": reason,
                   "changes": changes, "prev_hash": prev}
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
        conn.execute(
            sa.text("UPDATE audit_entries SET actor = :actor, changes = :changes, prev_hash = :prev,"
                    " hash = :hash WHERE id = :id"),
            {"actor": actor, "changes": None if changes is None else json.dumps(changes, ensure_ascii=False),
             "prev": prev, "hash": digest, "id": id_},
        )
        prev = digest
    conn.execute(sa.text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": prev})
    if postgres:
        conn.execute(sa.text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change"))
    else:
        conn.execute(sa.text("""CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
    BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"""))
