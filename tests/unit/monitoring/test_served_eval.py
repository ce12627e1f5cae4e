"""The served evaluation path (monitoring.served_eval): report bodies reach the detector as the
worker's own calls hand them over (schema, identifiers, rounding, rejections, batches)."""

from __future__ import annotations

import pytest

from tierwatch.antifraud.results import Rejected, Score
from tierwatch.antifraud.training.report_bodies import CHANNEL_WEIGHTS, wrap_all
from tierwatch.monitoring.messages import InvalidMessage
from tierwatch.monitoring.served_eval import BATCH, prepared_all, received, score_served


class Recording:
    """A detector that records what it is given (a fake: this checks the path, not a model)."""

    version = "recording-1"

    def __init__(self):
        self.calls: list[list[dict]] = []

    def score_batch(self, reports, reputation):
        self.calls.append(reports)
        return [Rejected("no text") if not r["text"].strip() else Score(0.123456, True, "other", 0.5, None, [], self.version)
                for r in reports]


BODY = {"schema_version": 1, "report_id": "report-00001", "kind": "scam", "description": "加我微信 abc123，电话 13800138000",
        "channel": "sms", "reported_at": "2025-05-01T10:00:00+08:00", "reporter_type": "citizen"}


def test_a_body_is_validated_and_prepared_as_the_worker_does():
    item = received(BODY)
    assert item.report_id == "report-00001" and item.row["description"] == BODY["description"]
    assert set(item.keys) == {"phone:+8613800138000", "wechat:abc123"}  # found in the text, normalised
    with pytest.raises(InvalidMessage):
        received({**BODY, "channel": "carrier pigeon"})


def test_scores_are_rounded_and_batched_like_the_worker():
    detector = Recording()
    bodies = [dict(BODY, report_id=f"report-{i:06d}") for i in range(BATCH + 5)]
    scores = score_served(detector, bodies)
    assert [len(c) for c in detector.calls] == [BATCH, 5]
    assert {s.scam_probability for s in scores} == {0.1235}
    assert detector.calls[0][0]["channel"] == "sms" and detector.calls[0][0]["text"] == BODY["description"]


def test_wrapped_bodies_pass_the_schema_and_pinning_changes_one_field():
    texts = ["您的快递已到驿站，请凭取件码取件", "Your parcel is waiting, reply YES", "公安局通知：你涉嫌洗钱"]
    items = prepared_all(wrap_all(texts, seed=3))
    assert len(items) == 3
    pinned = {c: wrap_all(texts, seed=3, channel=c) for c in CHANNEL_WEIGHTS}
    for bodies in pinned.values():
        for body, sms in zip(bodies, pinned["sms"]):
            assert {k: v for k, v in body.items() if k != "channel"} == {k: v for k, v in sms.items() if k != "channel"}
    assert {b["channel"] for bodies in pinned.values() for b in bodies} == set(CHANNEL_WEIGHTS)
