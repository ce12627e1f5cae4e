"""Scam trends from the index's aggregations, computed at most once per cache period."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

from tierwatch.core.cache import TtlCache
from tierwatch.monitoring.public.trends import compute, week_starts
from tests.unit.web.public_world import run_worker

NOW = datetime.now(UTC)


def send(client, n: int, days_ago: float, **fields) -> None:
    body = {"description": f"第{n}份举报：冒充客服要求转账", "channel": "phone",
            "reported_at": (NOW - timedelta(days=days_ago)).isoformat(), **fields}
    assert client.post("/api/v1/reports/scam", json=body).status_code == 202


def test_weekly_counts_channels_techniques_cities_and_what_is_rising(client, container):
    for n in range(6):
        send(client, n, 1 + n % 3, region="广东省深圳市", ai_techniques=["cloned_voice", "face_swap_video"])
    for n in range(6, 8):
        send(client, n, 40, channel="sms", region="广东省广州市")
    send(client, 8, 20, channel="in_person", region="湖南")
    send(client, 9, 200)  # older than 12 weeks: not counted
    run_worker(container)
    t = compute(container.search, NOW)
    assert t.total == 9 and len(t.weeks) == 12 and t.weeks == week_starts(NOW, "Asia/Shanghai")
    assert sum(sum(v) for v in t.per_week_by_type.values()) == 9  # every report has a type
    assert dict(t.by_channel) == {"phone": 6, "sms": 2, "in_person": 1}
    assert dict(t.by_technique) == {"cloned_voice": 6, "face_swap_video": 6}
    assert t.by_city == [("shenzhen", 6), ("guangzhou", 2), ("other", 1)]
    assert [r.scam_type for r in t.rising] != []  # the last 30 days hold 7 of the 9


def test_the_page_costs_one_round_of_aggregations_per_period(app, client, container, monkeypatch):
    send(client, 1, 2, region="广东省佛山市", ai_technique="chatbot")
    run_worker(container)
    calls = []
    real = container.search.terms

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(container.search, "terms", counted)
    client.set_cookie("tw_lang", "en")
    pages = [client.get("/trends") for _ in range(5)]
    assert all(p.status_code == 200 for p in pages)
    per_round = len(calls)
    assert per_round > 0
    zh = client.get("/trends", headers={"Cookie": "tw_lang=zh_CN"})
    assert zh.status_code == 200 and len(calls) == per_round  # another language, the same figures
    page = pages[0].get_data(as_text=True)
    assert "Foshan" in page and "chatbot" in page and "<table" in page and 'src="data:image/svg+xml' in page
    assert re.search(r"computed at most once every 60 seconds", page)


def test_the_cache_recomputes_after_its_period_and_only_once_under_load():
    now = [0.0]
    cache: TtlCache[int] = TtlCache(60, clock=lambda: now[0])
    computed = []

    def slow() -> int:
        computed.append(1)
        threading.Event().wait(0.05)
        return len(computed)

    threads = [threading.Thread(target=cache.get, args=("k", slow)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert computed == [1] and cache.get("k", slow) == 1
    now[0] = 59.9
    assert cache.get("k", slow) == 1
    now[0] = 60.0
    assert cache.get("k", slow) == 2 and cache.computed == 2


def test_an_empty_index_is_an_empty_page(client):
    response = client.get("/trends")
    assert response.status_code == 200 and "最近 12 周没有举报" in response.get_data(as_text=True)
