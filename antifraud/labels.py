"""Analysts' verdicts as labels, in the caller's transaction: an alert's verdict labels its
reports together with the verdict and its audit entry, or not at all. (``service.record_label``
is the stand-alone form that commits itself.)"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from pydantic import ValidationError

from tierwatch.antifraud.models import AnalystLabel
from tierwatch.antifraud.schemas import LabelIn
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Invalid


def add_labels(uow: UnitOfWork, report_ids: Sequence[str], is_scam: bool, analyst: str, *,
               scam_type: str | None = None, ai_technique: str | None = None, note: str = "") -> int:
    """One label per report (the latest label of a report is the one training uses); the
    caller commits. Returns how many were added."""
    if not report_ids:
        return 0
    try:
        template = LabelIn(report_id=report_ids[0], is_scam=is_scam, analyst=analyst, scam_type=scam_type,
                           ai_technique=ai_technique, note=note)
    except ValidationError as exc:
        raise Invalid([{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                       for e in exc.errors(include_url=False)]) from None
    rows = [{**template.model_dump(), "report_id": rid} for rid in dict.fromkeys(report_ids)]
    uow.session.execute(sa.insert(AnalystLabel), rows)
    return len(rows)
