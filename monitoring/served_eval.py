"""The served path for evaluation: report bodies scored exactly as the intake worker scores them.

    JSON bytes -> messages.parse_report(raw, "scam")   (strict schema and its defaults)
    -> store.prepare(report, received_at)              (identifiers from the text and the fields)
    -> store._score(scorer, batch, reputation)         (ScoringInput -> the scorer)

with the worker's scorer (``scoring.DetectorScorer``: rounding, rejections) in batches of the
worker's size. Every figure of a detector's evaluation comes from here;
tests/integration/test_served_equality.py fails if this path and the worker's own
``store.persist`` give different scores for the same report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tierwatch.antifraud.reputation import InMemoryReputation, ReputationSource
from tierwatch.antifraud.results import Score
from tierwatch.monitoring.messages import parse_report
from tierwatch.monitoring.scoring import DetectorScorer, Scorer
from tierwatch.monitoring.store import Prepared, _score, prepare

BATCH = 2000  # the worker's default batch size


def received(body: dict) -> Prepared:
    """A client's report body as the worker has it after intake (received when it was reported)."""
    report = parse_report(json.dumps(body, ensure_ascii=False).encode("utf-8"), "scam")
    return prepare(report, report.reported_at)


def prepared_all(bodies: Sequence[dict]) -> list[Prepared]:
    return [received(b) for b in bodies]


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
