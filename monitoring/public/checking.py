"""Check a number, link or account: what was typed -> the identifier as the worker stores it ->
what the reports about it say, counted so that no one person can make an identifier look bad.

Recognition uses the worker's own extractor (monitoring.identifiers), so "138-0013-8000",
"+86 138 0013 8000" and "１３８００１３８０００" find the same reports, as do "hxxp://x[.]com" and
"http://x.com/login". What cannot be extracted falls back as the worker's structured fields do:
the folded text as an account.

Counting (the page explains it): reports are counted, and so are *independent reporters* — the
distinct reporter keys (monitoring.reporters: an account, else a contact, else an address).
Nothing is shown below ``minimum`` reporters, and the risk level depends on the number of
reporters only, so one person reporting a hundred times counts once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers

from tierwatch.core.search import SearchIndex, SearchQuery
from tierwatch.core.search.common import IndexNotFound
from tierwatch.monitoring import identifiers as ids
from tierwatch.monitoring.indexing import REPORTS_INDEX

DEFAULT_MINIMUM = 3
HIGH_RISK_REPORTERS = 10  # this many independent reporters or more: high
MAX_COUNTED_REPORTERS = 1000  # "1,000 or more": enough for any level, bounded for the index
_QQ = re.compile(r"^[1-9]\d{4,11}$")
_WECHAT_ID = re.compile(r"^[a-zA-Z][-_a-zA-Z0-9]{5,19}$")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LOOKUP_KINDS = (ids.PHONE, ids.URL, ids.DOMAIN, ids.EMAIL, ids.QQ, ids.WECHAT, ids.TELEGRAM,
                 ids.BANK_CARD, ids.ALIPAY)
NOT_RATED, MEDIUM, HIGH, CLEARED = "not_rated", "medium", "high", "cleared"


@dataclass(frozen=True)
class Recognised:
    kind: str  # identifier kind (monitoring.identifiers.KINDS)
    value: str  # canonical, as the worker stores it
    keys: tuple[str, ...]  # "kind:value" forms the reports may carry it under
    shown: str  # for people: "+86 138 0013 8000", "example.com"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


def recognise(text: str) -> Recognised | None:
    """What the visitor typed, as an identifier; None for empty or unusable input."""
    raw = " ".join(text.split())[:300]
    if not any(c.isalnum() for c in raw):
        return None
    found = [i for i in ids.extract(raw) if i.kind in _LOOKUP_KINDS]
    by_kind: dict[str, list[ids.Identifier]] = {}
    for i in found:
        by_kind.setdefault(i.kind, []).append(i)
    for kind in (ids.BANK_CARD, ids.QQ, ids.WECHAT, ids.ALIPAY, ids.TELEGRAM, ids.PHONE, ids.EMAIL):
        if kind in by_kind:
            return _identifier(by_kind[kind][0])
    if ids.DOMAIN in by_kind or ids.URL in by_kind:
        return _site(by_kind.get(ids.URL, []), by_kind.get(ids.DOMAIN, []))
    folded = re.sub(r"\s+", "", ids.clean(raw)).casefold()
    if _QQ.match(folded):
        return Recognised(ids.QQ, folded, (f"qq:{folded}", f"account:{folded}"), folded)
    if _WECHAT_ID.match(folded):
        return Recognised(ids.WECHAT, folded, (f"wechat:{folded}", f"account:{folded}"), folded)
    if _HAN.search(folded):  # Chinese without a number or link in it: an app's name
        name = ids.normalise_app_name(raw)
        return Recognised(ids.APP, name, (f"app:{name}",), name) if name else None
    # As the worker keeps a value typed into the accounts box (identifiers.extract_field).
    return Recognised(ids.ACCOUNT, folded, (f"account:{folded}", f"payment:{folded}"), folded)


def _identifier(found: ids.Identifier) -> Recognised:
    kind, value = found.kind, found.value
    keys = [str(found)]
    shown = value
    if kind == ids.PHONE:
        shown = show_phone(value)
        if value.startswith("+861"):  # a mobile number doubles as an Alipay or WeChat account
            keys += [f"{ids.ALIPAY}:{value}", f"{ids.WECHAT}:{value[3:]}"]
    elif kind == ids.ALIPAY and value.startswith("+"):
        keys.append(f"{ids.PHONE}:{value}")
        shown = show_phone(value)
    elif kind == ids.EMAIL:
        keys.append(f"{ids.ALIPAY}:{value}")
    elif kind == ids.BANK_CARD:
        shown = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return Recognised(kind, value, tuple(keys), shown)


def _site(urls: list[ids.Identifier], domains: list[ids.Identifier]) -> Recognised:
    # A site is counted by the domain its owner registered: a scam moves between paths and
    # hosts of one domain. A shared service's domain (qq.com) says nothing: its URL only.
    if domains and domains[0].value not in ids.COMMON_DOMAINS:
        domain = domains[0].value
        return Recognised(ids.DOMAIN, domain, (f"domain:{domain}",), domain)
    url = urls[0].value if urls else f"http://{domains[0].value}"
    return Recognised(ids.URL, url, (f"url:{url}",), url)


def show_phone(value: str) -> str:
    if not value.startswith("+"):  # a service or short number (95588, 4008…): as it is dialled
        return value
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@dataclass(frozen=True)
class Facts:
    """What the index knows about an identifier, before the minimum is applied."""

    reports: int
    reporters: int  # distinct reporter keys, at most MAX_COUNTED_REPORTERS
    first_reported: datetime | None = None
    last_reported: datetime | None = None
    scam_types: list[tuple[str, int]] = field(default_factory=list)
    channels: list[tuple[str, int]] = field(default_factory=list)
    ai_techniques: list[tuple[str, int]] = field(default_factory=list)
    application_ids: list[int] = field(default_factory=list)


def facts(search: SearchIndex, recognised: Recognised) -> Facts:
    query = SearchQuery(filters={"identifiers": list(recognised.keys), "kind": "scam"}, limit=1)
    try:
        reporters = search.terms(REPORTS_INDEX, "reporter_key", query, size=MAX_COUNTED_REPORTERS)
        first = search.search(REPORTS_INDEX, _sorted(query, "reported_at"))
    except IndexNotFound:  # nothing was ever reported: the worker creates the index
        return Facts(0, 0)
    if first.total == 0:
        return Facts(0, 0)
    last = search.search(REPORTS_INDEX, _sorted(query, "-reported_at"))
    apps = search.terms(REPORTS_INDEX, "application_id", query, size=3)
    return Facts(
        reports=first.total,
        reporters=len(reporters),
        first_reported=_when(first.hits[0].get("reported_at")),
        last_reported=_when(last.hits[0].get("reported_at")) if last.hits else None,
        scam_types=search.terms(REPORTS_INDEX, "scam_type", query, size=3),
        channels=search.terms(REPORTS_INDEX, "channel", query, size=3),
        ai_techniques=[t for t in search.terms(REPORTS_INDEX, "ai_technique", query, size=4) if t[0] != "none"],
        application_ids=[int(a) for a, _ in apps if a.isdigit()],
    )


def _sorted(query: SearchQuery, sort: str) -> SearchQuery:
    return SearchQuery(filters=query.filters, sort=sort, limit=1)


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def risk_level(reporters: int, minimum: int, dispute_status: str | None) -> str:
    """From the number of independent reporters alone (one person counts once, however many
    reports they send), unless a regulator upheld a dispute."""
    if dispute_status == "upheld":
        return CLEARED
    if reporters < minimum:
        return NOT_RATED
    return HIGH if reporters >= max(HIGH_RISK_REPORTERS, minimum) else MEDIUM
