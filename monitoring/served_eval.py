"""The served path for evaluation: report bodies scored exactly as the intake worker scores them.

    JSON bytes -> messages.parse_report(raw, "scam")   (strict schema and its defaults)
    -> store.prepare(report, received_at, keys)        (identifiers from the text and the fields)
    -> store._score(scorer, batch, reputation)         (ScoringInput -> the scorer)

with the worker's scorer (``scoring.DetectorScorer``: rounding, rejections) in batches of the
worker's size. Every figure of a detector's evaluation comes from here;
tests/integration/test_served_equality.py fails if this path and the worker's own
``store.persist`` give different scores for the same report.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from tierwatch.antifraud.reputation import InMemoryReputation, ReputationSource
from tierwatch.antifraud.results import Score
from tierwatch.monitoring.contacts import ContactCipher
from tierwatch.monitoring.messages import parse_report
from tierwatch.monitoring.scoring import DetectorScorer, Scorer
from tierwatch.monitoring.store import Prepared, ReportKeys, _score, prepare

BATCH = 2000  # the worker's default batch size


def throwaway_keys() -> ReportKeys:
    """Random keys for reports that are evaluated and never stored: tracking codes and sealed
    contacts depend on them, scores do not."""
    return ReportKeys(secrets.token_bytes(32), ContactCipher([secrets.token_bytes(32)]))


def received(body: dict, report_keys: ReportKeys | None = None) -> Prepared:
    """A client's report body as the worker has it after intake (received when it was reported)."""
    report = parse_report(json.dumps(body, ensure_ascii=False).encode("utf-8"), "scam")
    return prepare(report, report.reported_at, report_keys or throwaway_keys())


def prepared_all(bodies: Sequence[dict], report_keys: ReportKeys | None = None) -> list[Prepared]:
    keys = report_keys or throwaway_keys()
    return [received(b, keys) for b in bodies]


def score_prepared(scorer: Scorer, items: Sequence[Prepared], reputation: ReputationSource | None = None) -> list[Score | None]:
    """The worker's scoring call, batch by batch; None where the scorer rejected a report."""
    source: Any = reputation if reputation is not None else InMemoryReputation()
    out: list[Score | None] = []
    for start in range(0, len(items), BATCH):
        out.extend(_score(scorer, list(items[start : start + BATCH]), source))
    return out


def score_served(detector: Any, bodies: Sequence[dict], reputation: ReputationSource | None = None) -> list[Score | None]:
    """Score report bodies with a ``Detector`` (or anything with its ``score_batch``) as served."""
    return score_prepared(DetectorScorer(detector), prepared_all(bodies), reputation)
