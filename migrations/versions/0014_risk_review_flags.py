"""risk: review flags, findings, suspended rules and the margin beside each assessment; stored
text matches (issue 14)

Existing current assessments were made before the structured questions existed, so every one of
them is flagged `unanswered` (and enters the regulator's review queue) until the version-2 rule
sets re-tier it; their tiers do not change here.

Revision ID: 0014_risk_review_flags
Revises: 0013_risk_tier_reviews, 0014_registry_structured_answers
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tierwatch.core.db import UTCDateTime

revision = "0014_risk_review_flags"
# After the risk branch's last revision and the registry's questions: a merge point, not a
# depends_on, so the code's heads are exactly what a migrated database records (schema_state).
down_revision = ("0013_risk_tier_reviews", "0014_registry_structured_answers")
branch_labels = None
depends_on = None

_EMPTY = sa.text("'[]'")
LEGACY_FLAG = {
    "id": "MIGRATED-UNANSWERED", "kind": "unanswered", "fields": [], "evidence": {},
    "message": {"zh": "该申报早于结构化问题，问题均未作答；请补充回答，或由监管人员复核。",
                "en": "Filed before the structured questions existed: none is answered yet. Ask the "
                      "company to answer them, or review the filing."},
}


def _where(condition: str) -> dict[str, object]:
    clause = sa.text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


def upgrade() -> None:
    with op.batch_alter_table("risk_assessments") as batch:
        batch.add_column(sa.Column("flags", sa.JSON(), nullable=False, server_default=_EMPTY))
        batch.add_column(sa.Column("flag_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("findings", sa.JSON(), nullable=False, server_default=_EMPTY))
        batch.add_column(sa.Column("suspended", sa.JSON(), nullable=False, server_default=_EMPTY))
        batch.add_column(sa.Column("margin", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("flags_reviewed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("flags_reviewed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("flags_review_note", sa.Text(), nullable=True))
    op.create_table(
        "text_matches",
        sa.Column("signals_key", sa.String(64), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("matches", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("signals_key", "text_hash", name=op.f("pk_text_matches")),
    )
    op.create_index("ix_risk_assessments_review_queue", "risk_assessments", ["jurisdiction", "created_at"],
                    **_where("is_current AND flag_count > 0 AND flags_reviewed_at IS NULL"))
    flag_them = sa.text("UPDATE risk_assessments SET flags = :flags, flag_count = 1 WHERE is_current")
    op.get_bind().execute(flag_them.bindparams(sa.bindparam("flags", type_=sa.JSON())), {"flags": [LEGACY_FLAG]})


def downgrade() -> None:
    op.drop_table("text_matches")
    op.drop_index("ix_risk_assessments_review_queue", table_name="risk_assessments")
    with op.batch_alter_table("risk_assessments") as batch:
        for name in ("flags_review_note", "flags_reviewed_by", "flags_reviewed_at", "margin", "suspended",
                     "findings", "flag_count", "flags"):
            batch.drop_column(name)
