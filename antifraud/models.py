"""Tables of the anti-fraud domain: registered model versions (a mirror of the on-disk model store,
with the retraining decisions) and analysts' labels on reports."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tierwatch.core.db import Base, created_at, intpk


class ModelVersion(Base):
    __tablename__ = "antifraud_model_versions"
    __table_args__ = (
        # one active model per use, enforced by the database as well as by the model store
        sa.Index(
            "uq_antifraud_model_versions_active_use",
            "use",
            unique=True,
            sqlite_where=sa.text("active = 1"),
            postgresql_where=sa.text("active"),
        ),
    )

    id: Mapped[intpk]
    version: Mapped[str] = mapped_column(sa.String(80), unique=True)
    use: Mapped[str] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(default=False)
    data_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict[str, Any]]
    checksums: Mapped[dict[str, Any]]
    evaluation: Mapped[dict[str, Any]]
    decision: Mapped[dict[str, Any]]  # retraining: promoted or not, and on which numbers
    created_at: Mapped[created_at]


class AnalystLabel(Base):
    __tablename__ = "antifraud_labels"

    id: Mapped[intpk]
    report_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    is_scam: Mapped[bool]
    scam_type: Mapped[str | None] = mapped_column(sa.String(40))
    ai_technique: Mapped[str | None] = mapped_column(sa.String(40))
    analyst: Mapped[str] = mapped_column(sa.String(120))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[created_at]
