"""The interim rule scorer: evidence in, probability and reasons out."""

from __future__ import annotations

from datetime import UTC, datetime

from tierwatch.antifraud.reputation import IdentifierStats
from tierwatch.monitoring.scoring import DetectorScorer, RuleScorer, ScoringInput, load_scorer

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def item(text: str, **kw) -> ScoringInput:
    base = dict(report_id="r-1", kind="scam", text=text, channel="phone", amount_lost=None,
                ai_technique=None, region="广东", reported_at=NOW, identifiers=())
    return ScoringInput(**{**base, **kw})


def test_scam_script_scores_high_and_says_why():
    [score] = RuleScorer().score_batch([item("自称公安说我涉嫌洗钱，让我转账到安全账户")], Known())
    assert score.is_scam and score.scam_probability > 0.7
    assert score.scam_type == "impersonate_authority"
    assert any("公安" in r for r in score.reasons) and score.model_version == "rules-v1"


class Known:
    """A ReputationSource with fixed answers."""

    def __init__(self, stats=None):
        self.stats = stats or {}
        self.asked = []

    def lookup(self, identifiers, before):
        self.asked.append((tuple(identifiers), before))
        return {k: v for k, v in self.stats.items() if k in identifiers}


def test_ordinary_message_scores_low():
    [score] = RuleScorer().score_batch([item("明天下午三点开会，请准时参加")], Known())
    assert not score.is_scam and score.scam_probability < 0.2


def test_reputation_and_ai_technique_raise_the_score():
    text = "对方打电话说是我儿子"
    plain = RuleScorer().score_batch([item(text)], Known())[0]
    stats = IdentifierStats(count=12, first_seen=NOW, last_seen=NOW, regions=2, weight=12.0)
    source = Known({"phone:+8613800138000": stats})
    known = RuleScorer().score_batch(
        [item(text, identifiers=("phone:+8613800138000",), ai_technique="cloned_voice")], source
    )[0]
    assert known.scam_probability > plain.scam_probability + 0.3
    assert any("reported 12 times" in r and "worth 12 reporters" in r for r in known.reasons)
    assert source.asked == [(("phone:+8613800138000",), NOW)]  # as of the report's own time


def test_reputation_gains_by_trusted_reporters_not_by_reports():
    """12 reports from one anonymous reporter (weight 0.25) raise the score less than 12 from
    independent verified reporters (weight 12)."""
    text = "对方打电话说是我儿子"
    ident = ("phone:+8613800138000",)

    def with_stats(weight: float) -> float:
        stats = IdentifierStats(count=12, first_seen=NOW, last_seen=NOW, regions=1, weight=weight)
        return RuleScorer().score_batch([item(text, identifiers=ident)], Known({ident[0]: stats}))[0].scam_probability

    plain = RuleScorer().score_batch([item(text)], Known())[0].scam_probability
    one_anonymous, twelve_verified = with_stats(0.25), with_stats(12.0)
    assert plain < one_anonymous < twelve_verified
    assert twelve_verified - plain > 4 * (one_anonymous - plain)


def test_incident_reports_are_not_scam_scored():
    [score] = RuleScorer().score_batch([item("数据泄露", kind="incident")], Known())
    assert score.scam_probability == 0.0 and not score.is_scam


def test_detector_adapter_maps_scores_and_rejections():
    from tierwatch.antifraud.results import Rejected, Score

    class Detector:
        version = "xgb-7"

        def score_batch(self, reports, reputation):
            self.seen = reports
            return [Score(0.91, True, "loan_credit", 0.8, "none", [], "xgb-7"), Rejected("empty text")]

    detector = Detector()
    scores = DetectorScorer(detector).score_batch(
        [item("贷款", identifiers=("phone:+8613800138000", "url:http://a.cn/x")), item(" "),
         item("泄露", kind="incident")],
        Known(),
    )
    assert (scores[0].scam_probability, scores[0].scam_type, scores[0].model_version) == (0.91, "loan_credit", "xgb-7")
    assert scores[1] is None and scores[2].scam_probability == 0.0
    assert detector.seen[0]["identifiers"] == {"phone": ["+8613800138000"], "url": ["http://a.cn/x"]}
    assert len(detector.seen) == 2  # incidents are not sent to the scam detector


def test_without_models_the_rule_scorer_is_used(tmp_path):
    assert isinstance(load_scorer(None), RuleScorer)
    assert isinstance(load_scorer(tmp_path), RuleScorer)


def test_rules_and_detector_return_one_score_type_with_the_same_reason_lines():
    import re

    from tierwatch.antifraud import results, scoring

    [score] = RuleScorer().score_batch([item("自称公安说我涉嫌洗钱，让我转账到安全账户", amount_lost=5000.0)], Known())
    assert type(score) is results.Score is scoring.Score
    assert score.scam_type_probability is None and score.ai_technique is None  # the rules judge neither
    # Stored lines read like the detector's: Chinese / English (signed weight).
    assert all(re.fullmatch(r".+ / .+ \([+-]\d+\.\d\d\)", r) for r in score.reasons), score.reasons
    assert "冒充公检法及政府机关用语：公安、洗钱、安全账户 / impersonate_authority: 公安、洗钱、安全账户 (+2.40)" in score.reasons
