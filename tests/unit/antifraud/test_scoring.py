import pytest

from tierwatch.antifraud.reputation import InMemoryReputation
from tierwatch.antifraud.scoring import Detector, IncidentSeverity, Rejected, Score
from tierwatch.antifraud.vocab import AI_TECHNIQUES, SCAM_TYPES

SCAM = {
    "text": "今天接到自称公安局民警的电话，说我的身份证涉嫌洗钱，让我把存款转到安全账户，我转了5万元",
    "channel": "phone",
    "amount_lost": 50000,
    "reported_at": "2025-03-01T10:00:00+08:00",
    "identifiers": {"phone": ["13800138000"]},
}
BENIGN = {"text": "【工商银行】您尾号1234的账户3月1日支出人民币99元，余额1000元。客服热线95588。", "channel": "sms"}


@pytest.fixture
def detector(models_dir):
    return Detector.load_active(models_dir)


def test_scores_carry_type_technique_explanation_and_version(detector):
    scam, benign = detector.score_batch([SCAM, BENIGN])
    assert isinstance(scam, Score) and isinstance(benign, Score)
    assert scam.scam_probability > benign.scam_probability
    assert scam.is_scam and not benign.is_scam
    assert scam.scam_type in SCAM_TYPES and scam.ai_technique in AI_TECHNIQUES
    assert 0 < scam.scam_type_probability <= 1
    assert scam.model_version == detector.report_version and scam.model_version.startswith("report-")


def test_explanations_are_words_with_signed_weights(detector):
    (score,) = detector.score_batch([SCAM])
    assert score.explanation
    for c in score.explanation:
        assert c.label_zh and c.label_en and c.weight != 0
        assert not c.label_en.startswith(("text:", "rep_", "channel="))
    weights = [abs(c.weight) for c in score.explanation]
    assert weights == sorted(weights, reverse=True)


def test_bad_items_are_scored_or_rejected_never_raised(detector):
    items = [
        {"text": ""},
        {"text": None},
        {"text": 123},
        "not a dict",
        None,
        {"text": "急！😊😊😊🙏💰"},
        {"text": "骗" * 1_000_000},
        {"text": "Hi mum 我手机坏了 please send 5000 to 6222020202020202", "channel": "carrier pigeon", "amount_lost": "lots", "reported_at": "soon", "identifiers": ["x"]},
        {"text": "\ud800 broken surrogate \x00 nul"},
        SCAM,
    ]
    results = detector.score_batch(items)
    assert len(results) == len(items)
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Rejected"] * 5 + ["Score"] * 5
    assert results[0].reason == "empty text: nothing to score"
    assert "truncated" in results[6].notes[0]
    assert any("channel" in n for n in results[7].notes)
    assert results[-1] == detector.score_batch([SCAM])[0]  # neighbours do not change a score


def test_a_failing_reputation_source_does_not_fail_the_batch(detector):
    class Broken:
        def lookup(self, identifiers, before):
            raise ConnectionError("database down")

    (score,) = detector.score_batch([SCAM], Broken())
    assert isinstance(score, Score)


def test_reputation_changes_the_evidence(detector):
    history = [dict(SCAM, reported_at=f"2025-02-{d:02d}T10:00:00+08:00", region=r) for d, r in zip(range(1, 9), "北京 上海 广东 浙江 江苏 四川 湖北 河南".split())]
    (with_history,) = detector.score_batch([SCAM], InMemoryReputation.from_reports(history))
    (without,) = detector.score_batch([SCAM], InMemoryReputation())
    assert with_history.scam_probability != without.scam_probability or with_history.explanation != without.explanation


def test_incidents_get_a_severity_or_a_reason(detector):
    results = detector.score_incidents([
        {"type": "data_leak", "description": "用户对话记录被泄露，涉及身份证号和银行卡信息，问题仍在持续", "affected_users": 2_000_000, "app_tier": "high"},
        {"type": "outage", "description": "service was down for two hours, fixed and users notified", "affected_users": 10, "app_tier": "low"},
        {"type": "nonsense"},
        {"type": "outage", "description": 5},
        "junk",
    ])
    big, small = results[0], results[1]
    assert isinstance(big, IncidentSeverity) and isinstance(small, IncidentSeverity)
    order = ["low", "medium", "high", "critical"]
    assert order.index(big.severity) > order.index(small.severity)
    assert abs(sum(big.probabilities.values()) - 1) < 1e-3 and big.explanation
    assert all(isinstance(r, Rejected) for r in results[2:])


def test_load_active_without_models_is_none(tmp_path):
    assert Detector.load_active(tmp_path) is None


def test_large_batches_split_across_workers_give_the_same_scores(detector, monkeypatch):
    import tierwatch.antifraud.scoring as scoring
    from tierwatch.antifraud.training.synth.generate import generate_reports

    reports = [e.report for e in generate_reports(60, seed=11)] + [{"text": ""}, "bad"]
    plain = detector.score_batch(reports, InMemoryReputation())
    monkeypatch.setattr(scoring, "CHUNK", 7)  # 9 chunks over two workers
    chunked = detector.score_batch(reports, InMemoryReputation())
    assert chunked == plain
    assert [type(r).__name__ for r in chunked[-2:]] == ["Rejected", "Rejected"]
