"""Synthetic scam reports for replays, demos and the pipeline benchmark.

Texts follow the four classic telecom-fraud scripts plus AI-enabled variants; identifiers are drawn
from pools, so the same phone numbers and sites recur across reports (campaigns form) the way they
do in real feeds. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from stdnum import luhn

_SCRIPTS = [
    ("phone", None, "自称{city}公安局民警，说我的身份证涉嫌洗钱案，要求把存款转到安全账户{card}，并加QQ {qq}配合调查。"),
    ("sms", None, "收到短信称我的ETC已失效，点击 {url} 重新认证，填写银行卡和验证码后被扣款{amount}元。"),
    ("messaging_app", None, "网上认识的“导师”拉我进群炒虚拟币，下载《{app}》APP充值，前期有收益后来无法提现，微信号{wechat}。"),
    ("phone", None, "冒充京东客服来电{phone}，说我开通了百万保障要注销否则影响征信，引导下载会议软件共享屏幕。"),
    ("video_call", "face_swap_video", "对方用我领导的脸视频通话，说急用钱走账，让我转账到{card}，事后发现是AI换脸。"),
    ("phone", "cloned_voice", "接到“儿子”电话{phone}，声音一模一样，说出车祸急需{amount}元，后来确认是AI合成声音。"),
    ("social_media", "chatbot", "网店客服机器人诱导我参与刷单返利，先垫付{amount}元，佣金一直不到账，网址{url}。"),
    ("website", "generated_media", "贷款网站{url}发来伪造的合同和盖章文件，要求先交保证金{amount}元才能放款，客服电话{phone}。"),
]
_CITIES = ["广州", "深圳", "东莞", "佛山", "珠海", "汕头", "惠州", "中山"]
_REGIONS = ["广东", "广西", "湖南", "福建", "江西", "海南"]
_APPS = ["币安达", "快贷宝", "安心贷", "云聚财", "鑫汇通"]
_TLDS = ["com", "top", "vip", "cn", "xyz"]


def _card(rng: random.Random) -> str:
    digits = "6222" + "".join(rng.choice("0123456789") for _ in range(14))
    return digits + luhn.calc_check_digit(digits)


def synthetic_reports(
    n: int, *, seed: int = 0, pool: int = 2000, start: datetime | None = None, prefix: str = "syn"
) -> Iterator[dict[str, Any]]:
    """``n`` scam reports as JSON-ready dicts; report ids are ``{prefix}-{seed}-{i}``."""
    rng = random.Random(seed)  # nosec B311 # synthetic reports, reproducible by seed; not security
    phones = [f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" for _ in range(pool)]
    cards = [_card(rng) for _ in range(max(1, pool // 4))]
    domains = [f"{rng.choice(['etc', 'pay', 'loan', 'jd', 'bank'])}{rng.randrange(10**4)}.{rng.choice(_TLDS)}"
               for _ in range(max(1, pool // 10))]
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        channel, technique, script = _SCRIPTS[rng.randrange(len(_SCRIPTS))]
        amount = rng.choice([0, 500, 2000, 8800, 30000, 150000])
        text = script.format(
            city=rng.choice(_CITIES), card=rng.choice(cards), qq=rng.randrange(10**7, 10**10),
            url=f"http://{rng.choice(domains)}/{rng.choice(['auth', 'pay', 'etc'])}",
            amount=amount, app=rng.choice(_APPS), wechat=f"kefu_{rng.randrange(10**5):05d}",
            phone=rng.choice(phones),
        )
        report: dict[str, Any] = {
            "schema_version": 1,
            "report_id": f"{prefix}-{seed}-{i:08d}",
            "kind": "scam",
            "description": text,
            "channel": channel,
            "region": rng.choice(_REGIONS),
            "reported_at": (start + timedelta(seconds=i)).isoformat(),
            "occurred_at": (start + timedelta(seconds=i) - timedelta(hours=rng.randrange(1, 72))).isoformat(),
            "reporter_type": rng.choice(["citizen", "partner_feed"]),
        }
        if amount:
            report["amount_lost"] = float(amount)
        if technique:
            report["ai_technique"] = technique
        if rng.random() < 0.3:
            report["identifiers"] = {"phones": [rng.choice(phones)]}
        if rng.random() < 0.2:
            report["reporter_contact"] = {"phone": f"139{rng.randrange(10**8):08d}"}
        yield report
