"""registry: the structured questions of issue 14 as columns of application_versions

One nullable column per question (registry.vocab.QUESTIONS, as of this revision) and a JSON
column for the written justifications of exemption claims. No answer is inferred: every
existing filing starts with every question unanswered (NULL), never "no". The risk branch's
0014 revision flags those filings for review; the version-2 rule sets read them through their
fallbacks (the filed profile stands in for an unanswered question), so no tier drops.

Revision ID: 0014_registry_structured_answers
Revises: 0020_registry_portal (the registry branch stays one chain: portals first)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_registry_structured_answers"
down_revision = "0020_registry_portal"
branch_labels = None
depends_on = None

# Frozen here (not read from registry.vocab): a later question is a later revision.
QUESTION_COLUMNS = (
    ("offered_to_public", sa.String(40)),
    ("intended_purpose", sa.JSON(none_as_null=True)),
    ("annex_i_product", sa.String(40)),
    ("safety_component", sa.String(40)),
    ("rbi_remote", sa.String(40)),
    ("rbi_real_time", sa.String(40)),
    ("rbi_public_spaces", sa.String(40)),
    ("rbi_law_enforcement", sa.String(40)),
    ("rbi_exception", sa.String(40)),
    ("biometric_verification_only", sa.String(40)),
    ("biometric_categorisation_sensitive", sa.String(40)),
    ("infers_emotions", sa.String(40)),
    ("emotion_settings", sa.JSON(none_as_null=True)),
    ("emotion_medical_or_safety", sa.String(40)),
    ("manipulative_techniques", sa.String(40)),
    ("exploits_vulnerabilities", sa.String(40)),
    ("social_scoring", sa.String(40)),
    ("crime_prediction_profiling", sa.String(40)),
    ("untargeted_face_scraping", sa.String(40)),
    ("profiling", sa.String(40)),
    ("art6_3_exemption", sa.String(40)),
    ("fraud_detection_only", sa.String(40)),
    ("interacts_with_people", sa.String(40)),
    ("public_interest_text", sa.String(40)),
    ("human_editorial_control", sa.String(40)),
    ("edits_real_persons", sa.String(40)),
    ("differential_pricing", sa.String(40)),
    ("cac_algorithm_filing", sa.String(100)),
)


def upgrade() -> None:
    with op.batch_alter_table("application_versions") as batch:
        for name, type_ in QUESTION_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.add_column(sa.Column("justifications", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("application_versions") as batch:
        batch.drop_column("justifications")
        for name, _type in reversed(QUESTION_COLUMNS):
            batch.drop_column(name)
