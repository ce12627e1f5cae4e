"""Find and normalise the identifiers scammers leave behind: phones, URLs, accounts, cards, apps.

Pure functions over text. Each identifier comes out in one canonical form so that the same phone
number typed as "138-0013-8000", "+86 138 0013 8000" or "００８６１３８００１３８０００" links the
same reports. Extractors run in order and claim spans, so a card number is not also read as a
phone number.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, NamedTuple

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

PHONE, URL, DOMAIN, EMAIL = "phone", "url", "domain", "email"
QQ, WECHAT, TELEGRAM, ACCOUNT = "qq", "wechat", "telegram", "account"
BANK_CARD, ALIPAY, PAYMENT, APP = "bank_card", "alipay", "payment", "app"
KINDS = (PHONE, URL, DOMAIN, EMAIL, QQ, WECHAT, TELEGRAM, ACCOUNT, BANK_CARD, ALIPAY, PAYMENT, APP)


class Identifier(NamedTuple):
    # A named tuple, not a dataclass: made, hashed and sorted in C (thousands per batch), with
    # the same (kind, value) order.
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


# --- text clean-up -----------------------------------------------------------------------------

_DEFANG = [
    (re.compile(r"h[x*]{2}p(s?)(?=[:：])", re.I), r"http\1"),
    (re.compile(r"\s*[\[(（【]\s*(?:\.|dot|点)\s*[\])）】]\s*", re.I), "."),
    (re.compile(r"(?<=[A-Za-z0-9])[。｡](?=[A-Za-z0-9])"), "."),
]


# Characters each _DEFANG pattern cannot match without (checking for them is ~20x cheaper than a
# pattern scan that finds nothing, the usual case): one character-class scan each.
_DEFANG_NEEDS = (re.compile("[xX*]"), re.compile(r"[\[(（【]"), re.compile("[。｡]"))


def clean(text: str) -> str:
    """Full-width to half-width (NFKC), undo defanged URLs (hxxp, [.], 。 between letters)."""
    if not unicodedata.is_normalized("NFKC", text):  # a quick check; most text already is
        text = unicodedata.normalize("NFKC", text)
    for (pattern, repl), needs in zip(_DEFANG, _DEFANG_NEEDS):
        if needs.search(text):
            text = pattern.sub(repl, text)
    return text


class _Spans:
    """Character ranges already claimed by an earlier extractor."""

    def __init__(self) -> None:
        self._taken: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self._taken)

    def take(self, start: int, end: int) -> None:
        self._taken.append((start, end))


def _scan_from(anchor: re.Pattern[str], text: str, lead: int) -> int:
    """Where a pattern's scan may start, or -1 when it cannot match at all.

    ``anchor`` is a part every match contains at most ``lead`` characters after the match's
    start, and it begins with a literal or a character class, which ``re`` finds with a quick
    scan, unlike the full patterns, whose leading look-behind makes ``re`` try every position.
    The look-behinds still see the text before the start given to ``finditer``.
    """
    m = anchor.search(text)
    return -1 if m is None else max(0, m.start() - lead)


# --- URLs, domains, e-mail ---------------------------------------------------------------------

# Without a scheme, only these endings count as a domain (else "v1.2" or "a.b" would).
_TLDS = (
    "com|cn|net|org|top|xyz|vip|cc|info|io|app|shop|site|online|club|me|co|tk|ml|ga|cf|gq|hk|tw|"
    "mo|ru|link|live|pro|biz|asia|wang|ltd|icu|fun|store|tech|work|ink|red|love|life|world|today|"
    "win|bid|loan|xin|cyou|buzz|sbs|bond|im|ai|tv|us|uk|jp|kr|sg|my|ph|th|vn|kh|mm|la|in|de|fr|eu"
)
# xn-- first: "[a-z]{2,24}" would stop a punycode ending (.xn--fiqs8s, .中国) at "xn"
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:xn--[a-z0-9-]{2,30}|[a-z]{2,24})"
_IP = r"(?:\d{1,3}\.){3}\d{1,3}"
_PATH = r"(?:[/?#][^\s\"'<>，。！？、；：“”‘’（）【】《》\u4e00-\u9fff]*)?"
_URL_RE = re.compile(
    rf"(?<![A-Za-z0-9_@.-])(?:(?P<scheme>https?)://(?P<host>{_HOST}|{_IP})|(?P<bare>(?:www\.)?{_HOST}))"
    rf"(?P<port>:\d{{2,5}})?(?P<path>{_PATH})",
    re.I,
)
_TLD_RE = re.compile(rf"\.(?:{_TLDS})$", re.I)
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@(?:[a-z0-9-]+\.)+[a-z]{2,24}(?![\w-])", re.I | re.A)
# Real services whose domain in a report says nothing about the scam.
COMMON_DOMAINS = frozenset(
    {"qq.com", "weixin.qq.com", "baidu.com", "taobao.com", "alipay.com", "gov.cn", "12321.cn"}
)


@functools.cache
def _public_suffixes() -> Any:
    """The Public Suffix List snapshot bundled with tldextract: never fetched at run time (no
    suffix list URLs) and never cached on disk (nothing to refresh, nowhere to write)."""
    import tldextract  # imported on first use: it brings requests along, which nothing else needs

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)


@functools.lru_cache(maxsize=8192)  # a campaign repeats its hosts
def registered_domain(host: str) -> str:
    """The name a host's owner registered, by the Public Suffix List: a.b.example.com.cn ->
    example.com.cn, shop.example.xn--fiqs8s (.中国) -> example.xn--fiqs8s.

    Private suffixes count as suffixes: x.github.io -> x.github.io, not github.io. Each site under
    a hosting suffix belongs to someone else; grouping them under the host's name would join
    unrelated scams into one campaign. A host that is itself a suffix, or whose ending the list
    does not know, keeps its last two labels."""
    host = host.lower().strip(".")
    return _public_suffixes()(host).top_domain_under_public_suffix or ".".join(host.split(".")[-2:])


def normalise_url(scheme: str | None, host: str, port: str | None, path: str) -> str:
    host = host.lower().rstrip(".")
    scheme = (scheme or "http").lower()
    if port in (":80", ":443"):
        port = None
    path = path.rstrip(".,;:!?)]}'\"")
    if path == "/":
        path = ""
    return f"{scheme}://{host}{port or ''}{path}"


def _urls(text: str, spans: _Spans) -> Iterable[Identifier]:
    # An address needs an "@" and every host a "."; most reports have neither.
    for m in _EMAIL_RE.finditer(text) if "@" in text else ():
        spans.take(m.start(), m.end())
        yield Identifier(EMAIL, m.group(0).lower())
    for m in _URL_RE.finditer(text) if "." in text else ():
        if not spans.free(m.start(), m.end()):
            continue
        host = m.group("host") or m.group("bare")
        if m.group("bare") and not _TLD_RE.search(host):
            continue
        spans.take(m.start(), m.end())
        path = m.group("path") or ""
        if m.group("scheme") or path.strip("/") or m.group("port"):
            yield Identifier(URL, normalise_url(m.group("scheme"), host, m.group("port"), path))
        if not re.fullmatch(_IP, host):
            yield Identifier(DOMAIN, registered_domain(host))


# --- bank cards and Chinese ID numbers ---------------------------------------------------------

_CARD_RE = re.compile(r"(?<![\d.])(?:\d{4}[ -]?){3}\d{4}(?:[ -]?\d{1,3})?[Xx]?(?![0-9A-Za-z_.])")
_CARD_ANCHOR = re.compile(r"\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}")  # where every card match starts
def _cards(text: str, spans: _Spans) -> Iterable[Identifier]:
    start = _scan_from(_CARD_ANCHOR, text, 0)
    for m in _CARD_RE.finditer(text, start) if start >= 0 else ():
        digits = re.sub(r"[^\dXx]", "", m.group(0))
        if not 16 <= len(digits) <= 19 or not spans.free(m.start(), m.end()):
            continue
        # A resident ID number (GB 11643) is a person, not an account: never stored, and kept
        # away from the phone extractor too.
        if ric.is_valid(digits):
            spans.take(m.start(), m.end())
            continue
        if digits.isdigit() and luhn.is_valid(digits) and digits[0] in "3456":
            spans.take(m.start(), m.end())
            yield Identifier(BANK_CARD, digits)


# --- phone numbers -----------------------------------------------------------------------------

_SEP = r"[ \-]?"
_CN_PREFIX_REQ = r"(?:(?:\+|00)[ ]?86[ \-]?|86(?:[ \-]|(?=1[3-9]\d{9}(?!\d))))"
_CN_PREFIX = rf"(?:{_CN_PREFIX_REQ})?"
_MOBILE_RE = re.compile(rf"(?<![\d+])({_CN_PREFIX})(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?!\d)")
_LANDLINE_RE = re.compile(
    rf"(?<![\d+])(?:{_CN_PREFIX_REQ}\(?0?|\(?0)(10|2\d|[3-9]\d{{2}})\)?{_SEP}([2-9]\d{{2,3}}){_SEP}(\d{{4}})(?!\d)"
)
_SERVICE_RE = re.compile(rf"(?<![\d+])([48]00){_SEP}(\d{{3}}){_SEP}(\d{{4}})(?!\d)")
_SHORT_RE = re.compile(r"(?<![A-Za-z0-9_.¥$])(9[56]\d{3}|100\d{2}|12[0-9]{3})(?![\d.]|\s*(?:元|块|万|年|个|人|次|%))")
_INTL_RE = re.compile(r"(?<![\d+])(?:\+|00)(?!86)[1-9][\d \-]{6,16}\d(?!\d)")
# Anchors for _scan_from. A mobile match contains its "1[3-9]x xxxx xxxx" at most 6 characters
# ("00 86-") after its start; every other phone match has a digit at most 2 characters ("+ 86",
# "(0") after its start.
_MOBILE_ANCHOR = re.compile(rf"1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")
_DIGIT = re.compile(r"\d")


def _phones(text: str, spans: _Spans) -> Iterable[Identifier]:
    digits = _scan_from(_DIGIT, text, 2)
    if digits < 0:
        return
    mobile = _scan_from(_MOBILE_ANCHOR, text, 6)
    for m in _MOBILE_RE.finditer(text, mobile) if mobile >= 0 else ():
        if spans.free(m.start(), m.end()):
            spans.take(m.start(), m.end())
            yield Identifier(PHONE, "+86" + "".join(m.groups()[1:]))
    for m in _SERVICE_RE.finditer(text, digits) if "400" in text or "800" in text else ():
        if spans.free(m.start(), m.end()):
            spans.take(m.start(), m.end())
            yield Identifier(PHONE, "".join(m.groups()))
    for m in _LANDLINE_RE.finditer(text, digits):
        if spans.free(m.start(), m.end()):
            spans.take(m.start(), m.end())
            yield Identifier(PHONE, "+86" + "".join(m.groups()))
    for m in _INTL_RE.finditer(text, digits) if "+" in text or "00" in text else ():
        if not spans.free(m.start(), m.end()):
            continue
        raw = "+" + re.sub(r"\D", "", m.group(0)).removeprefix("00")
        try:
            number = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            spans.take(m.start(), m.end())
            yield Identifier(PHONE, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    for m in _SHORT_RE.finditer(text, digits):
        if spans.free(m.start(), m.end()):
            spans.take(m.start(), m.end())
            yield Identifier(PHONE, m.group(1))


def normalise_phone(raw: str) -> str | None:
    """One phone number as typed -> canonical form (+86… / 400… / 95…), or None."""
    found = [i for i in _phones(clean(raw), _Spans()) if i.kind == PHONE]
    return found[0].value if found else None


# --- labelled accounts -------------------------------------------------------------------------

_LABEL_SEP = r"\s*(?:号码|号|账号|帐号|账户|id|ID)?\s*[:=]?\s*"
_ACCOUNT_RES = [
    (QQ, re.compile(rf"(?:QQ|qq|扣扣|企鹅){_LABEL_SEP}([1-9]\d{{4,11}})(?!\d)")),
    (
        WECHAT,
        re.compile(
            rf"(?:微信|weixin|wechat|WeChat|VX|vx|Vx|V信|v信|威信|薇信|wx|WX){_LABEL_SEP}"
            r"([a-zA-Z][-_a-zA-Z0-9]{5,19}|1[3-9]\d{9})(?![-_a-zA-Z0-9])"
        ),
    ),
    (
        TELEGRAM,
        re.compile(
            rf"(?:telegram|Telegram|TG|tg|飞机|纸飞机){_LABEL_SEP}@?([a-zA-Z][_a-zA-Z0-9]{{4,31}})(?![_a-zA-Z0-9])"
        ),
    ),
    (
        ALIPAY,
        re.compile(
            rf"(?:支付宝|alipay|Alipay){_LABEL_SEP}"
            r"((?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
        ),
    ),
]


def _accounts(text: str, spans: _Spans) -> Iterable[Identifier]:
    for kind, pattern in _ACCOUNT_RES:
        for m in pattern.finditer(text):
            value = m.group(1)
            if kind == ALIPAY:
                value = normalise_phone(value) or value.lower()
            elif kind in (WECHAT, TELEGRAM):
                value = value.lower()
            # The label's number may also be a phone: claim nothing so phones still see it.
            if kind == QQ or (kind == WECHAT and not value[0].isdigit()):
                spans.take(m.start(1), m.end(1))
            yield Identifier(kind, value)


# --- app names ---------------------------------------------------------------------------------

_BOOK_RE = re.compile(r"《([^《》\n]{1,30})》")
_NOT_APP = re.compile(r"(?:法|条例|规定|办法|通知|意见|决定|公告|细则|标准|报告|日报|晚报|新闻|纲要|守则)$")
# 《…》 also quotes books, songs and laws: count it as an app only with app words nearby.
_APP_CONTEXT_AFTER = re.compile(r"^.{0,4}(?:APP|App|app|软件|客户端|平台|小程序)")
_APP_CONTEXT_BEFORE = re.compile(r"(?:下载|安装|登录|登陆|注册|打开|APP|App|app|软件|平台|小程序).{0,4}$")
_APP_RES = [
    re.compile(r"[“\"「『]([^”\"」』\n]{2,20})[”\"」』]\s*(?:APP|App|app|软件|客户端|平台)"),
    re.compile(
        r"(?:名为|叫做|名叫|叫|下载|安装|注册|登录|登陆|打开)(?:了)?(?:一个|一款|个)?(?:叫|名为)?"
        r"([\u4e00-\u9fffA-Za-z0-9]{2,12}?)(?:的)?\s*(?:APP|App|app)"
    ),
    re.compile(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9]{1,20})\s*(?:APP|App|app)(?![A-Za-z])"),
]
# Words that show the regex caught a phrase ("下载好官方的APP"), not a name.
_NOT_NAME = re.compile(
    r"^[好并完后了和及与一个这那该此]|[和及与的个]$|我们|你们|他们|官方|最新|相关|手机|正规|指定"
    r"|^(?:url|http|www|pro|客服|安装|贷款|会议|视频|聊天|手机)$"
)


def normalise_app_name(name: str) -> str:
    """Case, width and spacing folded; a trailing 'APP' dropped: 'Ｘ 宝 APP' -> 'x宝'."""
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()
    name = re.sub(r"(?:app|软件|客户端)$", "", name)
    name = re.sub(r"^(?:安装|下载|登录|登陆|注册|打开|使用|用|做)", "", name)
    return name.strip("\"'“”「」《》")


def _apps(text: str) -> Iterable[Identifier]:
    for m in _BOOK_RE.finditer(text) if "《" in text else ():
        if _NOT_APP.search(m.group(1)):
            continue
        if _APP_CONTEXT_AFTER.search(text[m.end() : m.end() + 10]) or _APP_CONTEXT_BEFORE.search(
            text[max(0, m.start() - 10) : m.start()]
        ):
            yield Identifier(APP, normalise_app_name(m.group(1)))
    has_app_word = "pp" in text or "PP" in text  # the last two patterns need APP, App or app
    for i, pattern in enumerate(_APP_RES):
        if i and not has_app_word:
            break
        for m in pattern.finditer(text):
            name = normalise_app_name(m.group(1))
            if len(name) >= 2 and not _NOT_NAME.search(name):
                yield Identifier(APP, name)


# --- entry points ------------------------------------------------------------------------------


def extract(text: str) -> list[Identifier]:
    """All identifiers in free text, canonical, de-duplicated, in a stable order."""
    text = clean(text)
    spans = _Spans()
    found: list[Identifier] = []
    for step in (_urls, _cards, _accounts, _phones):
        found.extend(step(text, spans))
    found.extend(_apps(text))
    return sorted(set(found))


def extract_field(kind: str, raw: str) -> list[Identifier]:
    """A structured field ('phones', 'urls', 'accounts', 'payment_accounts', 'app') -> identifiers.

    What the extractor finds wins; otherwise the raw value is kept, folded, under a generic kind,
    because a reporter who typed it into that box meant it as an identifier.
    """
    return list(_extract_field(kind, raw))


@functools.lru_cache(maxsize=8192)  # the same numbers and sites recur across a campaign's reports
def _extract_field(kind: str, raw: str) -> tuple[Identifier, ...]:
    return tuple(_extract_field_uncached(kind, raw))


def _extract_field_uncached(kind: str, raw: str) -> list[Identifier]:
    found = extract(raw)
    if kind == "app":
        return [Identifier(APP, normalise_app_name(raw))] if raw.strip() else []
    if found:
        return found
    value = re.sub(r"\s+", "", clean(raw)).casefold()
    if not value:
        return []
    generic = {"phones": PHONE, "urls": DOMAIN, "accounts": ACCOUNT, "payment_accounts": PAYMENT}
    return [Identifier(generic.get(kind, ACCOUNT), value)]
