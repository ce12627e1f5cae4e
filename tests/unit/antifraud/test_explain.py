import pytest

from tierwatch.antifraud import features, incidents
from tierwatch.antifraud.explain import describe


@pytest.mark.parametrize("name", features.DENSE + incidents.DENSE + ["text:安全账户", "text:safe account"])
@pytest.mark.parametrize("value", [None, 0.0, 1.0, 3.5, 250.0])
def test_every_feature_has_words_for_any_value(name, value):
    if name == "province" and value is not None and value > 33:
        value = 33.0
    zh, en = describe(name, value)
    assert zh and en and "=" not in en and "_" not in en


def test_words_say_what_the_value_means():
    assert describe("text:安全账户", 1.0) == ("文本含有“安全账户”", 'text contains "安全账户"')
    assert describe("text:退订", None)[1] == 'text lacks "退订"'
    assert describe("rep_phone_count", 12.0)[1] == "this phone number was reported before by 12 reporters (weighted by trust)"
    assert describe("rep_phone_count", 0.25)[0] == "该电话号码此前被 0.25 位举报人举报（按可信度折算）"
    assert describe("rep_phone_count", 0.0)[0] == "该电话号码此前未被举报"
    assert describe("amount_lost_log10", 4.0)[1] == "reported loss about CNY 9,999"
    assert describe("channel=video_call", 1.0)[0] == "举报渠道为视频通话"
