"""Text signals: phrases and term groups in zh and en, word boundaries, negation scope (jieba),
longer phrases of another signal, one sentence at a time."""

from __future__ import annotations

import pytest

from tierwatch.risk.textmatch import Lexicon, SignalSpec

LEXICON = Lexicon([
    SignalSpec("social_scoring", ("社会评分", "社会信用评分", "文明积分", "social scor*", "citizen score*")),
    SignalSpec("credit", ("信用评分", "credit scor*")),
    SignalSpec("realtime_rbi", (), (("实时", "即时", "real-time", "live", "realtime"),
                                    ("人脸识别", "人脸比对", "face recognition", "facial recognition", "face match*"))),
    SignalSpec("scraping", (), (("人脸", "face*", "facial"), ("爬取", "抓取", "scrap*", "crawl*"))),
])


def found(*texts: str) -> set[str]:
    return set(LEXICON.match(*texts) or ())


@pytest.mark.parametrize("text, signals", [
    ("整合居民社会行为生成社会信用评分", {"social_scoring"}),  # not also "credit": 信用评分 is inside
    ("根据还款数据评定信用评分", {"credit"}),
    ("Real time facial recognition at gates", {"realtime_rbi"}),
    ("real-time face matching", {"realtime_rbi"}),  # a hyphen is a space
    ("Live face matching of pedestrians", {"realtime_rbi"}),
    ("实时人脸比对", {"realtime_rbi"}),
    ("Faces were crawled from social media", {"scraping"}),
    ("从公开网页爬取人脸照片", {"scraping"}),
    ("asocial scoring", set()),  # a Latin phrase starts on a word boundary
    ("Social scoring-like ranking", {"social_scoring"}),  # "scor*" is a prefix
    ("delivery of live music", set()),  # one group alone is not the signal
])
def test_phrases_and_groups(text: str, signals: set[str]) -> None:
    assert found(text) == signals


@pytest.mark.parametrize("text, signals", [
    ("本系统不进行社会评分", set()),
    ("我们并非社会评分系统", set()),
    ("The system does not use real-time facial recognition", set()),
    ("用于识别不良贷款的社会评分", {"social_scoring"}),  # 不良 negates nothing (jieba: one word)
    ("未来将上线社会评分", {"social_scoring"}),  # 未来 is "future", not "not yet"
    ("不仅考勤，还做社会评分", {"social_scoring"}),  # another clause, and 不仅 is "not only"
    ("不是普通积分，而是社会评分", {"social_scoring"}),  # 而是 ends the negation's reach
    ("Not only attendance but also live face recognition", {"realtime_rbi"}),
])
def test_negation_is_scoped(text: str, signals: set[str]) -> None:
    assert found(text) == signals


def test_groups_must_meet_in_one_sentence_of_one_field() -> None:
    assert found("实时人脸识别。") == {"realtime_rbi"}
    assert found("支持实时推送。另有人脸识别模块。") == set()
    assert found("实时推送", "人脸识别模块") == set()


def test_evidence_names_the_phrases_and_quotes_the_sentence() -> None:
    hit = LEXICON.match("Gate cameras. Live face matching of Passengers. Other text.")["realtime_rbi"]
    assert set(hit.terms) == {"live", "face match*"}
    assert hit.snippet == "Live face matching of Passengers."


def test_cached_sentences_give_the_same_answer_in_any_text() -> None:
    first = LEXICON.match("对居民进行社会评分。其余说明一。")
    again = LEXICON.match("其余说明二。对居民进行社会评分。")
    assert first == again == {"social_scoring": first["social_scoring"]}
