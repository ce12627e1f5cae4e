"""SearchIndex on Elasticsearch 8.x with the official client.

Mappings come from the IndexSchema (``dynamic: false``, so only declared fields are indexed); the
schema itself is kept in the mapping's ``_meta`` so any process can read the field kinds back.
Text fields use the standard analyzer, which indexes Han characters one by one: a phrase query
per term then finds Chinese terms of any length as substrings (诈骗 inside 冒充客服诈骗).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError
from elasticsearch.serializer import OrjsonSerializer

from tierwatch.core.search import (
    EXACT_CARDINALITY,
    MAX_VALUES,
    Group,
    GroupPage,
    GroupQuery,
    IndexSchema,
    Interval,
    SearchQuery,
    SearchResult,
    Tagged,
    Window,
)
from tierwatch.core.search.common import (
    IndexNotFound,
    SchemaMismatch,
    SearchFailed,
    check_group_query,
    check_schema,
    check_set_fields,
    check_tagged,
    filter_values,
    normalise_doc,
    parse_sort,
    physical_name,
    range_bound,
    require_kind,
    schema_from_json,
    span,
    split_terms,
)

_CALENDAR = {"hour": "1h", "day": "1d", "week": "1w", "month": "1M"}
# Documents per bulk request (the worker sends at most its batch size, 500, at a time).
_BULK_DOCS = 500
# Every item keeps its status, so the items stay aligned with the documents sent.
_BULK_RESPONSE = "errors,items.*.status,items.*.error"
# Documents per page of tagged(); the default result window is 10,000.
_TAGGED_PAGE = 5000
_FIELD_TYPES = {"text": "text", "keyword": "keyword", "date": "date", "number": "double", "boolean": "boolean"}


class BulkIndexError(RuntimeError):
    """Elasticsearch refused some documents of a bulk request."""


def _mappings(schema: IndexSchema) -> dict[str, Any]:
    properties: dict[str, Any] = {"id": {"type": "keyword"}}
    for kind, es_type in _FIELD_TYPES.items():
        for field_name in getattr(schema, kind):
            properties[field_name] = {"type": es_type}
            if kind == "text":
                properties[field_name]["analyzer"] = "standard"
    return {"dynamic": False, "_meta": {"schema": asdict(schema)}, "properties": properties}


def _bound(schema: IndexSchema, field_name: str, value: Any) -> Any:
    bound = range_bound(schema, field_name, value)
    return bound.isoformat() if isinstance(bound, datetime) else bound


def _es_query(schema: IndexSchema, query: SearchQuery | None) -> dict[str, Any]:
    query = query or SearchQuery()
    terms = split_terms(query.text)
    if terms and not schema.text:
        return {"match_none": {}}
    must = [
        {"multi_match": {"query": term, "type": "phrase", "fields": list(schema.text)}}
        for term in terms
    ]
    filters: list[dict[str, Any]] = []
    for field_name, value in query.filters.items():
        values = filter_values(schema, field_name, value)
        filters.append({"terms": {field_name: values}})
    for field_name, bounds in query.ranges.items():
        spec = {
            op: _bound(schema, field_name, bound)
            for op, bound in (("gte", bounds.gte), ("lt", bounds.lt))
            if bound is not None
        }
        if spec:
            filters.append({"range": {field_name: spec}})
    must_not = [{"terms": {f: filter_values(schema, f, v)}} for f, v in query.exclude.items()]
    return {"bool": {"must": must, "filter": filters, **({"must_not": must_not} if must_not else {})}}


class ElasticIndex:
    def __init__(self, url: str, prefix: str = "tierwatch-", request_timeout: float = 30):
        self.prefix = prefix
        # orjson for request and response bodies: the standard json module was most of the
        # client's CPU per indexed document.
        self._json = OrjsonSerializer()
        self.client = Elasticsearch(url, request_timeout=request_timeout, serializer=self._json)
        self._schemas: dict[str, IndexSchema] = {}

    def _schema(self, name: str) -> tuple[str, IndexSchema]:
        full = physical_name(self.prefix, name)
        if full not in self._schemas:
            try:
                mapping = self.client.indices.get_mapping(index=full)
            except NotFoundError:
                raise IndexNotFound(
                    f"search index {full!r} does not exist; call ensure_index first"
                ) from None
            self._schemas[full] = schema_from_json(mapping[full]["mappings"]["_meta"]["schema"])
        return full, self._schemas[full]

    def ensure_index(self, name: str, schema: IndexSchema) -> None:
        full = physical_name(self.prefix, name)
        check_schema(schema)
        try:
            self.client.indices.create(
                index=full,
                settings={"number_of_shards": 1, "number_of_replicas": 0},
                mappings=_mappings(schema),
            )
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
        self._schemas.pop(full, None)
        if self._schema(name)[1] != schema:
            raise SchemaMismatch(
                f"search index {full!r} exists with another schema; delete and re-index it"
            )

    def delete_index(self, name: str) -> None:
        full = physical_name(self.prefix, name)
        self.client.indices.delete(index=full, ignore_unavailable=True)
        self._schemas.pop(full, None)

    def bulk_index(self, name: str, docs: Sequence[Mapping[str, Any]]) -> int:
        full, schema = self._schema(name)
        # The NDJSON body is built here, one orjson call per document, and sent in one request per
        # chunk: streaming_bulk serialised every action and document separately with the standard
        # json module and parsed a full per-document response (~200 bytes each); the filtered
        # response keeps only each item's status (and the error of a failed one).
        dumps = self._json.json_dumps  # (.dumps would pass a str through unquoted)
        written, failures = 0, []
        for start in range(0, len(docs), _BULK_DOCS):
            chunk = [normalise_doc(schema, d) for d in docs[start : start + _BULK_DOCS]]
            body = bytearray()
            for doc in chunk:
                body += b'{"index":{"_id":%b}}\n%b\n' % (dumps(doc["id"]), dumps(doc))
            # The client sends bytes as they are; its stubs only name the list form.
            response = self.client.bulk(index=full, operations=bytes(body),  # type: ignore[arg-type]
                                        filter_path=_BULK_RESPONSE)
            if not response.get("errors"):
                written += len(chunk)
                continue
            for doc, item in zip(chunk, response["items"], strict=True):
                result = item["index"]
                if 200 <= result.get("status", 500) < 300:
                    written += 1
                else:
                    failures.append({"_id": doc["id"], "error": result.get("error")})
        if failures:
            first = failures[0]
            raise BulkIndexError(
                f"{len(failures)} of {len(docs)} documents were not indexed into {full!r};"
                f" first: id={first.get('_id')!r}: {first.get('error')}"
            )
        return written

    def delete(self, name: str, doc_ids: Sequence[str]) -> int:
        full, _ = self._schema(name)
        if not doc_ids:
            return 0
        dumps = self._json.json_dumps
        body = b"".join(b'{"delete":{"_id":%b}}\n' % dumps(doc_id) for doc_id in doc_ids)
        response = self.client.bulk(index=full, operations=body,  # type: ignore[arg-type]
                                    filter_path="items.*.status")
        return sum(1 for item in response.get("items", []) if item["delete"]["status"] == 200)

    def refresh(self, name: str) -> None:
        full, _ = self._schema(name)
        self.client.indices.refresh(index=full)

    def get(self, name: str, doc_id: str) -> dict[str, Any] | None:
        full, _ = self._schema(name)
        try:
            return dict(self.client.get(index=full, id=doc_id)["_source"])
        except NotFoundError:
            return None

    def search(self, name: str, query: SearchQuery) -> SearchResult:
        full, schema = self._schema(name)
        body = self._search_body(schema, query)
        response = self.client.search(
            index=full, query=body["query"], sort=body["sort"], from_=body["from"], size=body["size"],
            track_total_hits=True,
        )
        return _parse_hits(dict(response))

    def count(self, name: str, query: SearchQuery | None = None) -> int:
        full, schema = self._schema(name)
        return int(self.client.count(index=full, query=_es_query(schema, query))["count"])

    def _aggregate(
        self, full: str, schema: IndexSchema, query: SearchQuery | None, agg: dict[str, Any]
    ) -> list[dict[str, Any]]:
        response = self.client.search(
            index=full, query=_es_query(schema, query), size=0, aggs={"a": agg}
        )
        return list(response["aggregations"]["a"]["buckets"])

    def terms(
        self,
        name: str,
        field_name: str,
        query: SearchQuery | None = None,
        size: int = 10,
        min_count: int = 1,
    ) -> list[tuple[str, int]]:
        full, schema = self._schema(name)
        require_kind(schema, field_name, "keyword", "terms aggregation")
        if min_count < 1:
            raise ValueError("min_count must be at least 1")
        order = [{"_count": "desc"}, {"_key": "asc"}]
        agg = {"terms": {"field": field_name, "size": size, "order": order, "min_doc_count": min_count}}
        return [(b["key"], b["doc_count"]) for b in self._aggregate(full, schema, query, agg)]

    def date_histogram(
        self,
        name: str,
        field_name: str,
        interval: Interval,
        query: SearchQuery | None = None,
        tz: str = "UTC",
    ) -> list[tuple[datetime, int]]:
        full, schema = self._schema(name)
        require_kind(schema, field_name, "date", "date histogram")
        if interval not in _CALENDAR:
            raise ValueError(f"unknown interval {interval!r}")
        zone = ZoneInfo(tz)
        agg = {
            "date_histogram": {
                "field": field_name,
                "calendar_interval": _CALENDAR[interval],
                "time_zone": tz,
                "min_doc_count": 1,
            }
        }
        return [
            (datetime.fromtimestamp(b["key"] / 1000, tz=zone), b["doc_count"])
            for b in self._aggregate(full, schema, query, agg)
        ]

    # --- alerting: counts per key in several windows, many requests in one round trip -------

    def group_stats(self, name: str, request: GroupQuery) -> GroupPage:
        result = self.batch(name, [request])[0]
        if isinstance(result, Exception):
            raise result
        assert isinstance(result, GroupPage)
        return result

    def batch(
        self, name: str, requests: Sequence[SearchQuery | GroupQuery]
    ) -> list[SearchResult | GroupPage | Exception]:
        full, schema = self._schema(name)
        results: list[SearchResult | GroupPage | Exception | None] = [None] * len(requests)
        sent: list[tuple[int, Any]] = []  # (slot, what parses the response)
        searches: list[dict[str, Any]] = []
        for slot, request in enumerate(requests):
            try:
                if isinstance(request, GroupQuery):
                    windows = check_group_query(schema, request)
                    if request.keys is not None and not request.keys:
                        results[slot] = GroupPage([], None)
                        continue
                    body = _group_body(schema, request, windows)
                    parse: Any = _GroupParser(request, windows)
                else:
                    body = {**self._search_body(schema, request), "track_total_hits": True}
                    parse = _parse_hits
            except (ValueError, KeyError) as exc:  # an unknown field is a bad request like any other
                results[slot] = exc if isinstance(exc, ValueError) else ValueError(exc.args[0])
                continue
            searches += [{"index": full}, body]
            sent.append((slot, parse))
        if sent:
            responses = self.client.msearch(searches=searches)["responses"]
            for (slot, parse), response in zip(sent, responses, strict=True):
                if "error" in response:
                    error = response["error"]
                    reason = error.get("reason") if isinstance(error, dict) else error
                    results[slot] = SearchFailed(f"{error.get('type', 'error')}: {reason}"
                                                 if isinstance(error, dict) else str(error))
                else:
                    results[slot] = parse(response)
        return [r for r in results if r is not None]

    def _search_body(self, schema: IndexSchema, query: SearchQuery) -> dict[str, Any]:
        if query.sort is None:
            sort: list[Any] = [{"_score": "desc"}, {"id": "asc"}]
        else:
            field_name, desc = parse_sort(schema, query.sort)
            sort = [{field_name: {"order": "desc" if desc else "asc"}}, {"id": "asc"}]
        return {"query": _es_query(schema, query), "sort": sort, "from": query.offset, "size": query.limit}

    def tagged(
        self, name: str, date_field: str, window: Window, queries: Mapping[str, SearchQuery],
        fields: Sequence[str],
    ) -> list[Tagged]:
        full, schema = self._schema(name)
        gte, lt = check_tagged(schema, date_field, window, queries, fields)
        if not queries:
            return []
        # Named clauses: Elasticsearch reports, per hit, every named query it matches, so one
        # pass over the window answers all of them with their own analysis of the text.
        named = []
        for query_name, query in queries.items():
            clause = _es_query(schema, query)
            kind = next(iter(clause))
            named.append({kind: {**clause[kind], "_name": query_name}})
        body = {"bool": {"filter": [_range(date_field, gte, lt)], "should": named, "minimum_should_match": 1}}
        source = list(dict.fromkeys(["id", date_field, *fields]))
        out: list[Tagged] = []
        after: list[Any] | None = None
        while True:
            response = self.client.search(
                index=full, query=body, size=_TAGGED_PAGE, sort=[{date_field: "asc"}, {"id": "asc"}],
                source=source, track_total_hits=False, search_after=after,
                filter_path="hits.hits._source,hits.hits.matched_queries,hits.hits.sort",
            )
            hits = response.get("hits", {}).get("hits", [])
            out += [Tagged(dict(h["_source"]), frozenset(h.get("matched_queries", ()))) for h in hits]
            if len(hits) < _TAGGED_PAGE:
                return out
            after = hits[-1]["sort"]

    def set_fields(self, name: str, doc_ids: Sequence[str], values: Mapping[str, Any]) -> int:
        full, schema = self._schema(name)
        partial = check_set_fields(schema, values)
        if not doc_ids:
            return 0
        dumps = self._json.json_dumps
        doc = b'{"doc":%b}\n' % dumps(partial)
        updated = 0
        unique = list(dict.fromkeys(doc_ids))
        for start in range(0, len(unique), _BULK_DOCS):
            body = b"".join(
                b'{"update":{"_id":%b,"retry_on_conflict":3}}\n%b' % (dumps(doc_id), doc)
                for doc_id in unique[start : start + _BULK_DOCS]
            )
            response = self.client.bulk(index=full, operations=body,  # type: ignore[arg-type]
                                        filter_path="items.*.status,items.*.error")
            for item in response.get("items", []):
                status = item["update"]["status"]
                if status == 200:
                    updated += 1
                elif status != 404:  # 404: no such document, ignored like delete() does
                    raise BulkIndexError(f"set_fields on {full!r}: {item['update'].get('error')}")
        return updated

    def close(self) -> None:
        self.client.close()


def _range(field_name: str, gte: datetime, lt: datetime) -> dict[str, Any]:
    return {"range": {field_name: {"gte": gte.isoformat(), "lt": lt.isoformat()}}}


def _metric_aggs(request: GroupQuery) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for metric in request.metrics:
        if metric.op == "cardinality":
            aggs["card_" + metric.field] = {
                "cardinality": {"field": metric.field, "precision_threshold": EXACT_CARDINALITY}
            }
        elif metric.op == "values":
            aggs["values_" + metric.field] = {
                "terms": {"field": metric.field, "size": MAX_VALUES, "order": {"_key": "asc"}}
            }
        else:  # one stats aggregation answers sum, avg, min and max of a field
            aggs["stats_" + metric.field] = {"stats": {"field": metric.field}}
    return aggs


def _group_body(schema: IndexSchema, request: GroupQuery, windows: list[Window]) -> dict[str, Any]:
    query = _es_query(schema, request.query)
    query["bool"]["filter"].append(_range(request.date_field, *span(windows)))
    per_window: dict[str, Any] = {
        "filters": {
            "filters": {f"w{i}": _range(request.date_field, w.gte, w.lt) for i, w in enumerate(windows)}
        }
    }
    metric_aggs = _metric_aggs(request)
    if metric_aggs:
        per_window["aggs"] = metric_aggs
    if request.group_by is None:
        aggs: dict[str, Any] = {"w": per_window}
    elif request.keys is not None:
        aggs = {"g": {"terms": {"field": request.group_by, "include": list(request.keys),
                                "size": len(request.keys)}, "aggs": {"w": per_window}}}
    elif request.min_count > 1:
        # Only keys with enough documents: a terms aggregation with min_doc_count filters them on
        # the server, where composite would return every key, page after page. Its pages are
        # hash partitions of the keys (see _partitions). Over the windows' span, a key's count is
        # at least its count in any one window, so no key that qualifies is lost. Exact on a
        # single-shard index (ensure_index makes one); shard_min_doc_count would drop a key
        # whose documents are spread over several shards.
        part, parts = _partitions(request.after)[0]
        terms: dict[str, Any] = {"field": request.group_by, "min_doc_count": request.min_count,
                                 "shard_min_doc_count": request.min_count, "size": request.size + 1,
                                 "order": {"_key": "asc"}}  # one more than a page: says "there are more"
        if parts > 1:
            terms["include"] = {"partition": part, "num_partitions": parts}
        aggs = {"g": {"terms": terms, "aggs": {"w": per_window}}}
    else:
        # Composite pages through every key in key order, which terms cannot; the minimum count
        # is applied to the returned buckets (bucket_selector needs painless, absent here).
        composite: dict[str, Any] = {"size": request.size,
                                     "sources": [{"k": {"terms": {"field": request.group_by}}}]}
        if request.after is not None:
            composite["after"] = {"k": request.after}
        aggs = {"g": {"composite": composite, "aggs": {"w": per_window}}}
    return {"query": query, "size": 0, "aggs": aggs}


_PARTITIONED = "p:"  # cursor of the min_doc_count path: the hash partitions still to read
_SPLIT = 8
# A page size's worth of qualifying keys in one of 262,144 hash partitions is past any real use.
_MAX_PARTITIONS = 8**6


def _partitions(after: str | None) -> list[tuple[int, int]]:
    """The partitions (number, of how many) still to read, first one first. Partition p of k
    holds the keys whose hash is p modulo k, so it splits exactly into p + i*k of k*8."""
    if after is None:
        return [(0, 1)]
    if not after.startswith(_PARTITIONED):
        raise ValueError("after: not a cursor of this request")
    return [(int(p), int(k)) for p, k in (item.split("/") for item in after[len(_PARTITIONED):].split(","))]


def _cursor(parts: list[tuple[int, int]]) -> str | None:
    return _PARTITIONED + ",".join(f"{p}/{k}" for p, k in parts) if parts else None


def _metric_value(bucket: dict[str, Any], op: str, field_name: str) -> Any:
    if op == "cardinality":
        return int(bucket["card_" + field_name]["value"])
    if op == "values":
        return [b["key"] for b in bucket["values_" + field_name]["buckets"]]
    stats = bucket["stats_" + field_name]
    if op == "sum":
        return float(stats["sum"]) if stats["count"] else 0.0
    value = stats[op]
    return None if value is None or not stats["count"] else float(value)


class _GroupParser:
    def __init__(self, request: GroupQuery, windows: list[Window]):
        self.request, self.windows = request, windows

    def group(self, key: str | None, w: dict[str, Any]) -> Group | None:
        buckets = w["buckets"]
        counts = {window.name: int(buckets[f"w{i}"]["doc_count"]) for i, window in enumerate(self.windows)}
        if max(counts.values()) < self.request.min_count:
            return None  # most keys of a composite page: skip before reading their metrics
        metrics = {window.name: {m.key: _metric_value(buckets[f"w{i}"], m.op, m.field) for m in self.request.metrics}
                   for i, window in enumerate(self.windows)}
        return Group(key, counts, metrics)

    def __call__(self, response: dict[str, Any]) -> GroupPage:
        aggs = response["aggregations"]
        if self.request.group_by is None:
            only = self.group(None, aggs["w"])
            return GroupPage([only] if only else [], None)
        buckets = aggs["g"]["buckets"]
        groups = []
        for bucket in buckets:
            key = bucket["key"]["k"] if isinstance(bucket["key"], dict) else bucket["key"]
            group = self.group(key, bucket["w"])
            if group is not None:
                groups.append(group)
        if self.request.keys is not None:
            groups.sort(key=lambda g: g.key or "")
            return GroupPage(groups, None)
        if "after_key" not in aggs["g"] and self.request.min_count > 1:  # the min_doc_count path
            (part, parts), rest = _partitions(self.request.after)[0], _partitions(self.request.after)[1:]
            if len(buckets) > self.request.size and parts < _MAX_PARTITIONS:
                # The partition may hold more keys than a page: read its eight sub-partitions
                # instead (an empty page that is not the last, as the contract allows).
                return GroupPage([], _cursor([(part + i * parts, parts * _SPLIT) for i in range(_SPLIT)] + rest))
            return GroupPage(groups[:self.request.size], _cursor(rest))
        full_page = len(buckets) == self.request.size
        return GroupPage(groups, aggs["g"]["after_key"]["k"] if full_page else None)


def _parse_hits(response: dict[str, Any]) -> SearchResult:
    hits = response["hits"]
    return SearchResult(total=hits["total"]["value"], hits=[dict(h["_source"]) for h in hits["hits"]])
