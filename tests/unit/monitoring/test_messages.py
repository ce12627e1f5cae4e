"""Message schemas: strict validation with readable reasons, stable wire form."""

from __future__ import annotations

import json

import pytest

from tierwatch.monitoring.messages import (
    MAX_MESSAGE_BYTES,
    InvalidMessage,
    ScamReport,
    parse_report,
    to_bytes,
    tracking_code_for,
    validate_report,
)

SCAM = {
    "schema_version": 1,
    "report_id": "r-2026-000001",
    "kind": "scam",
    "description": "自称公安民警来电，说我涉嫌洗钱，要求转账到安全账户。",
    "channel": "phone",
    "identifiers": {"phones": ["+86 138 0013 8000"]},
    "amount_lost": 5000,
    "ai_technique": "cloned_voice",
    "region": "广东",
    "reported_at": "2026-03-01T10:00:00+08:00",
    "reporter_contact": {"phone": "13900000000"},
}
INCIDENT = {
    "report_id": "inc-2026-000001",
    "kind": "incident",
    "app_name": "粤智客服助手",
    "occurred_at": "2026-03-01T08:00:00+08:00",
    "incident_type": "data_leak",
    "severity": "high",
    "affected_users": 1200,
    "description": "对话记录接口未鉴权，部分用户对话被外部访问。",
    "measures": "已下线接口并通知受影响用户。",
    "reported_at": "2026-03-01T10:00:00+08:00",
}


def raw(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def reason(data: bytes, kind: str | None = "scam") -> str:
    with pytest.raises(InvalidMessage) as exc:
        parse_report(data, kind)
    return exc.value.reason


def test_valid_reports_parse_and_round_trip():
    scam = parse_report(raw(SCAM), "scam")
    assert isinstance(scam, ScamReport)
    assert scam.amount_lost == 5000.0 and scam.channel.value == "phone"
    assert parse_report(to_bytes(scam), "scam") == scam
    incident = parse_report(raw(INCIDENT))  # kind taken from the message
    assert incident.kind == "incident" and incident.affected_users == 1200


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"report_id": ', "bad JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (raw({**SCAM, "amount_lost": "5000"}), "amount_lost: Input should be a valid number"),
        (raw({**SCAM, "affected": 1}), "affected: Extra inputs are not permitted"),
        (raw({k: v for k, v in SCAM.items() if k != "channel"}), "channel: Field required"),
        (raw({**SCAM, "channel": "pigeon"}), "channel: Input should be"),
        (raw({**SCAM, "reported_at": "2026-03-01T10:00:00"}), "reported_at: Input should have timezone info"),
        (raw({**SCAM, "report_id": "x"}), "report_id: String should match pattern"),
        (raw({**SCAM, "schema_version": 2}), "schema_version: Input should be 1"),
        (raw({**SCAM, "amount_lost": -1}), "amount_lost: Input should be greater than or equal to 0"),
        (raw([SCAM]), "(message): Input should be an object"),
        (raw({**SCAM, "kind": "incident"}), "kind: Input should be 'scam'"),
    ],
)
def test_invalid_messages_say_what_is_wrong(data, expected):
    assert expected in reason(data)


def test_oversized_payload_is_refused_before_parsing():
    big = raw({**SCAM, "description": "诈" * (MAX_MESSAGE_BYTES // 3 + 10)})
    assert reason(big).startswith("too large:")


def test_a_message_without_kind_needs_the_topic_to_say_it():
    data = {k: v for k, v in SCAM.items() if k != "kind"}
    assert parse_report(raw(data), "scam").kind == "scam"
    assert "discriminator" in reason(raw(data), None)


def test_api_validation_gives_field_errors():
    with pytest.raises(InvalidMessage) as exc:
        validate_report({**INCIDENT, "severity": "apocalyptic", "affected_users": "many"}, "incident")
    fields = {e["field"] for e in exc.value.errors}
    assert fields == {"severity", "affected_users"}


def test_reporter_contact_never_shows_in_repr():
    scam = parse_report(raw(SCAM), "scam")
    assert "13900000000" not in repr(scam)


def test_tracking_code_is_stable_and_readable():
    key = b"k" * 32
    code = tracking_code_for("r-2026-000001", key)
    assert code == tracking_code_for("r-2026-000001", key)
    assert code != tracking_code_for("r-2026-000002", key)
    assert code.startswith("TW-") and len(code) == 13
    assert not set(code[3:]) & set("01IO")


def test_tracking_code_needs_the_key():
    """Knowing a report id is not enough to follow the report: the code depends on the key, and
    is not the unkeyed hash of the id it used to be."""
    import hashlib

    from tierwatch.monitoring.messages import _CODE_PAIRS

    key, other = b"k" * 32, b"o" * 32
    assert tracking_code_for("r-2026-000001", key) != tracking_code_for("r-2026-000001", other)
    n = int.from_bytes(hashlib.blake2b(b"r-2026-000001", digest_size=8).digest(), "big")
    unkeyed = "TW-" + "".join(_CODE_PAIRS[n >> s & 1023] for s in (0, 10, 20, 30, 40))
    assert tracking_code_for("r-2026-000001", key) != unkeyed
    with pytest.raises(ValueError, match="tracking key"):
        tracking_code_for("r-2026-000001", b"")


@pytest.mark.parametrize(("count", "ok"), [(332.0, True), (332, True), (332.5, False), ("332", False),
                                           (1e11, False)])
def test_a_whole_float_is_an_integer_as_in_json_schema(count, ok) -> None:  # type: ignore[no-untyped-def]
    raw = json.dumps({**INCIDENT, "affected_users": count}).encode()
    if ok:
        assert parse_report(raw).affected_users == 332
    else:
        with pytest.raises(InvalidMessage, match="affected_users"):
            parse_report(raw)
