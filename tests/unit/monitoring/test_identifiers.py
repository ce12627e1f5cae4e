"""Identifier extraction on formats seen in real reports and SMS."""

from __future__ import annotations

import pytest
from stdnum.cn.ric import is_valid as is_cn_id_number
from stdnum.luhn import is_valid as luhn_ok

from tierwatch.monitoring.identifiers import (
    extract,
    extract_field,
    normalise_app_name,
    normalise_phone,
    registered_domain,
)


def found(text: str) -> set[str]:
    return {str(i) for i in extract(text)}


@pytest.mark.parametrize(
    "text",
    [
        "请拨打13800138000联系",
        "电话：138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "0086 13800138000",
        "0086-138-0013-8000",
        "86 13800138000",
        "8613800138000",
        "１３８００１３８０００",  # full-width digits
        "＋８６　１３８　００１３　８０００",
        "客服电话(+86)13800138000",
    ],
)
def test_chinese_mobile_in_every_common_format(text):
    assert "phone:+8613800138000" in found(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("报案电话020-83123456", "phone:+862083123456"),
        ("(0755)8888 6666", "phone:+8675588886666"),
        ("0755-88886666转总机", "phone:+8675588886666"),
        ("+86 10 6552 9988", "phone:+861065529988"),
        ("010 65529988", "phone:+861065529988"),
        ("客服热线400-820-8820", "phone:4008208820"),
        ("400 123 4567", "phone:4001234567"),
        ("800-810-8888", "phone:8008108888"),
        ("冒充工商银行95588发短信", "phone:95588"),
        ("自称12306客服", "phone:12306"),
        ("10086提醒您", "phone:10086"),
    ],
)
def test_landlines_and_service_numbers(text, expected):
    assert expected in found(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("对方用+852 9123 4567联系我", "phone:+85291234567"),
        ("来电显示+63 917 123 4567", "phone:+639171234567"),
        ("号码00855 12 345 678", "phone:+85512345678"),
        ("+1 (650) 253-0000", None),  # parentheses inside international numbers: not matched
    ],
)
def test_international_numbers_become_e164(text, expected):
    if expected:
        assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "损失95000元",
        "2024年3月",
        "订单号 20240312123456789012",
        "验证码 123456",
        "v1.2.3 版本",
        "价格 12999.00",
    ],
)
def test_numbers_that_are_not_phones(text):
    assert not any(i.startswith("phone:") for i in found(text))


@pytest.mark.parametrize(
    ("text", "url", "domain"),
    [
        ("点击 https://www.Example-Bank.top/login?id=1 领取", "url:https://www.example-bank.top/login?id=1", "domain:example-bank.top"),
        ("网址 hxxp://evil[.]com/pay，请尽快", "url:http://evil.com/pay", "domain:evil.com"),
        ("hxxps://secure-icbc(.)cn/verify", "url:https://secure-icbc.cn/verify", "domain:secure-icbc.cn"),
        ("登录 gd-etc。vip/refund 办理退款", "url:http://gd-etc.vip/refund", "domain:gd-etc.vip"),
        ("ｗｗｗ．ｆａｋｅｂａｎｋ．ｃｏｍ", None, "domain:fakebank.com"),
        ("打开www.abc-loan.com.cn。", None, "domain:abc-loan.com.cn"),
        ("http://1.2.3.4:8080/x", "url:http://1.2.3.4:8080/x", None),
        ("访问 t.cn/A6xYz 查看", "url:http://t.cn/A6xYz", "domain:t.cn"),
    ],
)
def test_urls_and_domains(text, url, domain):
    result = found(text)
    if url:
        assert url in result
    if domain:
        assert domain in result


@pytest.mark.parametrize("text", ["版本v1.2", "文件 report.pdf", "小数 3.14", "a.b"])
def test_dotted_words_are_not_domains(text):
    assert not any(i.startswith(("domain:", "url:")) for i in found(text))


def test_email_is_not_also_a_domain_of_a_url():
    assert found("发邮件到 Kefu@Evil-Pay.com 确认") == {"email:kefu@evil-pay.com"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("加QQ:123456789", "qq:123456789"),
        ("QQ号 2938475610 联系", "qq:2938475610"),
        ("扣扣 88889999", "qq:88889999"),
        ("微信号：abc_12345", "wechat:abc_12345"),
        ("加vx: Wxid_Abc123", "wechat:wxid_abc123"),
        ("V信 kefu-2024a", "wechat:kefu-2024a"),
        ("薇信13800138000", "wechat:13800138000"),
        ("飞机@scam_helper", "telegram:scam_helper"),
        ("TG: crypto_teacher88", "telegram:crypto_teacher88"),
        ("支付宝账号 139 0000 1111", "alipay:+8613900001111"),
        ("支付宝：Pay.Me@163.com", "alipay:pay.me@163.com"),
    ],
)
def test_labelled_accounts(text, expected):
    assert expected in found(text)


def test_labelled_wechat_id_is_not_read_as_a_short_phone_number():
    assert found("微信号：abc_12345") == {"wechat:abc_12345"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("转到6222 0212 3456 7890 128", "bank_card:6222021234567890128"),
        ("卡号6212262000000000008转账", "bank_card:6212262000000000008"),
        ("4111-1111-1111-1111", "bank_card:4111111111111111"),
    ],
)
def test_bank_cards_with_valid_check_digit(text, expected):
    result = found(text)
    assert expected in result
    assert not any(i.startswith("phone:") for i in result)


def test_card_number_with_wrong_check_digit_is_ignored():
    assert not any(i.startswith("bank_card:") for i in found("卡号6222021234567890127"))


@pytest.mark.parametrize("number", ["440106199001011235", "11010519491231002X"])
def test_resident_id_numbers_are_never_identifiers(number):
    assert is_cn_id_number(number)
    assert found(f"身份证号{number}") == set()


def test_luhn():
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("下载了一个叫安心贷的APP", "app:安心贷"),
        ("让我下载“乐播投屏”APP共享屏幕", "app:乐播投屏"),
        ("下载腾讯会议APP进行沟通", "app:腾讯会议"),
        ("安装《快贷宝》APP", "app:快贷宝"),
        ("用 Zoom app 开会", "app:zoom"),
        ("在《云闪付》平台上操作", "app:云闪付"),
    ],
)
def test_app_names(text, expected):
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "根据《反电信网络诈骗法》规定",
        "听了《平凡之路》这首歌",
        "下载我们的官方APP",
        "登录最新版APP领话费",
    ],
)
def test_book_titles_and_phrases_are_not_apps(text):
    assert not any(i.startswith("app:") for i in found(text))


def test_normalisers():
    assert normalise_phone("０２０－８３１２３４５６") == "+862083123456"
    assert normalise_phone("no number") is None
    assert normalise_app_name(" Ｘ宝 APP ") == "x宝"
    assert registered_domain("a.b.example.com.cn") == "example.com.cn"
    assert registered_domain("WWW.Evil.COM.") == "evil.com"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("a.b.example.com.cn", "example.com.cn"),  # multi-part public suffixes
        ("www.gd.gov.cn", "gd.gov.cn"),
        ("pay.secure-bank.org.hk", "secure-bank.org.hk"),
        ("login.example.co.uk", "example.co.uk"),
        ("a.b.c.example.xn--fiqs8s", "example.xn--fiqs8s"),  # IDN suffix (.中国) in punycode
        ("x.github.io", "x.github.io"),  # private suffixes count: each site has its own owner
        ("scam-shop.blogspot.com", "scam-shop.blogspot.com"),
        ("github.io", "github.io"),  # a host that is itself a suffix keeps its labels
        ("a.b.evil.invalidtld", "evil.invalidtld"),  # an ending the list does not know: last two
    ],
)
def test_registered_domain_follows_the_public_suffix_list(host, expected):
    assert registered_domain(host) == expected


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("ｗｗｗ．ａｂｃ－ｌｏａｎ．ｃｏｍ．ｃｎ", "domain:abc-loan.com.cn"),  # full-width dots and letters
        ("登录 pay。abc-loan。com。cn 办理", "domain:abc-loan.com.cn"),  # ideographic full stops
        ("点击 https://my-prize.github.io/claim 领奖", "domain:my-prize.github.io"),
        ("https://shop.example.xn--fiqs8s/pay", "domain:example.xn--fiqs8s"),
    ],
)
def test_domains_in_text_with_multi_part_and_private_suffixes(text, domain):
    assert domain in found(text)


def test_structured_fields_fall_back_to_the_typed_value():
    assert [str(i) for i in extract_field("accounts", "抖音号 Scam Star")] == ["account:抖音号scamstar"]
    assert [str(i) for i in extract_field("phones", "138 0013 8000")] == ["phone:+8613800138000"]
    assert [str(i) for i in extract_field("app", "快贷宝APP")] == ["app:快贷宝"]
    assert extract_field("urls", "   ") == []


def test_output_is_sorted_and_unique():
    ids = extract("13800138000 又打 138-0013-8000，网址 evil.com 和 evil.com")
    assert [str(i) for i in ids] == ["domain:evil.com", "phone:+8613800138000"]
