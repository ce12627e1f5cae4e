"""SearchIndex contract: every test runs on SQLite FTS5 and on Elasticsearch."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tierwatch.core.search import IndexSchema, Range, SearchIndex, SearchQuery
from tierwatch.core.search.common import IndexNotFound, SchemaMismatch

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
SCHEMA = IndexSchema(
    text=("title", "body"),
    keyword=("channel", "techniques", "region"),
    date=("reported_at",),
    number=("amount",),
    boolean=("ai_suspected",),
)
DOCS: list[dict[str, Any]] = [
    {
        "id": "r01",
        "title": "冒充客服退款诈骗",
        "body": "对方自称电商客服，以退款为由诱导受害人转账。",
        "channel": "phone",
        "techniques": ["chatbot"],
        "region": "guangzhou",
        "amount": 5000,
        "ai_suspected": False,
        "reported_at": "2026-03-01T17:30:00Z",  # 2026-03-02 01:30 in Shanghai
    },
    {
        "id": "r02",
        "title": "视频通话中的亲属",
        "body": "骗子利用深度伪造技术冒充亲属进行视频通话，要求汇款。",
        "channel": "video_call",
        "techniques": ["face_swap", "cloned_voice"],
        "region": "shenzhen",
        "amount": 20000,
        "ai_suspected": True,
        "reported_at": datetime(2026, 3, 2, 11, 0, tzinfo=SH),
        "source": {"feed": "partner"},  # not in the schema: kept, not indexed
    },
    {
        "id": "r03",
        "title": "直播间换脸带货",
        "body": "主播使用AI换脸(深度合成)冒充明星推销保健品。",
        "channel": "social_media",
        "techniques": ["face_swap"],
        "region": "guangzhou",
        "amount": 300,
        "ai_suspected": True,
        "reported_at": "2026-03-02T03:45:00+00:00",
    },
    {
        "id": "r04",
        "title": "Voice cloning scam",
        "body": "The caller imitated a grandson's voice and asked for money.",
        "channel": "phone",
        "techniques": ["cloned_voice"],
        "region": "foshan",
        "amount": 1500.5,
        "ai_suspected": True,
        "reported_at": "2026-03-03T00:00:00+08:00",
    },
    {
        "id": "r05",
        "title": "虚假投资平台",
        "body": '网友推荐的投资诈骗网站称"稳赚不赔"，100%保本，提现时被要求缴纳保证金。',
        "channel": "website",
        "techniques": [],
        "region": "shenzhen",
        "amount": 80000,
        "ai_suspected": False,
        "reported_at": "2026-03-03T01:00:00Z",
    },
    {"id": "r06", "title": "匿名举报", "region": "guangzhou"},
]


@pytest.fixture
def index(search_index: SearchIndex) -> SearchIndex:
    search_index.ensure_index("reports", SCHEMA)
    assert search_index.bulk_index("reports", DOCS) == len(DOCS)
    search_index.refresh("reports")
    return search_index


def ids(index: SearchIndex, **query: object) -> list[str]:
    return [hit["id"] for hit in index.search("reports", SearchQuery(**query)).hits]  # type: ignore[arg-type]


def test_ensure_index_is_idempotent_and_keeps_documents(index: SearchIndex) -> None:
    index.ensure_index("reports", SCHEMA)
    assert index.count("reports") == len(DOCS)
    with pytest.raises(SchemaMismatch):
        index.ensure_index("reports", IndexSchema(text=("title",)))


def test_get_returns_document_with_dates_in_utc(index: SearchIndex) -> None:
    r02 = index.get("reports", "r02")
    assert r02 is not None
    assert r02["reported_at"] == "2026-03-02T03:00:00+00:00"
    assert r02["source"] == {"feed": "partner"}
    assert r02["techniques"] == ["face_swap", "cloned_voice"]
    assert index.get("reports", "r01")["reported_at"] == "2026-03-01T17:30:00+00:00"  # type: ignore[index]
    assert index.get("reports", "r04")["amount"] == 1500.5  # type: ignore[index]
    assert index.get("reports", "nope") is None


def test_reindexing_replaces_the_document_everywhere(index: SearchIndex) -> None:
    changed = {"id": "r01", "title": "已更新的标题", "body": "内容已替换", "channel": "sms", "region": "zhuhai"}
    index.bulk_index("reports", [changed])
    index.refresh("reports")
    assert index.get("reports", "r01") == changed
    assert index.count("reports") == len(DOCS)
    assert ids(index, text="诈骗") == ["r05"]
    assert ids(index, text="客服") == []
    assert ids(index, text="已更新") == ["r01"]
    assert ids(index, filters={"channel": "phone"}) == ["r04"]
    assert ("zhuhai", 1) in index.terms("reports", "region")
    assert ("guangzhou", 2) in index.terms("reports", "region")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("深度伪造", {"r02"}),
        ("诈骗", {"r01", "r05"}),
        ("换脸", {"r03"}),
        ("AI", {"r03"}),
        ("冒充", {"r01", "r02", "r03"}),
        ("冒充 视频", {"r02"}),
        ("冒充 换脸", {"r03"}),
        ("诈骗 换脸", set()),
        ("彩票", set()),
        ("诈骗对方", set()),  # the end of one field and the start of another is no match
        ("voice", {"r04"}),
        ("CALLER", {"r04"}),
        ("  ", {"r01", "r02", "r03", "r04", "r05", "r06"}),
    ],
)
def test_full_text(index: SearchIndex, text: str, expected: set[str]) -> None:
    assert set(ids(index, text=text)) == expected
    assert index.count("reports", SearchQuery(text=text)) == len(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"稳赚不赔"', {"r05"}),
        ("(深度合成)", {"r03"}),
        ("100%", {"r05"}),
        ("1%", set()),  # % is not a wildcard (unescaped, LIKE would match 100%)
        ("10_", set()),  # nor is _
        ("_", set()),
        ("*", set()),
        ("voice OR 深度伪造", set()),  # OR is a word, not an operator: all terms must match
        ("title:诈骗", set()),  # nor is a column filter
    ],
)
def test_special_characters_are_literal(index: SearchIndex, text: str, expected: set[str]) -> None:
    assert set(ids(index, text=text)) == expected


@pytest.mark.parametrize("text", ['"诈骗', "诈骗)", "(", '"', "AND", "NEAR(诈骗 换脸)", "\\", "'"])
def test_unbalanced_syntax_does_not_crash(index: SearchIndex, text: str) -> None:
    result = index.search("reports", SearchQuery(text=text))
    assert result.total == len(result.hits) <= len(DOCS)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"channel": "phone"}, {"r01", "r04"}),
        ({"channel": ["phone", "website"]}, {"r01", "r04", "r05"}),
        ({"channel": []}, set()),
        ({"techniques": "face_swap"}, {"r02", "r03"}),
        ({"techniques": ["chatbot", "cloned_voice"]}, {"r01", "r02", "r04"}),
        ({"ai_suspected": True}, {"r02", "r03", "r04"}),
        ({"ai_suspected": False}, {"r01", "r05"}),
        ({"ai_suspected": True, "region": "guangzhou"}, {"r03"}),
    ],
)
def test_filters(index: SearchIndex, filters: dict, expected: set[str]) -> None:
    assert set(ids(index, filters=filters)) == expected


@pytest.mark.parametrize(
    ("exclude", "expected"),
    [
        # r06 has no channel: a document without the field is kept
        ({"channel": "phone"}, {"r02", "r03", "r05", "r06"}),
        ({"channel": ["phone", "website"]}, {"r02", "r03", "r06"}),
        ({"channel": []}, {"r01", "r02", "r03", "r04", "r05", "r06"}),
        # any value of a multi-valued field excludes the document (r02 carries both)
        ({"techniques": "cloned_voice"}, {"r01", "r03", "r05", "r06"}),
        ({"ai_suspected": True}, {"r01", "r05", "r06"}),
        ({"amount": [300, 80000]}, {"r01", "r02", "r04", "r06"}),
        ({"region": "guangzhou", "techniques": "face_swap"}, {"r04", "r05"}),
    ],
)
def test_negative_filters(index: SearchIndex, exclude: dict, expected: set[str]) -> None:
    assert set(ids(index, exclude=exclude, limit=50)) == expected
    assert index.count("reports", SearchQuery(exclude=exclude)) == len(expected)


def test_negative_filters_with_positive_ones_text_and_aggregations(index: SearchIndex) -> None:
    query = SearchQuery(text="冒充", exclude={"channel": "phone"})  # r01 (phone), r02, r03
    assert set(ids(index, text="冒充", exclude={"channel": "phone"})) == {"r02", "r03"}
    assert index.terms("reports", "region", query) == [("guangzhou", 1), ("shenzhen", 1)]
    assert set(ids(index, filters={"region": "guangzhou"}, exclude={"channel": "social_media"})) == {"r01", "r06"}
    with pytest.raises((ValueError, KeyError)):
        index.search("reports", SearchQuery(exclude={"nope": "x"}))


def test_filter_with_text(index: SearchIndex) -> None:
    assert ids(index, text="冒充", filters={"channel": "phone"}) == ["r01"]


def test_ranges_are_half_open(index: SearchIndex) -> None:
    assert set(ids(index, ranges={"amount": Range(gte=1500.5, lt=20000)})) == {"r01", "r04"}
    assert set(ids(index, ranges={"amount": Range(gte=20000)})) == {"r02", "r05"}
    window = Range(gte=datetime(2026, 3, 2, 11, 0, tzinfo=SH), lt=datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    assert set(ids(index, ranges={"reported_at": window})) == {"r02", "r03"}
    before = Range(lt=datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    assert ids(index, ranges={"reported_at": before}) == ["r01"]


def test_paging_and_sorting(index: SearchIndex) -> None:
    assert ids(index) == ["r01", "r02", "r03", "r04", "r05", "r06"]
    # missing values sort last either way
    assert ids(index, sort="-reported_at") == ["r05", "r04", "r03", "r02", "r01", "r06"]
    assert ids(index, sort="amount") == ["r03", "r04", "r01", "r02", "r05", "r06"]
    assert ids(index, sort="region") == ["r04", "r01", "r03", "r06", "r02", "r05"]
    page = index.search("reports", SearchQuery(sort="-reported_at", offset=2, limit=2))
    assert (page.total, [h["id"] for h in page.hits]) == (6, ["r03", "r02"])
    past_end = index.search("reports", SearchQuery(offset=10, limit=5))
    assert (past_end.total, past_end.hits) == (6, [])
    with pytest.raises(ValueError):
        index.search("reports", SearchQuery(sort="title"))


def test_count(index: SearchIndex) -> None:
    assert index.count("reports") == 6
    assert index.count("reports", SearchQuery(text="冒充")) == 3
    assert index.count("reports", SearchQuery(filters={"region": "shenzhen"})) == 2


def test_terms_aggregation(index: SearchIndex) -> None:
    assert index.terms("reports", "region") == [("guangzhou", 3), ("shenzhen", 2), ("foshan", 1)]
    assert index.terms("reports", "region", size=2) == [("guangzhou", 3), ("shenzhen", 2)]
    # multi-valued field: each value counted; ties by value ascending
    assert index.terms("reports", "techniques") == [
        ("cloned_voice", 2),
        ("face_swap", 2),
        ("chatbot", 1),
    ]
    ai = SearchQuery(filters={"ai_suspected": True})
    assert index.terms("reports", "channel", ai) == [
        ("phone", 1),
        ("social_media", 1),
        ("video_call", 1),
    ]
    assert index.terms("reports", "channel", SearchQuery(text="诈骗")) == [("phone", 1), ("website", 1)]


def test_date_histogram_in_shanghai_time(index: SearchIndex) -> None:
    days = index.date_histogram("reports", "reported_at", "day", tz="Asia/Shanghai")
    # r01 at 2026-03-01T17:30Z is 01:30 on 2 March in Shanghai
    assert days == [(datetime(2026, 3, 2, tzinfo=SH), 3), (datetime(2026, 3, 3, tzinfo=SH), 2)]
    assert all(start.utcoffset() == timedelta(hours=8) for start, _ in days)
    hours = index.date_histogram("reports", "reported_at", "hour", tz="Asia/Shanghai")
    assert hours == [
        (datetime(2026, 3, 2, 1, tzinfo=SH), 1),
        (datetime(2026, 3, 2, 11, tzinfo=SH), 2),
        (datetime(2026, 3, 3, 0, tzinfo=SH), 1),
        (datetime(2026, 3, 3, 9, tzinfo=SH), 1),
    ]
    ai = SearchQuery(filters={"ai_suspected": True})
    assert index.date_histogram("reports", "reported_at", "day", ai, tz="Asia/Shanghai") == [
        (datetime(2026, 3, 2, tzinfo=SH), 2),
        (datetime(2026, 3, 3, tzinfo=SH), 1),
    ]


def test_date_histogram_weeks_months_and_utc(index: SearchIndex) -> None:
    assert index.date_histogram("reports", "reported_at", "day") == [
        (datetime(2026, 3, 1, tzinfo=UTC), 1),
        (datetime(2026, 3, 2, tzinfo=UTC), 3),
        (datetime(2026, 3, 3, tzinfo=UTC), 1),
    ]
    # weeks start on Monday: 1 March 2026 is a Sunday
    assert index.date_histogram("reports", "reported_at", "week") == [
        (datetime(2026, 2, 23, tzinfo=UTC), 1),
        (datetime(2026, 3, 2, tzinfo=UTC), 4),
    ]
    assert index.date_histogram("reports", "reported_at", "week", tz="Asia/Shanghai") == [
        (datetime(2026, 3, 2, tzinfo=SH), 5)
    ]
    assert index.date_histogram("reports", "reported_at", "month", tz="Asia/Shanghai") == [
        (datetime(2026, 3, 1, tzinfo=SH), 5)
    ]


def test_empty_index_returns_zeros(search_index: SearchIndex) -> None:
    search_index.ensure_index("empty", SCHEMA)
    search_index.refresh("empty")
    assert search_index.search("empty", SearchQuery(text="诈骗")).total == 0
    assert search_index.search("empty", SearchQuery()).hits == []
    assert search_index.count("empty") == 0
    assert search_index.terms("empty", "region") == []
    assert search_index.date_histogram("empty", "reported_at", "day", tz="Asia/Shanghai") == []
    assert search_index.get("empty", "r01") is None


def test_delete_documents_removes_them_from_every_query(index: SearchIndex) -> None:
    assert index.delete("reports", ["r01", "no-such-id", "r01"]) == 1
    index.refresh("reports")
    assert index.get("reports", "r01") is None
    assert "r01" not in {h["id"] for h in index.search("reports", SearchQuery(text="客服", limit=50)).hits}
    assert index.count("reports", SearchQuery(filters={"channel": "phone", "region": "guangzhou"})) == 0
    assert index.count("reports") == len(DOCS) - 1
    assert index.delete("reports", []) == 0


def test_delete_index(index: SearchIndex) -> None:
    index.delete_index("reports")
    with pytest.raises(IndexNotFound):
        index.count("reports")
    index.ensure_index("reports", SCHEMA)
    assert index.count("reports") == 0


def test_bad_documents_are_refused(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="id"):
        index.bulk_index("reports", [{"title": "无编号"}])
    with pytest.raises(ValueError, match="time zone"):
        index.bulk_index("reports", [{"id": "x", "reported_at": datetime(2026, 3, 1)}])
    with pytest.raises(ValueError, match="number"):
        index.bulk_index("reports", [{"id": "x", "amount": "很多"}])
    with pytest.raises(IndexNotFound):
        index.bulk_index("never-created", [{"id": "x"}])


def test_dates_already_in_utc_are_stored_like_any_other(index: SearchIndex) -> None:
    # The worker's dates come from pydantic (its own UTC tzinfo) or datetime.now(UTC).
    from pydantic import TypeAdapter

    parsed = TypeAdapter(datetime).validate_json('"2026-03-04T05:06:07.123456Z"')
    docs = [
        {"id": "p1", "reported_at": parsed},
        {"id": "p2", "reported_at": datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)},
        {"id": "p3", "reported_at": datetime(2026, 3, 4, 13, 6, 7, 123456, tzinfo=SH)},
    ]
    assert index.bulk_index("reports", docs) == 3
    assert [index.get("reports", d["id"])["reported_at"] for d in docs] == [  # type: ignore[index]
        "2026-03-04T05:06:07.123456+00:00",
        "2026-03-04T05:06:07+00:00",
        "2026-03-04T05:06:07.123456+00:00",
    ]


# A term over Lucene's 32,766-byte limit is refused by Elasticsearch only.
@pytest.mark.elasticsearch
@pytest.mark.parametrize("search_index", ["elasticsearch"], indirect=True)
def test_elasticsearch_reports_the_refused_document_and_keeps_the_others(search_index: SearchIndex) -> None:
    from tierwatch.core.search.elastic import BulkIndexError

    search_index.ensure_index("reports", SCHEMA)
    docs = [{"id": "a", "region": "ok"}, {"id": "b", "region": "x" * 40_000}, {"id": "c", "title": "诈骗"}]
    with pytest.raises(BulkIndexError, match=r"1 of 3 documents.*id='b'"):
        search_index.bulk_index("reports", docs)
    search_index.refresh("reports")
    assert search_index.count("reports") == 2 and search_index.get("reports", "c") == docs[2]


# SQLite-only behaviour: a second process reopening the file, and threads sharing one index.


def test_fts_reopened_file_knows_its_indexes(tmp_path: Path) -> None:
    from tierwatch.core.search.fts import FtsIndex

    first = FtsIndex(tmp_path / "search.db")
    first.ensure_index("reports", SCHEMA)
    first.bulk_index("reports", DOCS)
    first.close()
    again = FtsIndex(tmp_path / "search.db")
    assert again.date_histogram("reports", "reported_at", "day", tz="Asia/Shanghai")[0][1] == 3
    assert again.terms("reports", "techniques", size=1) == [("cloned_voice", 2)]
    again.close()


def test_fts_readers_in_threads_while_writing(tmp_path: Path) -> None:
    from tierwatch.core.search.fts import FtsIndex

    fts = FtsIndex(tmp_path / "search.db")
    fts.ensure_index("reports", SCHEMA)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(50):
                assert fts.count("reports", SearchQuery(text="诈骗")) % 2 == 0
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    for n in range(50):
        fts.bulk_index("reports", [{"id": f"a{n}", "title": "诈骗"}, {"id": f"b{n}", "body": "诈骗"}])
    for thread in readers:
        thread.join()
    fts.close()
    assert errors == []
