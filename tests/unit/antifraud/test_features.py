from datetime import UTC, datetime

import numpy as np

from tierwatch.antifraud.features import DENSE, MAX_TEXT_CHARS, Featurizer, Prepared, prepare
from tierwatch.antifraud.reputation import InMemoryReputation

REPORT = {
    "text": "自称公安局的人让我把钱转到安全账户",
    "channel": "phone",
    "amount_lost": 5000,
    "ai_technique": "cloned_voice",
    "region": "广东省深圳市",
    "reported_at": "2025-03-01T23:30:00+08:00",
    "reporter_type": "citizen",
    "identifiers": {"phone": ["13800138000"]},
}


def test_prepare_accepts_a_well_formed_report():
    p = prepare(REPORT)
    assert isinstance(p, Prepared)
    assert (p.channel, p.amount_lost, p.province, p.identifiers) == ("phone", 5000.0, 18, ("phone:13800138000",))
    assert p.reported_at == datetime(2025, 3, 1, 15, 30, tzinfo=UTC)
    assert p.notes == ()


def test_prepare_rejects_with_a_reason():
    assert prepare("text") == "report must be a dict, got str"
    assert prepare({"text": 42}) == "text must be a string, got int"
    assert prepare({"text": "   "}) == "empty text: nothing to score"
    assert prepare({}) == "empty text: nothing to score"


def test_prepare_coerces_or_ignores_malformed_fields_with_notes():
    p = prepare({"text": "hi", "channel": "pigeon", "amount_lost": "12.5", "reported_at": "yesterday", "ai_technique": 7, "identifiers": "13800"})
    assert isinstance(p, Prepared)
    assert (p.channel, p.amount_lost, p.reported_at, p.ai_technique, p.identifiers) == (None, 12.5, None, None, ())
    assert len(p.notes) == 3
    assert prepare({"text": "hi", "amount_lost": float("nan")}).amount_lost is None


def test_huge_text_is_truncated_not_rejected():
    p = prepare({"text": "骗" * 1_000_000})
    assert isinstance(p, Prepared) and len(p.text) == MAX_TEXT_CHARS
    assert "truncated" in p.notes[0]


def _featurizer() -> Featurizer:
    from tierwatch.antifraud.text import hash_batch

    batch = hash_batch(["安全账户 safe account"])
    buckets = sorted(set(batch.bucket.tolist()))
    return Featurizer(buckets, [f"g{i}" for i in range(len(buckets))])


def test_transform_is_deterministic_and_survives_a_json_round_trip():
    f = _featurizer()
    items = [prepare(REPORT), prepare({"text": "safe account please"})]
    a = f.transform(items).toarray()
    b = Featurizer.from_json(f.to_json()).transform(items).toarray()
    np.testing.assert_array_equal(np.nan_to_num(a, nan=-1), np.nan_to_num(b, nan=-1))
    assert a[0, : f.n_text].sum() > 0 and a[1, : f.n_text].sum() > 0


def test_batch_split_across_threads_gives_the_same_matrix():
    import tierwatch.antifraud.features as features

    f = _featurizer()
    items = [prepare({"text": f"安全账户 {i} safe account"}) for i in range(50)]
    whole = f.transform(items)
    old = features.PARALLEL_MIN
    features.PARALLEL_MIN = 10
    try:
        split = f.transform(items)
    finally:
        features.PARALLEL_MIN = old
    assert (whole != split).nnz == 0


def test_known_zero_reputation_differs_from_missing():
    f = _featurizer()
    col = f.n_text + DENSE.index("rep_phone_count")
    never = f.transform([prepare(REPORT)], InMemoryReputation())
    unknown = f.transform([prepare(REPORT)], None)
    assert col in never.indices and never[0, col] == 0  # stored explicit zero
    assert col not in unknown.indices  # missing


def test_reputation_counts_feed_the_features():
    # Three partner feeds: three verified reporters.
    earlier = [dict(REPORT, reported_at="2025-02-01T10:00:00+08:00", region=r, reporter_type="partner_feed",
                    reporter_key=f"{n:032x}") for n, r in enumerate(("北京", "上海", "北京"))]
    f = _featurizer()
    X = f.transform([prepare(REPORT)], InMemoryReputation.from_reports(earlier)).toarray()[0]
    dense = dict(zip(DENSE, X[f.n_text :]))
    assert dense["rep_phone_count"] == 3 and dense["rep_regions_max"] == 2 and dense["night"] == 1


def test_reputation_features_count_reporters_by_trust_not_reports():
    f = _featurizer()
    col = DENSE.index("rep_phone_count")

    def feature(history: list[dict]) -> float:
        return float(f.transform([prepare(REPORT)], InMemoryReputation.from_reports(history)).toarray()[0][f.n_text + col])

    at = "2025-02-01T10:00:00+08:00"
    one_anonymous = [dict(REPORT, reported_at=at, reporter_type="citizen", source="web", reporter_key="a" * 32)] * 50
    fifty_feeds = [dict(REPORT, reported_at=at, reporter_type="partner_feed", reporter_key=f"{n:032x}") for n in range(50)]
    assert feature(one_anonymous) == 0.25 and feature(fifty_feeds) == 50


def test_a_model_trained_before_a_new_channel_gets_exactly_its_own_columns():
    from tierwatch.antifraud.features import DENSE

    assert "channel=in_person" in DENSE
    older = [n for n in DENSE if n != "channel=in_person"]  # what a model trained before it stored
    f = _featurizer()
    old = Featurizer.from_json({**f.to_json(), "dense": older})
    items = [prepare({**REPORT, "channel": "in_person"}), prepare(REPORT)]
    X = old.transform(items).toarray()
    assert X.shape[1] == f.n_text + len(older) and old.feature_names[f.n_text:] == older
    row = dict(zip(old.feature_names, X[0]))
    assert not any(row[f"channel={c}"] for c in ("phone", "sms", "other"))  # unseen value: no channel
    assert dict(zip(old.feature_names, X[1]))["channel=phone"] == 1.0
    new = f.transform(items).toarray()
    assert dict(zip(f.feature_names, new[0]))["channel=in_person"] == 1.0
    try:
        Featurizer.from_json({**f.to_json(), "dense": older + ["channel=pigeon"]})
    except ValueError as exc:
        assert "channel=pigeon" in str(exc)
    else:
        raise AssertionError("a column this code cannot compute must be refused")


def test_every_named_technique_is_a_feature():
    p = prepare({**REPORT, "ai_technique": "cloned_voice", "ai_techniques": ["face_swap_video", "cloned_voice"]})
    assert (p.ai_technique, p.ai_techniques) == ("face_swap_video", ("face_swap_video", "cloned_voice"))
    f = _featurizer()
    row = dict(zip(f.feature_names, f.transform([p]).toarray()[0]))
    assert row["suspected=face_swap_video"] == row["suspected=cloned_voice"] == 1.0
    assert row["suspected=chatbot"] == 0.0
