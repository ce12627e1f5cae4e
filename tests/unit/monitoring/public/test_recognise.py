"""The check box recognises what was typed with the worker's own extractor, so every way of
writing a number or link finds the same reports."""

from __future__ import annotations

import pytest

from tierwatch.monitoring.identifiers import extract, extract_field
from tierwatch.monitoring.public.checking import NOT_RATED, MEDIUM, HIGH, CLEARED, recognise, risk_level

MOBILE = ("phone", "+8613800138000")


@pytest.mark.parametrize("typed", [
    "13800138000", "138-0013-8000", "138 0013 8000", "+86 138 0013 8000", "0086-138-0013-8000",
    "8613800138000", "１３８００１３８０００", "（+86）138 0013 8000", " 138 0013 8000 ",
])
def test_a_mobile_number_in_any_format(typed):
    found = recognise(typed)
    assert (found.kind, found.value, found.shown) == (*MOBILE, "+86 138 0013 8000")
    # the keys searched include the one the worker stores for the same number in a description
    assert "phone:+8613800138000" in found.keys
    assert "phone:+8613800138000" in {str(i) for i in extract(f"他打来电话 {typed} 说我涉嫌洗钱")}


@pytest.mark.parametrize("typed, value", [
    ("020-87654321", "+862087654321"), ("(0755) 8888 1234", "+8675588881234"), ("+86 20 8765 4321", "+862087654321"),
    ("0755-88881234", "+8675588881234"), ("95588", "95588"), ("400-123-4567", "4001234567"),
])
def test_landlines_and_service_numbers(typed, value):
    found = recognise(typed)
    assert (found.kind, found.value) == ("phone", value)


@pytest.mark.parametrize("typed", [
    "http://evil-bank.com/login", "hxxp://evil-bank[.]com/login", "hxxps://evil-bank(.)com",
    "ｈｔｔｐ：／／ｅｖｉｌ－ｂａｎｋ．ｃｏｍ／ｐａｙ", "evil-bank.com", "WWW.EVIL-BANK.COM/x", "login.evil-bank.com",
])
def test_links_in_any_form_are_their_registered_domain(typed):
    found = recognise(typed)
    assert (found.kind, found.value, found.keys) == ("domain", "evil-bank.com", ("domain:evil-bank.com",))
    assert "domain:evil-bank.com" in {str(i) for i in extract(f"点开链接 {typed} 输入了密码")}


def test_a_shared_service_is_checked_by_its_full_link_only():
    found = recognise("https://www.qq.com/abc/123")
    assert (found.kind, found.keys) == ("url", ("url:https://www.qq.com/abc/123",))


@pytest.mark.parametrize("typed, kind, value", [
    ("QQ 123456789", "qq", "123456789"), ("QQ号：123456789", "qq", "123456789"), ("123456789", "qq", "123456789"),
    ("微信 Scam_Helper8", "wechat", "scam_helper8"), ("vx:scam_helper8", "wechat", "scam_helper8"),
    ("scam_helper8", "wechat", "scam_helper8"), ("支付宝 zhang@163.com", "alipay", "zhang@163.com"),
    ("支付宝账号 138 0013 8000", "alipay", "+8613800138000"), ("zhang@163.com", "email", "zhang@163.com"),
    ("4111 1111 1111 1111", "bank_card", "4111111111111111"), ("某某宝APP", "app", "某某宝"),
])
def test_accounts_cards_and_apps(typed, kind, value):
    found = recognise(typed)
    assert (found.kind, found.value) == (kind, value)


def test_what_a_reporter_typed_into_the_accounts_box_is_found_the_same_way():
    for typed in ("abc-123!", "scam_helper8", "123456789"):
        stored = {str(i) for i in extract_field("accounts", typed)}
        assert stored & set(recognise(typed).keys), typed


@pytest.mark.parametrize("typed", ["", "   ", "??", "——"])
def test_nothing_usable_is_none(typed):
    assert recognise(typed) is None


def test_the_risk_level_counts_reporters_only():
    assert [risk_level(n, 3, None) for n in (0, 1, 2, 3, 9, 10, 500)] == [
        NOT_RATED, NOT_RATED, NOT_RATED, MEDIUM, MEDIUM, HIGH, HIGH]
    assert risk_level(50, 3, "upheld") == CLEARED and risk_level(50, 3, "open") == HIGH
    assert risk_level(12, 20, None) == NOT_RATED and risk_level(20, 20, None) == HIGH
