"""Labelled texts wrapped as the report bodies citizens and partner feeds send (the intake's JSON):
varied channels, times, reporter types, with and without identifiers, a citizen's framing.

Every field is drawn independently of the label: the corpus carries no real channel, time or
reporter, so these bodies measure whether a decision depends on them (it must not). ``wrap``
makes every random draw in the same order whatever is pinned, so two calls with the same seed
and a different pinned channel differ in the channel only (the flip test).
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tierwatch.antifraud.vocab import PROVINCES

CHANNEL_WEIGHTS = {"sms": 35, "phone": 20, "messaging_app": 20, "website": 7, "social_media": 8, "video_call": 4, "other": 6}
REPORTER_WEIGHTS = {"citizen": 70, "partner_feed": 25, "company": 5}
# Two disjoint frame lists: training reports and evaluation reports, so no frame is learned and
# then seen again. Applied to scams and legitimate texts alike.
FRAMES = {
    "train": (
        ["我要举报：", "举报一个诈骗：", "你好，想反映一个情况。", "请帮忙核实一下，", "求助！", "【群众举报】", "各位好，",
         "反映问题：", "我想问一下，", "请问，", "投诉：", "麻烦看看这条，", "我家老人收到的，", "朋友转给我的，", "今天早上"],
        ["请警方核实。", "希望尽快处理。", "请问这是不是诈骗？", "已经报警了。", "怎么办？", "请回复。", "我没有理会。",
         "不知道真假。", "请帮忙鉴定。", "谢谢你们。"],
        ["我收到这条短信：“{}”", "收到一条信息：{}", "今天收到：{}", "转发给你们看看：{}", "原文：{}", "对方说：“{}”"],
    ),
    "eval": (
        ["举报：", "帮忙看一下，", "有人给我发了这个，", "不知道是不是骗子，", "【市民反映】", "麻烦核实，"],
        ["这是真的吗？", "请处理。", "担心被骗。", "谢谢。", "有人知道这是什么吗？", "请查证。"],
        ["刚收到这样一条消息：“{}”", "收到的原文如下：{}", "对方发来：{}", "短信内容：“{}”"],
    ),
}
EN_FRAMES = (["Reporting this: ", "Is this real? ", "Please check: "], [" Is this a scam?", " Please help.", ""])
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_URL = re.compile(r"https?://[\w./?=&%-]+")


def _when(rng: random.Random) -> datetime:
    day = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(690))
    hour_local = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 7, 7, 8, 8, 8, 7, 7, 7, 6, 5, 3, 2])[0]
    return day + timedelta(hours=(hour_local - 8) % 24, minutes=rng.randrange(60), seconds=rng.randrange(60))


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def frame(text: str, rng: random.Random, purpose: str) -> str:
    """A citizen's words around a forwarded message."""
    if text.isascii():
        before, after = EN_FRAMES
        return rng.choice(before) + text + rng.choice(after)
    before, after, quote = FRAMES[purpose]
    body = rng.choice(quote).format(text) if rng.random() < 0.6 else text
    return rng.choice(["", rng.choice(before)]) + body + rng.choice(["", rng.choice(after)])


def _identifiers(text: str, rng: random.Random) -> dict[str, list[str]]:
    """As a reporter fills them: a number or link copied from the message, or one known from
    elsewhere (the call came from a number not in the text)."""
    phones, urls = _MOBILE.findall(text), _URL.findall(text)
    if (phones or urls) and rng.random() < 0.6:
        return {"phones": [rng.choice(phones)]} if phones else {"urls": [rng.choice(urls)]}
    roll = rng.random()
    if roll < 0.6:
        return {"phones": ["1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))]}
    if roll < 0.8:
        return {"accounts": ["wxid_" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(8))]}
    return {"payment_accounts": ["62" + "".join(rng.choice("0123456789") for _ in range(17))]}


def wrap(text: str, rng: random.Random, i: int, purpose: str = "eval", **fixed: Any) -> dict:
    """One report body for ``text``; ``fixed`` (channel=..., reporter_type=...) pins a field."""
    reporter = _pick(rng, REPORTER_WEIGHTS)
    channel = _pick(rng, CHANNEL_WEIGHTS)
    when = _when(rng)
    framed = rng.random() < 0.6
    framed_text = frame(text, rng, purpose)
    source = rng.choice(["12321", "carrier-feed", "bank-feed"])
    identifiers = _identifiers(text, rng) if rng.random() < 0.35 else None
    amount = float(rng.choice([0, 50, 300, 2000, 8800, 30000, 150000])) if rng.random() < 0.2 else None
    roll = rng.random()
    technique = "none" if roll < 0.10 else rng.choice(["cloned_voice", "face_swap_video", "chatbot", "generated_media"]) if roll < 0.15 else None
    region = rng.choice(PROVINCES[:31]) if rng.random() < 0.5 else None
    # a citizen often frames what they forward; a feed forwards the message as it came (decided
    # before pinning, so pinning the reporter type changes that field only)
    description = (framed_text if framed and reporter == "citizen" else text)[:20_000]
    reporter = fixed.get("reporter_type", reporter)
    body: dict[str, Any] = {
        "schema_version": 1,
        "report_id": f"{purpose}-{i:09d}",
        "kind": "scam",
        "description": description,
        "channel": fixed.get("channel", channel),
        "reported_at": when.isoformat(),
        "reporter_type": reporter,
    }
    if reporter == "partner_feed":
        body["source"] = source
    if identifiers:
        body["identifiers"] = identifiers
    if amount is not None:
        body["amount_lost"] = amount
    if technique:
        body["ai_technique"] = technique
    if region:
        body["region"] = region
    return body


def wrap_all(texts: list[str], seed: int, purpose: str = "eval", **fixed: Any) -> list[dict]:
    rng = random.Random(seed)  # nosec B311 # reproducible evaluation data; not security
    return [wrap(t, rng, i, purpose, **fixed) for i, t in enumerate(texts)]
