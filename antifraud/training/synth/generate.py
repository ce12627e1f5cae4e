"""Synthetic labelled scam reports in Chinese and English, so the detector works out of the box.

Phrasings come from zh.yaml / en.yaml: each report picks one option per part, so a type has
hundreds of distinct texts. Benign look-alikes (real bank notices, genuine customer service,
anti-fraud warnings that use every scam keyword) share the same citizen framing as scams, so the
frame says nothing about the label. Identifiers come from scam campaigns that recur over time and
regions, which is what the reputation features learn from.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from tierwatch.antifraud.training.datasets import Example
from tierwatch.antifraud.training.synth.noise import add_noise
from tierwatch.antifraud.vocab import PROVINCES

HERE = Path(__file__).resolve().parent
SOURCE = "synthetic"

CHANNELS = {
    "impersonate_authority": ["phone"] * 5 + ["sms", "video_call", "messaging_app"],
    "loan_credit": ["sms", "phone", "website", "messaging_app"],
    "fake_customer_service": ["phone"] * 3 + ["sms", "messaging_app"],
    "impersonate_acquaintance": ["messaging_app"] * 3 + ["video_call", "phone"],
    "task_rebate": ["messaging_app", "social_media", "website"],
    "romance": ["social_media", "messaging_app", "website"],
    "investment": ["messaging_app", "website", "social_media"],
    "gaming": ["website", "messaging_app", "other"],
    "phishing": ["sms"] * 3 + ["website", "other"],
    "other": ["phone", "sms", "messaging_app", "website", "other"],
}
TECHNIQUES: dict[str, dict[str, float]] = {
    "impersonate_authority": {"none": 6, "cloned_voice": 1, "face_swap_video": 1, "generated_media": 2},
    "loan_credit": {"none": 8, "generated_media": 1, "chatbot": 1},
    "fake_customer_service": {"none": 7, "chatbot": 2, "cloned_voice": 1},
    "impersonate_acquaintance": {"none": 4, "cloned_voice": 3.5, "face_swap_video": 2.5},
    "task_rebate": {"none": 7, "chatbot": 3},
    "romance": {"none": 4, "chatbot": 2.5, "face_swap_video": 2, "generated_media": 1.5},
    "investment": {"none": 5, "chatbot": 2, "face_swap_video": 1.5, "generated_media": 1.5},
    "gaming": {"none": 9, "chatbot": 1},
    "phishing": {"none": 8.5, "generated_media": 1.5},
    "other": {"none": 8, "generated_media": 1, "cloned_voice": 1},
}
BENIGN_CHANNELS = ["sms", "sms", "phone", "messaging_app", "website", "other"]
HOTLINES = ["95588", "95533", "95599", "95566", "95555", "95559", "95511", "10086", "12345", "95338"]
OFFICIAL_DOMAINS = ["icbc.com.cn", "ccb.com", "abchina.com", "jd.com", "taobao.com", "12123.gov.cn"]


@lru_cache(maxsize=2)
def templates(lang: str) -> dict:
    with open(HERE / f"{lang}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def generate_reports(
    n: int,
    seed: int = 0,
    *,
    scam_share: float = 0.6,
    en_share: float = 0.25,
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
    days: int = 240,
) -> list[Example]:
    """n labelled reports, in chronological order, deterministic for a seed."""
    rng = random.Random(seed)  # nosec B311 # synthetic training texts, reproducible by seed; not security
    campaigns = _campaigns(rng)
    out = []
    for _ in range(n):
        lang = "en" if rng.random() < en_share else "zh"
        when = start + timedelta(seconds=rng.uniform(0, days * 86400))
        if rng.random() < scam_share:
            out.append(_scam(rng, lang, when, campaigns))
        else:
            out.append(_benign(rng, lang, when))
    out.sort(key=lambda e: e.report["reported_at"])
    return out


def _scam(rng: random.Random, lang: str, when: datetime, campaigns: dict) -> Example:
    kind = rng.choice(list(CHANNELS))
    tpl = templates(lang)
    technique = _weighted(rng, TECHNIQUES[kind])
    campaign = rng.choices(campaigns[kind], weights=[1 / (i + 1) for i in range(len(campaigns[kind]))])[0]
    slots = _slots(rng, lang, campaign)
    forms = tpl["scams"][kind]
    form = "story" if rng.random() < 0.55 else "message"
    body = _compose(rng, forms[form], slots)
    cue = _fill(rng.choice(tpl["technique_cues"][technique]), slots) if technique != "none" else ""
    text = _frame(rng, lang, tpl, body, form, cue)
    # citizens often leave fields empty: neither a missing amount nor missing identifiers may
    # say "benign" on their own
    roll = rng.random()
    amount = float(slots["amount"]) if roll < 0.5 else (None if roll < 0.85 else 0.0)
    identifiers = _pick_identifiers(rng, campaign) if rng.random() < 0.75 else {}
    report = _fields(
        rng, text, when, rng.choice(CHANNELS[kind]), amount, _suspected(rng, technique), identifiers
    )
    return Example(report, 1, kind, technique, SOURCE, f"scam:{kind}", {"lang": lang, "form": form})


def _benign(rng: random.Random, lang: str, when: datetime) -> Example:
    tpl = templates(lang)
    family = rng.choice(list(tpl["benign"]))
    forms = tpl["benign"][family]
    form = rng.choice(list(forms))
    slots = _slots(rng, lang, None)
    body = _compose(rng, forms[form], slots)
    text = _frame(rng, lang, tpl, body, form, "")
    identifiers: dict[str, list[str]] = {}
    roll = rng.random()
    if roll < 0.45:
        identifiers["phone"] = [rng.choice(HOTLINES)]
    elif roll < 0.6:
        identifiers["domain"] = [rng.choice(OFFICIAL_DOMAINS)]
    elif roll < 0.75:
        identifiers["phone"] = [slots["phone"]]
    roll = rng.random()
    amount = None if roll < 0.7 else (0.0 if roll < 0.95 else float(rng.randint(10, 2000)))
    suspected = None if rng.random() < 0.85 else rng.choice(["none", "chatbot", "generated_media"])
    report = _fields(rng, text, when, rng.choice(BENIGN_CHANNELS), amount, suspected, identifiers)
    return Example(report, 0, None, "none", SOURCE, f"benign:{family}", {"lang": lang, "form": form})


def _frame(rng: random.Random, lang: str, tpl: dict, body: str, form: str, cue: str) -> str:
    before = rng.choice(tpl["frame"]["before"])
    after = rng.choice(tpl["frame"]["after"])
    if form == "message":
        if rng.random() < 0.35:  # forwarded as is, the way a partner feed sends it
            return add_noise(rng, body + (" " + cue if cue else ""), lang)
        quote = ("我收到这条信息：“{}”" if lang == "zh" else 'I received this message: "{}"').format(body)
        body = quote
    return add_noise(rng, before + body + cue + after, lang)


def _compose(rng: random.Random, parts: list[list[str]], slots: dict) -> str:
    return "".join(_fill(rng.choice(options), slots) for options in parts).strip()


def _fill(text: str, slots: dict) -> str:
    try:
        return text.format(**slots)
    except (KeyError, IndexError):
        return text


def _slots(rng: random.Random, lang: str, campaign: dict | None) -> dict:
    pools = templates(lang)["slots"]
    slots = {key: rng.choice(values) for key, values in pools.items()}
    amount = int(10 ** rng.uniform(2.3, 5.7))
    slots.update(
        amount=amount,
        fee=rng.choice([99, 199, 200, 500, 680, 1000, 2000, 3000, 5000]),
        phone=_mobile(rng),
        hotline=rng.choice(HOTLINES),
        url="https://" + _word(rng, 5) + rng.choice([".top", ".xyz", ".cc", ".vip", "-cn.com"]) + "/" + _word(rng, 4),
        account=str(rng.randint(6_200_000_000_000_000, 6_299_999_999_999_999)),
        wechat="wx" + _word(rng, 6) + str(rng.randint(10, 99)),
        qq=str(rng.randint(10_000_000, 3_999_999_999)),
        code=str(rng.randint(100_000, 999_999)),
        card4=str(rng.randint(1000, 9999)),
        num=rng.randint(1, 300),
        city=rng.choice(PROVINCES[:31]) if lang == "zh" else rng.choice(["Beijing", "Shanghai", "Guangzhou", "Shenzhen"]),
        name=rng.choice(["张伟", "王芳", "李强", "刘洋"]) if lang == "zh" else rng.choice(["Mr Li", "Anna", "David"]),
        date=_date(rng, lang),
    )
    if campaign:
        for kind, slot in (("phone", "phone"), ("url", "url"), ("account", "wechat"), ("payment_account", "account")):
            if campaign[kind]:
                slots[slot] = campaign[kind][0]
    return slots


def _campaigns(rng: random.Random) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for kind in CHANNELS:
        out[kind] = []
        for _ in range(30):
            out[kind].append(
                {
                    "phone": [_mobile(rng) for _ in range(rng.randint(1, 3))],
                    "url": ["https://" + _word(rng, 6) + ".top/" + _word(rng, 3)] if rng.random() < 0.5 else [],
                    "account": ["wx" + _word(rng, 7)] if rng.random() < 0.5 else [],
                    "payment_account": [str(rng.randint(10**15, 10**16 - 1))] if rng.random() < 0.4 else [],
                    "app": [_word(rng, 6) + ".apk"] if rng.random() < 0.2 else [],
                }
            )
    return out


def _pick_identifiers(rng: random.Random, campaign: dict) -> dict[str, list[str]]:
    out = {}
    for kind, values in campaign.items():
        chosen = [v for v in values if rng.random() < 0.6]
        if chosen:
            out[kind] = chosen
    if "url" in out:
        out["domain"] = [u.split("/")[2] for u in out["url"]]
    return out


def _fields(
    rng: random.Random,
    text: str,
    when: datetime,
    channel: str | None,
    amount: float | None,
    suspected: str | None,
    identifiers: dict[str, list[str]],
) -> dict:
    if rng.random() < 0.1:
        channel = None
    return {
        "text": text,
        "channel": channel,
        "amount_lost": amount,
        "ai_technique": suspected,
        "region": rng.choice(PROVINCES) if rng.random() > 0.3 else "广东",
        "reported_at": when.isoformat(),
        "reporter_type": rng.choices(["citizen", "partner_feed", "company", None], [80, 12, 3, 5])[0],
        "identifiers": identifiers,
    }


def _suspected(rng: random.Random, technique: str) -> str | None:
    roll = rng.random()
    if roll < 0.55:
        return technique
    if roll < 0.85:
        return None
    return rng.choice(["cloned_voice", "face_swap_video", "chatbot", "generated_media", "none"])


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _mobile(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + "".join(rng.choice("0123456789") for _ in range(9))


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(n))


def _date(rng: random.Random, lang: str) -> str:
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return f"{month}月{day}日" if lang == "zh" else f"{day}/{month}"
