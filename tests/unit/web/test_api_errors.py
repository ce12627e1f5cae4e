"""What a newcomer hit with the API (issue 11, item 7): every failure is a JSON 4xx, never HTML,
never a 500, and Chinese comes back readable."""

from __future__ import annotations

import io

import pytest

MiB = 1024 * 1024


def test_unknown_api_routes_answer_json_404(client):
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code == 404 and response.is_json and response.get_json()["error"] == "not_found"
    assert client.get("/api/v2/applications").is_json


def test_a_wrong_method_answers_json_405_with_allow(client):
    response = client.put("/api/v1/reports/scam", json={})
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


class CountingStream(io.BytesIO):
    """A request body that counts what the server reads of it."""

    read_total = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        CountingStream.read_total += len(chunk)
        return chunk


@pytest.mark.parametrize("path", ["/api/v1/reports/scam", "/api/v1/applications", "/api/v1/rulesets/validate"])
def test_a_5_mb_body_is_refused_413_before_it_is_read(client, tokens, path):
    body = b'{"description": "' + b"x" * (5 * MiB) + b'"}'
    CountingStream.read_total = 0
    response = client.post(path, input_stream=CountingStream(body), content_length=len(body),
                           content_type="application/json", headers=tokens["admin"])
    assert response.status_code == 413 and response.get_json()["error"] == "request_entity_too_large"
    assert CountingStream.read_total == 0


@pytest.mark.parametrize("path", ["/api/v1/reports/scam", "/api/v1/reports/bulk", "/api/v1/applications",
                                  "/api/v1/labels", "/api/v1/auth/tokens"])
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_100000_levels_is_a_422(client, tokens, path, depth):
    body = '{"a":' * depth + "1" + "}" * depth
    response = client.post(path, data=body, content_type="application/json", headers=tokens["admin"])
    assert response.status_code == 422, response.get_data(as_text=True)[:200]
    assert response.get_json()["errors"][0]["field"] == "(body)"


@pytest.mark.parametrize("path", ["/api/v1/applications/{}", "/api/v1/companies/{}", "/api/v1/applications/{}/tiers",
                                  "/api/v1/applications/1/versions/{}", "/api/v1/tasks/{}/complete"])
@pytest.mark.parametrize("number", [2**31, 2**63, 2**64 + 1, 10**40])
def test_ids_beyond_what_id_columns_hold_are_a_json_404(client, tokens, path, number):
    method = "POST" if path.endswith("complete") else "GET"
    response = client.open(path.format(number), method=method, json={}, headers=tokens["admin"])
    assert response.status_code == 404 and response.is_json


@pytest.mark.parametrize("query", [{"company_id": str(2**31)}, {"limit": "9" * 30}, {"offset": str(10**12)},
                                   {"limit": "١٢"}, {"company_id": "-1"}])
def test_numbers_in_query_strings_are_checked_too(client, tokens, query):
    response = client.get("/api/v1/applications", query_string=query, headers=tokens["admin"])
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == next(iter(query))


def test_nul_characters_never_reach_the_database(client, tokens):
    body = client.post("/api/v1/reports/scam", json={"description": "a\x00b", "channel": "phone"})
    assert body.status_code == 422 and body.get_json()["errors"] == [
        {"field": "description", "message": "must not contain NUL characters (\\u0000)"}]
    url = client.get("/api/v1/applications?q=%00", headers=tokens["admin"])
    assert url.status_code == 400 and url.is_json
    assert client.get("/report%00").status_code == 400


def test_chinese_in_json_answers_is_utf8_not_escapes(client, tokens):
    me = client.get("/api/v1/companies", headers=tokens["a"])
    assert "深圳市腾讯计算机系统有限公司".encode() in me.data and b"\\u" not in me.data
    assert me.headers["Content-Type"] == "application/json"


def test_bad_json_is_a_field_level_422(client):
    response = client.post("/api/v1/reports/scam", data="{not json", content_type="application/json")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "(body)"


def test_a_whole_float_is_an_integer_as_json_schema_says(client, tokens):
    incident = {"app_name": "粤智客服助手", "occurred_at": "2026-03-01T08:00:00+08:00", "incident_type": "outage",
                "severity": "medium", "description": "服务中断两小时"}
    whole = client.post("/api/v1/reports/incident", json={**incident, "affected_users": 332.0}, headers=tokens["a"])
    assert whole.status_code == 202
    half = client.post("/api/v1/reports/incident", json={**incident, "affected_users": 332.5}, headers=tokens["a"])
    assert half.status_code == 422 and half.get_json()["errors"][0]["field"] == "affected_users"
