"""A scam report may name several AI techniques, an in-person contact and how the money was
paid; every reader of a report (store, index, scorers, detector features) sees all techniques,
older producers' single ``ai_technique`` keeps working, and each report carries a pseudonym of
its reporter."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tierwatch.core.bus.sql import SqlBus
from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.core.search import SearchQuery
from tierwatch.core.search.fts import FtsIndex
from tierwatch.core.settings import IntakeSettings
from tierwatch.monitoring import reporters
from tierwatch.monitoring.indexing import REPORTS_INDEX
from tierwatch.monitoring.intake import Submitter, submission
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.messages import InvalidMessage, parse_report, to_bytes, validate_report
from tierwatch.monitoring.models import Report
from tierwatch.monitoring.scoring import RuleScorer, ScoringInput
from tierwatch.monitoring.worker import Worker
from tests.keyring import new_report_keys

KEY = b"k" * 32
BASE = {"description": "视频里的“领导”让我转账，声音和样子都一样", "channel": "video_call",
        "reported_at": "2026-03-01T10:00:00+08:00"}


def report(n: int, **fields):
    return {"report_id": f"fields-{n:04d}", **BASE, **fields}


def test_several_techniques_are_one_list_and_the_single_field_still_counts():
    both = validate_report(report(1, ai_techniques=["face_swap_video", "cloned_voice"], ai_technique="chatbot"), "scam")
    assert both.techniques == ["face_swap_video", "cloned_voice", "chatbot"]
    old = validate_report(report(2, ai_technique="cloned_voice"), "scam")
    assert old.techniques == ["cloned_voice"]
    assert b"ai_techniques" not in to_bytes(old)  # the wire form older consumers read is unchanged
    assert validate_report(report(3, ai_techniques=["none"]), "scam").techniques == ["none"]
    assert validate_report(report(4, ai_technique="none", ai_techniques=["chatbot"]), "scam").techniques == ["chatbot"]
    for bad in (["chatbot", "chatbot"], ["none", "chatbot"], ["telepathy"]):
        with pytest.raises(InvalidMessage) as refused:
            validate_report(report(5, ai_techniques=bad), "scam")
        assert refused.value.errors[0]["field"].startswith("ai_techniques")


def test_in_person_and_payment_method_are_codes_of_the_strict_schema():
    r = parse_report(json.dumps(report(6, channel="in_person", payment_method="wechat_pay", amount_lost=800)).encode(), "scam")
    assert (r.channel.value, r.payment_method.value) == ("in_person", "wechat_pay")
    with pytest.raises(InvalidMessage, match="payment_method"):
        parse_report(json.dumps(report(7, payment_method="cheque")).encode(), "scam")


def test_the_reporter_key_comes_from_the_intake_never_from_the_body():
    claimed = {**BASE, "reporter_key": "f" * 32}
    anonymous = submission(None, "scam", claimed, Submitter())  # type: ignore[arg-type]
    assert anonymous.reporter_key is None
    known = submission(None, "scam", claimed, Submitter(reporter_key="a" * 32))  # type: ignore[arg-type]
    assert known.reporter_key == "a" * 32


def test_reporter_keys_count_a_person_once_and_reveal_nobody():
    same = [reporters.contact_key({"phone": p}, KEY) for p in ("13800138000", "+86 138-0013-8000", "8613800138000")]
    assert len(set(same)) == 1 and "13800138000" not in same[0]
    assert reporters.contact_key({"email": " Zhang@Example.CN "}, KEY) == reporters.contact_key({"email": "zhang@example.cn"}, KEY)
    assert reporters.contact_key({"name": "张三"}, KEY) is None
    assert reporters.contact_key({"phone": "13800138000"}, b"x" * 32) != same[0]  # another key, another hash
    # IPv6: one /64 is one reporter; IPv4-mapped addresses are the IPv4 address
    assert reporters.address_key("2001:db8:1:2::1", KEY) == reporters.address_key("2001:db8:1:2:ffff::9", KEY)
    assert reporters.address_key("2001:db8:1:3::1", KEY) != reporters.address_key("2001:db8:1:2::1", KEY)
    assert reporters.address_key("::ffff:10.0.0.1", KEY) == reporters.address_key("10.0.0.1", KEY)
    assert reporters.address_key("not an address", KEY) is None
    assert len({reporters.account_key(1, KEY), reporters.account_key(2, KEY), same[0]}) == 3


def test_the_rule_scorer_reads_every_technique_once():
    def score(**kw):
        item = ScoringInput("r", "scam", "你好", None, None, kw.get("one"), None, datetime(2026, 3, 1, tzinfo=UTC), (),
                            ai_techniques=kw.get("many", ()))
        return RuleScorer().score_batch([item], _NoReputation())[0]

    single, several = score(one="cloned_voice"), score(one="cloned_voice", many=("cloned_voice", "face_swap_video"))
    assert several.scam_probability == single.scam_probability  # more techniques, no more points
    assert "face_swap_video" in several.explanation[-1].feature


class _NoReputation:
    def lookup(self, keys, before):
        return {}


@pytest.fixture
def embedded(migrated_sqlite, tmp_path):
    engine = make_engine(migrated_sqlite)
    factory = make_session_factory(engine)
    bus = SqlBus(engine, partitions=1, session_timeout=2.0)
    search = FtsIndex(tmp_path / "search.db")
    settings = IntakeSettings(batch_size=100, poll_timeout=0.05, max_backoff=0.2)
    worker = Worker(bus, search, lambda: UnitOfWork(factory), RuleScorer(), ApplicationLinker(lambda: []),
                    settings, stop=threading.Event(), pseudonym_key=KEY,
                    report_keys=new_report_keys())
    yield bus, search, engine, worker
    search.close()
    engine.dispose()


def test_the_worker_stores_and_indexes_every_technique_and_a_reporter_key(embedded):
    bus, search, engine, worker = embedded
    bus.ensure_topics(["reports.scam"])
    messages = [
        report(10, ai_techniques=["cloned_voice", "face_swap_video"], payment_method="bank_transfer",
               reporter_contact={"phone": "13900139000"}),
        report(11, ai_technique="cloned_voice", source="某银行", reporter_type="partner_feed"),
        report(12, ai_techniques=["chatbot"], reporter_key="c" * 32, reporter_contact={"phone": "13900139000"}),
    ]
    bus.publish_many("reports.scam", [(m["report_id"], json.dumps(m, ensure_ascii=False).encode()) for m in messages])
    worker.run(exit_when_idle=0.3)
    with engine.connect() as conn:
        rows = {r.report_id: r for r in conn.execute(sa.select(Report))}
    assert (rows["fields-0010"].ai_technique, rows["fields-0010"].ai_techniques) == ("cloned_voice", ["cloned_voice", "face_swap_video"])
    assert rows["fields-0010"].payment_method == "bank_transfer"
    assert rows["fields-0010"].reporter_key == reporters.contact_key({"phone": "13900139000"}, KEY)
    assert rows["fields-0011"].reporter_key == reporters.source_key("某银行", KEY)  # no contact: its source
    assert rows["fields-0012"].reporter_key == "c" * 32  # the intake's key wins over the contact
    search.refresh(REPORTS_INDEX)
    assert search.get(REPORTS_INDEX, "fields-0010")["ai_technique"] == ["cloned_voice", "face_swap_video"]
    assert dict(search.terms(REPORTS_INDEX, "ai_technique")) == {"cloned_voice": 2, "face_swap_video": 1, "chatbot": 1}
    assert search.count(REPORTS_INDEX, SearchQuery(filters={"ai_technique": "face_swap_video"})) == 1
    assert len(search.terms(REPORTS_INDEX, "reporter_key")) == 3
