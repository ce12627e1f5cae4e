from collections import Counter

from tierwatch.antifraud.features import Prepared, prepare
from tierwatch.antifraud.training.synth.generate import generate_reports
from tierwatch.antifraud.training.synth.incidents import generate_incidents
from tierwatch.antifraud.vocab import AI_TECHNIQUES, SCAM_TYPES


def test_reports_are_deterministic_varied_and_cover_the_taxonomy():
    a, b = generate_reports(1500, seed=1), generate_reports(1500, seed=1)
    assert [e.report for e in a] == [e.report for e in b]
    assert len({e.report["text"] for e in a}) > 1450
    assert {e.scam_type for e in a if e.is_scam} == set(SCAM_TYPES)
    assert {e.ai_technique for e in a if e.is_scam} == set(AI_TECHNIQUES)
    langs = Counter(e.tags["lang"] for e in a)
    assert langs["en"] > 200 and langs["zh"] > 800
    families = {e.subset for e in a if not e.is_scam}
    assert {"benign:bank_notice", "benign:anti_fraud_warning", "benign:real_customer_service"} <= families
    assert all(isinstance(prepare(e.report), Prepared) for e in a)
    times = [e.report["reported_at"] for e in a]
    assert times == sorted(times)


def test_scam_campaigns_reuse_identifiers():
    reports = generate_reports(800, seed=2)
    phones = Counter(p for e in reports if e.is_scam for p in e.report["identifiers"].get("phone", []))
    assert phones.most_common(1)[0][1] >= 3


def test_incidents_have_every_severity():
    rows = generate_incidents(600, seed=1)
    assert {s for _, s in rows} == {"low", "medium", "high", "critical"}
