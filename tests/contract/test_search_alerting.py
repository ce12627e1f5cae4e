"""SearchIndex contract for alerting: counts per key in several windows, metrics, paging over all
keys, batches and field updates. Every test runs on SQLite FTS5 and on Elasticsearch."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tierwatch.core.search import (
    MAX_VALUES,
    Group,
    GroupPage,
    GroupQuery,
    IndexSchema,
    Metric,
    Range,
    SearchIndex,
    SearchQuery,
    SearchResult,
    Window,
)
from tierwatch.core.search.common import IndexNotFound, SearchFailed

UTC = ZoneInfo("UTC")
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, tzinfo=UTC)
SCHEMA = IndexSchema(
    text=("body",),
    keyword=("idents", "region", "tier", "tags"),
    date=("reported_at",),
    number=("amount",),
)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


DOCS: list[dict[str, Any]] = [
    {"id": "a1", "idents": ["p1", "p2"], "region": "sz", "tier": "high", "amount": 100,
     "reported_at": at(10), "body": "冒充客服诈骗"},
    {"id": "a2", "idents": ["p1"], "region": "gz", "amount": 50, "reported_at": at(70), "body": "退款诈骗"},
    {"id": "a3", "idents": ["p1"], "region": "gz", "reported_at": at(80), "body": "换脸视频"},
    {"id": "a4", "idents": ["p2"], "region": "fs", "tier": "low", "amount": 300, "reported_at": at(90),
     "body": "投资诈骗网站"},
    {"id": "a5", "idents": ["p3"], "region": "sz", "amount": 10, "reported_at": at(20)},
    {"id": "a6", "idents": ["p3"], "region": "sz", "reported_at": at(25)},
    {"id": "a7", "idents": ["p4"], "region": "zh", "reported_at": at(180)},  # after both windows
    {"id": "a8", "idents": ["p1"], "region": "sz"},  # no date: in no window
    {"id": "a9", "region": "sz", "reported_at": at(75)},  # no identifier: only in the None group
    {"id": "a10", "idents": ["p5"], "amount": 5, "reported_at": at(60)},  # on the boundary: cur
]
REF = Window("ref", T0, T0 + timedelta(hours=1))
CUR = Window("cur", T0 + timedelta(hours=1), T0 + timedelta(hours=2))


@pytest.fixture
def index(search_index: SearchIndex) -> SearchIndex:
    search_index.ensure_index("reports", SCHEMA)
    search_index.bulk_index("reports", DOCS)
    search_index.refresh("reports")
    return search_index


def gq(**kw: Any) -> GroupQuery:
    kw.setdefault("date_field", "reported_at")
    kw.setdefault("windows", (REF, CUR))
    return GroupQuery(**kw)


def all_groups(index: SearchIndex, request: GroupQuery) -> list[Group]:
    """Every page, checking the paging contract on the way."""
    groups: list[Group] = []
    for _ in range(100):
        page = index.group_stats("reports", request)
        assert len(page.groups) <= request.size
        groups += page.groups
        keys = [g.key for g in page.groups]
        assert keys == sorted(keys)  # within a page; the order of pages is not part of the contract
        if page.next_after is None:
            assert len({g.key for g in groups}) == len(groups)  # each group on exactly one page
            return sorted(groups, key=lambda g: g.key or "")
        request = GroupQuery(**{**request.__dict__, "after": page.next_after})
    raise AssertionError("paging did not end")


def counts(groups: list[Group]) -> dict[str | None, dict[str, int]]:
    return {g.key: dict(g.counts) for g in groups}


def test_counts_per_key_in_two_windows_at_once(index: SearchIndex) -> None:
    groups = all_groups(index, gq(group_by="idents"))
    # a8 (no date), a9 (no identifier) and a7 (outside every window) are in no group;
    # a multi-valued field puts a1 in p1 and p2; a10 at exactly 01:00 is in cur only.
    assert counts(groups) == {
        "p1": {"ref": 1, "cur": 2},
        "p2": {"ref": 1, "cur": 1},
        "p3": {"ref": 2, "cur": 0},
        "p5": {"ref": 0, "cur": 1},
    }


def test_overlapping_windows_count_a_document_in_each(index: SearchIndex) -> None:
    day = Window("day", T0, T0 + timedelta(days=1))
    groups = all_groups(index, gq(group_by="idents", windows=(CUR, day)))
    assert counts(groups)["p1"] == {"cur": 2, "day": 3}
    assert counts(groups)["p4"] == {"cur": 0, "day": 1}


def test_window_bounds_in_another_time_zone_are_the_same_instants(index: SearchIndex) -> None:
    cur_sh = Window("cur", CUR.gte.astimezone(SH), CUR.lt.astimezone(SH))
    assert counts(all_groups(index, gq(group_by="idents", windows=(cur_sh,)))) == {
        "p1": {"cur": 2}, "p2": {"cur": 1}, "p5": {"cur": 1}}


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_min_count_in_any_window_and_paging_over_all_keys(index: SearchIndex, size: int) -> None:
    assert [g.key for g in all_groups(index, gq(group_by="idents", size=size))] == ["p1", "p2", "p3", "p5"]
    # p1 reaches 2 in cur, p3 in ref; pages may come back short or empty before the last one
    assert [g.key for g in all_groups(index, gq(group_by="idents", size=size, min_count=2))] == ["p1", "p3"]
    assert all_groups(index, gq(group_by="idents", size=size, min_count=3)) == []


def test_keys_come_in_code_point_order(search_index: SearchIndex) -> None:
    search_index.ensure_index("reports", SCHEMA)
    keys = ["b", "Z", "号码", "a", "é", "phone:+8613800000000", "phone:13800000000"]
    search_index.bulk_index("reports", [{"id": f"k{i}", "idents": [k], "reported_at": at(5)}
                                        for i, k in enumerate(keys)])
    search_index.refresh("reports")
    assert [g.key for g in search_index.group_stats("reports", gq(group_by="idents")).groups] == sorted(keys)
    assert [g.key for g in all_groups(search_index, gq(group_by="idents", size=2))] == sorted(keys)


def test_number_metrics_per_window(index: SearchIndex) -> None:
    metrics = tuple(Metric(op, "amount") for op in ("sum", "avg", "min", "max"))
    groups = {g.key: g for g in all_groups(index, gq(group_by="idents", metrics=metrics))}
    # a3 has no amount: skipped, not a zero
    assert groups["p1"].metrics["cur"] == {"sum:amount": 50.0, "avg:amount": 50.0,
                                           "min:amount": 50.0, "max:amount": 50.0}
    assert groups["p2"].metrics["ref"] == {"sum:amount": 100.0, "avg:amount": 100.0,
                                           "min:amount": 100.0, "max:amount": 100.0}
    # no document of p3 in cur: the sum is 0, the others have no value
    assert groups["p3"].metrics["cur"] == {"sum:amount": 0.0, "avg:amount": None,
                                           "min:amount": None, "max:amount": None}
    # a5 has 10, a6 none
    assert groups["p3"].metrics["ref"]["avg:amount"] == 10.0
    only = all_groups(index, gq(metrics=metrics))  # group_by None: every matching document
    assert [g.key for g in only] == [None]
    assert only[0].counts == {"ref": 3, "cur": 5}
    assert only[0].metrics["cur"] == {"sum:amount": 355.0, "avg:amount": 355.0 / 3,
                                      "min:amount": 5.0, "max:amount": 300.0}


def test_distinct_count_and_values_of_keyword_fields(index: SearchIndex) -> None:
    metrics = (Metric("cardinality", "idents"), Metric("cardinality", "region"), Metric("values", "tier"))
    by_region = {g.key: g for g in all_groups(index, gq(group_by="region", metrics=metrics))}
    # sz in ref: a1 [p1, p2], a5 [p3], a6 [p3] -> 3 distinct identifiers; a9 in cur has none
    assert by_region["sz"].counts == {"ref": 3, "cur": 1}
    assert by_region["sz"].metrics["ref"] == {"cardinality:idents": 3, "cardinality:region": 1,
                                              "values:tier": ["high"]}
    assert by_region["sz"].metrics["cur"] == {"cardinality:idents": 0, "cardinality:region": 1,
                                              "values:tier": []}
    # one identifier reported from several regions: the alerting question
    by_ident = {g.key: g for g in all_groups(index, gq(group_by="idents", windows=(
        Window("day", T0, T0 + timedelta(days=1)),), metrics=metrics))}
    assert by_ident["p1"].metrics["day"]["cardinality:region"] == 2  # sz, gz (a8 has no date)
    assert by_ident["p2"].metrics["day"]["cardinality:region"] == 2  # sz, fs
    assert by_ident["p2"].metrics["day"]["values:tier"] == ["high", "low"]


def test_values_are_capped_at_the_smallest(search_index: SearchIndex) -> None:
    search_index.ensure_index("reports", SCHEMA)
    tags = [f"t{n:02d}" for n in range(MAX_VALUES + 5)]
    search_index.bulk_index("reports", [{"id": "x", "idents": ["p"], "tags": tags[::-1], "reported_at": at(5)}])
    search_index.refresh("reports")
    [group] = all_groups(search_index, gq(group_by="idents", metrics=(Metric("values", "tags"),)))
    assert group.metrics["ref"]["values:tags"] == tags[:MAX_VALUES]


def test_single_group_follows_min_count(index: SearchIndex) -> None:
    late = Window("late", T0 + timedelta(hours=5), T0 + timedelta(hours=6))
    assert all_groups(index, gq(windows=(late,))) == []
    assert counts(all_groups(index, gq(windows=(REF,), min_count=3))) == {None: {"ref": 3}}
    assert all_groups(index, gq(windows=(REF,), min_count=4)) == []


def test_only_the_given_keys(index: SearchIndex) -> None:
    page = index.group_stats("reports", gq(group_by="idents", keys=("p3", "p1", "nobody", "p4")))
    # p4 has documents but none in a window; "nobody" has none at all
    assert (counts(page.groups), page.next_after) == ({"p1": {"ref": 1, "cur": 2}, "p3": {"ref": 2, "cur": 0}}, None)
    assert [g.key for g in page.groups] == ["p1", "p3"]
    assert index.group_stats("reports", gq(group_by="idents", keys=())).groups == []


def test_text_filters_and_ranges_select_the_documents(index: SearchIndex) -> None:
    fraud = SearchQuery(text="诈骗")  # a1, a2, a4: a two-character Chinese term
    assert counts(all_groups(index, gq(group_by="idents", query=fraud))) == {
        "p1": {"ref": 1, "cur": 1}, "p2": {"ref": 1, "cur": 1}}
    gz = SearchQuery(filters={"region": ["gz", "fs"]}, ranges={"amount": Range(gte=100)})
    assert counts(all_groups(index, gq(group_by="idents", query=gz))) == {"p2": {"ref": 0, "cur": 1}}
    # negative filters: a document without the field (a10) stays
    elsewhere = SearchQuery(exclude={"region": ["gz", "fs"]})
    assert counts(all_groups(index, gq(group_by="idents", query=elsewhere))) == {
        "p1": {"ref": 1, "cur": 0}, "p2": {"ref": 1, "cur": 0}, "p3": {"ref": 2, "cur": 0},
        "p5": {"ref": 0, "cur": 1}}
    # sort, offset and limit of the query play no part
    paged = SearchQuery(filters={"region": "gz"}, sort="-amount", offset=5, limit=1)
    assert counts(all_groups(index, gq(group_by="idents", query=paged))) == {"p1": {"ref": 0, "cur": 2}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"group_by": "body"}, "keyword"),
        ({"group_by": "nope"}, "unknown field"),
        ({"date_field": "amount"}, "date"),
        ({"windows": ()}, "at least one window"),
        ({"windows": (REF, Window("ref", CUR.gte, CUR.lt))}, "unique"),
        ({"windows": (Window("w", CUR.lt, CUR.gte),)}, "not before"),
        ({"windows": (Window("w", datetime(2026, 3, 2), datetime(2026, 3, 3)),)}, "time zone"),
        ({"metrics": (Metric("sum", "region"),)}, "number"),
        ({"metrics": (Metric("cardinality", "amount"),)}, "keyword"),
        ({"metrics": (Metric("median", "amount"),)}, "unknown metric"),  # type: ignore[arg-type]
        ({"query": SearchQuery(ranges={"reported_at": Range(gte=T0)})}, "windows bound it"),
        ({"group_by": "idents", "keys": ("p1",), "after": "p0"}, "cannot be combined"),
        ({"keys": ("p1",)}, "group_by"),
        ({"min_count": 0}, "at least 1"),
    ],
)
def test_bad_group_queries_are_refused(index: SearchIndex, change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        index.group_stats("reports", gq(**change))


def test_batch_answers_each_request_in_order(index: SearchIndex) -> None:
    requests: list[SearchQuery | GroupQuery] = [
        gq(group_by="idents", min_count=2),
        SearchQuery(text="诈骗", sort="reported_at", limit=2),
        gq(group_by="body"),  # refused: its slot holds the error, the others are answered
        gq(windows=(CUR,)),
        SearchQuery(filters={"no_such_field": "x"}),  # an unknown field: refused the same way
        gq(query=SearchQuery(exclude={"no_such_field": "x"})),
    ]
    first, second, bad, fourth, unknown, unknown_in_group = index.batch("reports", requests)
    assert isinstance(unknown, ValueError) and isinstance(unknown_in_group, ValueError)
    assert isinstance(first, GroupPage) and [g.key for g in first.groups] == ["p1", "p3"]
    assert isinstance(second, SearchResult) and second.total == 3
    assert [h["id"] for h in second.hits] == ["a1", "a2"]
    assert isinstance(bad, ValueError)
    assert isinstance(fourth, GroupPage) and counts(fourth.groups) == {None: {"cur": 5}}
    assert index.batch("reports", []) == []
    with pytest.raises(IndexNotFound):
        index.batch("never-created", [SearchQuery()])


def test_terms_with_a_minimum_count(index: SearchIndex) -> None:
    assert index.terms("reports", "idents", min_count=3) == [("p1", 4)]
    assert index.terms("reports", "region", min_count=2) == [("sz", 5), ("gz", 2)]
    assert index.terms("reports", "region", size=1, min_count=2) == [("sz", 5)]
    assert index.terms("reports", "region", SearchQuery(text="诈骗"), min_count=2) == []
    with pytest.raises(ValueError):
        index.terms("reports", "region", min_count=0)


def test_set_fields_updates_every_view_of_the_documents(index: SearchIndex) -> None:
    # an application re-tiered: its reports' tier changes in place
    assert index.set_fields("reports", ["a2", "a3", "nope", "a2"], {"tier": "high"}) == 2
    index.refresh("reports")
    assert index.get("reports", "a2") == {**DOCS[1], "tier": "high"}
    assert index.count("reports", SearchQuery(filters={"tier": "high"})) == 3
    assert index.terms("reports", "tier") == [("high", 3), ("low", 1)]
    [group] = all_groups(index, gq(group_by="idents", keys=("p1",), metrics=(Metric("values", "tier"),)))
    assert group.metrics["cur"]["values:tier"] == ["high"]
    assert index.count("reports", SearchQuery(text="换脸")) == 1  # text still indexed
    with pytest.raises(ValueError):
        index.set_fields("reports", ["a1"], {"tier": None})
    with pytest.raises(ValueError):
        index.set_fields("reports", ["a1"], {"nope": "x"})
    with pytest.raises(ValueError):
        index.set_fields("reports", ["a1"], {"amount": "lots"})
    assert index.set_fields("reports", [], {"tier": "low"}) == 0


# Elasticsearch refuses what our validation lets through only in its own limits.
@pytest.mark.elasticsearch
@pytest.mark.parametrize("search_index", ["elasticsearch"], indirect=True)
def test_elasticsearch_engine_errors_stay_in_their_slot(search_index: SearchIndex) -> None:
    search_index.ensure_index("reports", SCHEMA)
    search_index.bulk_index("reports", DOCS)
    search_index.refresh("reports")
    too_big, fine = search_index.batch("reports", [gq(group_by="idents", size=1_000_000), gq()])
    assert isinstance(too_big, SearchFailed)
    assert isinstance(fine, GroupPage) and fine.groups[0].counts == {"ref": 3, "cur": 5}


# --- tagged: the documents of a time range with the named queries each matches ----------------


def test_tagged_names_every_query_a_document_matches(index: SearchIndex) -> None:
    queries = {
        "all": SearchQuery(),
        "fraud": SearchQuery(text="诈骗"),  # two Han characters: a substring on both engines
        "sz": SearchQuery(filters={"region": "sz"}),
        "p1-not-gz": SearchQuery(filters={"idents": "p1"}, exclude={"region": "gz"}),
        "big": SearchQuery(ranges={"amount": Range(gte=100)}),
    }
    found = index.tagged("reports", "reported_at", CUR, queries, ["idents", "amount", "tier"])
    # cur is [01:00, 02:00): a2 (70), a9 (75), a3 (80), a4 (90) and a10 on the lower bound (60),
    # in (date, id) order; a1 (10) and a7 (180) are outside, a8 has no date
    assert [t.doc["id"] for t in found] == ["a10", "a2", "a9", "a3", "a4"]
    by_id = {t.doc["id"]: t for t in found}
    assert by_id["a2"].names == {"all", "fraud"}
    assert by_id["a4"].names == {"all", "fraud", "big"}
    assert by_id["a9"].names == {"all", "sz"}
    assert by_id["a3"].names == {"all"}
    # only id, the date field and the asked fields, as indexed
    assert by_id["a4"].doc == {"id": "a4", "reported_at": DOCS[3]["reported_at"], "idents": ["p2"],
                               "amount": 300, "tier": "low"}
    assert "tier" not in by_id["a2"].doc and "body" not in by_id["a2"].doc


def test_tagged_leaves_out_documents_matching_no_query(index: SearchIndex) -> None:
    day = Window("day", T0, T0 + timedelta(days=1))
    found = index.tagged("reports", "reported_at", day, {"p1": SearchQuery(filters={"idents": "p1"})}, [])
    assert [(t.doc["id"], t.names) for t in found] == [("a1", {"p1"}), ("a2", {"p1"}), ("a3", {"p1"})]
    assert index.tagged("reports", "reported_at", day, {}, ["idents"]) == []


@pytest.mark.parametrize("change, message", [
    ({"date_field": "region"}, "date"),
    ({"fields": ["nope"]}, "nope"),
    ({"queries": {"q": SearchQuery(filters={"nope": "x"})}}, "nope"),
    ({"queries": {"q": SearchQuery(ranges={"reported_at": Range(gte=T0)})}}, "window bounds it"),
    ({"window": Window("w", T0, T0)}, "not before"),
])
def test_bad_tagged_requests_are_refused(index: SearchIndex, change: dict[str, Any], message: str) -> None:
    request: dict[str, Any] = {"date_field": "reported_at", "window": CUR, "queries": {"q": SearchQuery()},
                               "fields": ["idents"], **change}
    with pytest.raises(ValueError, match=message):
        index.tagged("reports", **request)


def test_tagged_returns_every_document_past_one_page(search_index: SearchIndex) -> None:
    search_index.ensure_index("many", SCHEMA)
    many = [{"id": f"m{i:05d}", "region": "sz" if i % 2 else "gz",
             "reported_at": (T0 + timedelta(seconds=i % 600)).isoformat()} for i in range(5003)]
    search_index.bulk_index("many", many)
    search_index.refresh("many")
    found = search_index.tagged("many", "reported_at", Window("w", T0, T0 + timedelta(hours=1)),
                                {"sz": SearchQuery(filters={"region": "sz"}), "all": SearchQuery()}, ["region"])
    assert len(found) == 5003 and len({t.doc["id"] for t in found}) == 5003
    assert [(t.doc["reported_at"], t.doc["id"]) for t in found] == sorted((d["reported_at"], d["id"]) for d in many)
    assert sum("sz" in t.names for t in found) == 2501
