"""core: event bus tables (root revision; every domain branch starts here)

Revision ID: 0001_core
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bus_topics",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bus_topics")),
    )
    op.create_table(
        "bus_records",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(500), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bus_records")),
    )
    op.create_index("ix_bus_records_topic_partition_id", "bus_records", ["topic", "partition", "id"])
    op.create_table(
        "bus_offsets",
        sa.Column("group_id", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "topic", "partition", name=op.f("pk_bus_offsets")),
    )
    op.create_table(
        "bus_members",
        sa.Column("group_id", sa.String(200), nullable=False),
        sa.Column("member_id", sa.String(200), nullable=False),
        sa.Column("heartbeat", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "member_id", name=op.f("pk_bus_members")),
    )


def downgrade() -> None:
    op.drop_table("bus_members")
    op.drop_table("bus_offsets")
    op.drop_index("ix_bus_records_topic_partition_id", table_name="bus_records")
    op.drop_table("bus_records")
    op.drop_table("bus_topics")
