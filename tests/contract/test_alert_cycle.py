"""Every rule type, end to end on SQLite FTS5 and on Elasticsearch: a seeded stream, evaluation
cycles minute by minute in simulated time, and the alerts table. Each fires exactly the expected
alerts, once, with the right severity; after the analyst's verdict the same condition within the
re-alert window is held back (recorded as a suppression), not raised again."""

from __future__ import annotations

from datetime import timedelta

from tests.contract.alert_harness import Deployment, Doc, deployment, minute, rule  # noqa: F401

P1, P2, P3 = "+8613800000001", "+8613800000002", "+8613800000003"


def held_back(d: Deployment, rule_id: str, key: str) -> int:
    return d.suppressions(rule_id).get((key, "realert"), 0)


def test_frequency_with_tier_thresholds(deployment: Deployment) -> None:
    r = rule("""
id: burst
type: frequency
severity: {high: critical, medium: high, low: medium}
filter: {match: {kind: scam}}
group_by: ident_phone
window: 10m
threshold: {high: 3, medium: 5, low: 8}
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
summary_fields: [region]
""")
    d = Doc()
    docs = [d(m, ident_phone=[P1], tier="high", region="深圳") for m in (2, 3, 4)]
    docs += [d(m, ident_phone=[P2], tier="low") for m in (2, 3, 4)]  # low tier: 3 is not enough
    docs += [d(2 + i / 4, ident_phone=[P3], region="东莞") for i in range(8)]  # untiered: as low, 8
    docs += [d(m, ident_phone=[P1], tier="high") for m in (20, 21, 22)]  # the same burst again, later
    deployment.index(docs)
    deployment.run_minutes([r], 1, 14)
    first, third = sorted(deployment.alerts(), key=lambda a: a.group_key)
    assert (first.group_key, first.severity, first.tier, first.opened_at) == (P1, "critical", "high", minute(5))
    assert (third.group_key, third.severity, third.tier, third.opened_at) == (P3, "medium", None, minute(4))
    assert (first.report_count, first.state, third.report_count) == (3, "cleared", 8)
    assert first.summary["zh"] == "10 分钟内 3 份举报涉及 +8613800000001；深圳"
    deployment.act(first.id, "resolve", 14, label_reports="leave")
    deployment.run_minutes([r], 15, 30)
    assert sorted(a.id for a in deployment.alerts()) == sorted([first.id, third.id])
    assert held_back(deployment, "burst", P1) == 8  # ends 23 to 30: all three reports in the window
    assert deployment.events(first.id).count("opened") == 1
    assert deployment.runs("burst") == [minute(m) for m in range(1, 31)]


def test_spike_against_the_window_before(deployment: Deployment) -> None:
    r = rule("""
id: wave
type: spike
severity: high
group_by: region
window: 10m
ratio: 3
min_current: 3
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""")
    d = Doc()
    docs = [d(1, region="汕尾")] + [d(m, region="汕尾") for m in range(12, 18)]
    docs += [d(m, region="广州") for m in (1, 2, 3, 12, 13, 14)]  # steady: never 3x
    docs += [d(30, region="汕尾")] + [d(m, region="汕尾") for m in range(41, 47)]
    deployment.index(docs)
    deployment.run_minutes([r], 1, 24)
    [wave] = deployment.alerts()
    assert (wave.group_key, wave.severity, wave.opened_at, wave.state) == ("汕尾", "high", minute(15), "cleared")
    # minute 12 slides into the reference window at 23: 5 against 1 once more, so the cleared
    # alert is reopened (not raised again), then clears at 24
    assert wave.counts == {"current": 5, "reference": 1}
    assert deployment.events(wave.id) == ["opened", "cleared", "reopened", "cleared"]
    deployment.act(wave.id, "resolve", 25, label_reports="leave")
    deployment.run_minutes([r], 25, 50)
    assert [a.id for a in deployment.alerts()] == [wave.id]
    assert held_back(deployment, "wave", "汕尾") >= 1


def test_new_term_against_its_own_look_back(deployment: Deployment) -> None:
    r = rule("""
id: new-app
type: new_term
severity: medium
filter: {match: {kind: scam}}
field: app
window: 10m
lookback: 30m
min_count: 2
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""")
    d = Doc()
    docs = [d(-20, app="旧应用"), d(5, app="旧应用"), d(6, app="旧应用")]  # seen in the look-back
    docs += [d(5, app="新应用"), d(6, app="新应用"), d(6, app="独苗")]  # 独苗: once, below min_count
    docs += [d(-20, app="别处", kind="incident"), d(5, app="别处"), d(6, app="别处")]  # look-back uses this rule's filter
    docs += [d(50, app="新应用"), d(51, app="新应用")]  # new again after 30 minutes
    deployment.index(docs)
    deployment.run_minutes([r], 1, 19)
    alerts = {a.group_key: a for a in deployment.alerts()}
    assert set(alerts) == {"新应用", "别处"}
    assert (alerts["新应用"].opened_at, alerts["新应用"].severity, alerts["新应用"].state) == (minute(7), "medium", "open")
    deployment.act(alerts["新应用"].id, "resolve", 20, label_reports="leave")
    deployment.run_minutes([r], 20, 55)
    assert {a.group_key for a in deployment.alerts()} == {"新应用", "别处"}
    assert held_back(deployment, "new-app", "新应用") >= 1


def test_cardinality_of_regions_per_number(deployment: Deployment) -> None:
    r = rule("""
id: many-regions
type: cardinality
severity: high
group_by: ident_phone
distinct_field: region
threshold: 3
window: 10m
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""")
    d = Doc()
    docs = [d(m, ident_phone=[P1], region=c) for m, c in ((1, "广州"), (2, "深圳"), (3, "东莞"))]
    docs += [d(m, ident_phone=[P2], region=c) for m, c in ((1, "广州"), (2, "广州"), (3, "深圳"))]
    docs += [d(m, ident_phone=[P1], region=c) for m, c in ((20, "佛山"), (21, "珠海"), (22, "中山"))]
    deployment.index(docs)
    deployment.run_minutes([r], 1, 14)
    [alert] = deployment.alerts()
    assert (alert.group_key, alert.opened_at, alert.value, alert.state) == (P1, minute(4), 3.0, "cleared")
    deployment.act(alert.id, "resolve", 15, label_reports="leave")
    deployment.run_minutes([r], 15, 30)
    assert [a.id for a in deployment.alerts()] == [alert.id]
    assert held_back(deployment, "many-regions", P1) >= 1


def test_threshold_per_report_with_each_reports_tier(deployment: Deployment) -> None:
    r = rule("""
id: sure-scam
type: threshold
severity: {high: critical, medium: high, low: medium}
field: scam_probability
above: 0.9
group_by: ident_phone
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""")
    d = Doc()
    docs = [d(2.5, ident_phone=[P1], scam_probability=0.95, tier="high"), d(2.5, ident_phone=[P2], scam_probability=0.5),
            d(3.5, ident_phone=[P3], scam_probability=0.92), d(20.5, ident_phone=[P1], scam_probability=0.97)]
    deployment.index(docs)
    deployment.run_minutes([r], 1, 9)
    alerts = {a.group_key: a for a in deployment.alerts()}
    assert {k: (a.severity, a.opened_at, a.report_count) for k, a in alerts.items()} == {
        P1: ("critical", minute(3), 1), P3: ("medium", minute(4), 1)}
    deployment.act(alerts[P1].id, "resolve", 10, label_reports="leave")
    deployment.run_minutes([r], 10, 25)
    assert {a.group_key for a in deployment.alerts()} == {P1, P3}
    assert held_back(deployment, "sure-scam", P1) == 1  # one more report, held back once
    assert alerts[P3].state == "open"  # a report stays above its bound: never cleared


def test_per_report_rule_grouped_by_a_field_makes_one_alert_of_reports_in_one_step(deployment: Deployment) -> None:
    # Several reports of one key in the same window end (and in the stream's inbox) open one
    # alert that lists them, not one insert per report (the live key is unique).
    r = rule("""
id: sure-video
type: threshold
severity: medium
filter: {match: {channel: video_call}}
field: scam_probability
above: 0.9
group_by: scam_type
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""")
    d = Doc()
    docs = [d(2.2 + i / 10, channel="video_call", scam_type="impersonate_acquaintance", scam_probability=0.95)
            for i in range(3)]
    docs += [d(2.6, channel="video_call", scam_type="loan_credit", scam_probability=0.99), d(4.5, channel="video_call",
             scam_type="impersonate_acquaintance", scam_probability=0.97)]
    deployment.index(docs)
    deployment.run_minutes([r], 1, 6)
    alerts = {a.group_key: a for a in deployment.alerts()}
    assert {k: (a.opened_at, a.report_count, a.match_count) for k, a in alerts.items()} == {
        "impersonate_acquaintance": (minute(3), 4, 4), "loan_credit": (minute(3), 1, 1)}


def test_metric_sum_per_number(deployment: Deployment) -> None:
    r = rule("""
id: losses
type: metric
severity: high
metric: {op: sum, field: amount_lost}
above: 10000
group_by: ident_phone
window: 10m
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""")
    d = Doc()
    docs = [d(1, ident_phone=[P1], amount_lost=6000.0), d(2, ident_phone=[P1], amount_lost=6000.0),
            d(1, ident_phone=[P2], amount_lost=5000.0), d(20, ident_phone=[P1], amount_lost=8000.0),
            d(21, ident_phone=[P1], amount_lost=8000.0)]
    deployment.index(docs)
    deployment.run_minutes([r], 1, 14)
    [alert] = deployment.alerts()
    assert (alert.group_key, alert.opened_at, alert.value, alert.state) == (P1, minute(3), 12000.0, "cleared")
    deployment.act(alert.id, "resolve", 15, label_reports="leave")
    deployment.run_minutes([r], 15, 30)
    assert [a.id for a in deployment.alerts()] == [alert.id]
    assert held_back(deployment, "losses", P1) >= 1


def test_flatline_of_an_expected_feed(deployment: Deployment) -> None:
    r = rule("""
id: feed-silent
type: flatline
severity: high
filter: {match: {reporter_type: partner_feed}}
group_by: source
expect: [feed-a, feed-b]
window: 10m
threshold: 1
schedule: {every: 1m, buffer: 0}
realert: {after: 1h}
""")
    d = Doc()
    feed = {"reporter_type": "partner_feed"}
    docs = [d(m + 0.5, source="feed-a", **feed) for m in range(0, 46)]
    docs += [d(m + 0.5, source="feed-b", **feed) for m in range(0, 6)] + [d(25.5, source="feed-b", **feed)]
    deployment.index(docs)
    deployment.run_minutes([r], 1, 26)
    [alert] = deployment.alerts()
    assert (alert.group_key, alert.opened_at, alert.state, alert.cleared_at) == ("feed-b", minute(16), "cleared", minute(26))
    deployment.act(alert.id, "resolve", 27, label_reports="leave")
    deployment.run_minutes([r], 27, 40)
    assert [a.id for a in deployment.alerts()] == [alert.id]
    assert held_back(deployment, "feed-silent", "feed-b") >= 1


def test_five_hundred_reports_in_a_minute_make_one_alert_listing_them_all(deployment: Deployment) -> None:
    r = rule("""
id: flood
type: frequency
severity: critical
group_by: ident_phone
window: 10m
threshold: 50
schedule: {every: 1m, buffer: 0}
summary_fields: [region, ai_technique]
""")
    d = Doc()
    regions = ["深圳", "东莞", "广州"]
    deployment.index([d(3 + i / 600, ident_phone=[P1], region=regions[i % 3],
                        **({"ai_technique": "cloned_voice"} if i % 5 == 0 else {})) for i in range(500)])
    deployment.run_minutes([r], 1, 10)
    [alert] = deployment.alerts()
    assert (alert.report_count, alert.match_count, alert.opened_at) == (500, 7, minute(4))
    with deployment.sessions() as s:
        from tierwatch.monitoring.alerts.models import AlertReport

        assert s.query(AlertReport).filter_by(alert_id=alert.id).count() == 500
    assert alert.summary["en"] == "500 reports in 10 min about +8613800000001, 100 mention a cloned voice; 东莞, 深圳, 广州"
    assert deployment.suppressions("flood") == {(P1, "aggregated"): 6}  # matches merged into the alert
    assert deployment.runs("flood")[-1] - deployment.runs("flood")[0] == timedelta(minutes=9)


def test_a_cleared_alert_is_reopened_or_superseded(deployment: Deployment) -> None:
    r = rule("""
id: comeback
type: frequency
severity: high
group_by: ident_phone
window: 5m
threshold: 2
schedule: {every: 1m, buffer: 0}
realert: {after: 10m}
reopen_within: 10m
""")
    d = Doc()
    deployment.index([d(m, ident_phone=[P1]) for m in (1, 2, 9, 10, 40, 41)])
    deployment.run_minutes([r], 1, 45)
    first, second = deployment.alerts()
    # 1-2: opened; quiet at 8 -> cleared; back at 11 (within 10 min) -> the same alert reopened;
    # cleared at 16; back at 42, long after: a new alert, the cleared one closed as superseded
    assert deployment.events(first.id) == ["opened", "cleared", "reopened", "cleared", "resolved"]
    assert (first.state, first.verdict, first.reopen_count) == ("resolved", "superseded", 1)
    assert (second.state, second.opened_at) == ("open", minute(42))


def test_a_failing_rule_is_marked_retried_with_backoff_and_does_not_stop_the_others(deployment: Deployment) -> None:
    from dataclasses import replace

    import sqlalchemy as sa

    from tierwatch.core.search import SearchQuery
    from tierwatch.monitoring.alerts.models import AlertRuleState, AlertRun

    text = """
id: good
type: frequency
severity: high
group_by: ident_phone
window: 10m
threshold: 2
schedule: {every: 1m, buffer: 0}
"""
    good = rule(text)
    # A rule whose request the engine refuses (here a field the index does not have; the loader
    # would not let such a file in, an index changed under a running rule would).
    broken = replace(rule(text.replace("id: good", "id: broken")), filter=SearchQuery(filters={"no_such_field": "x"}))
    d = Doc()
    deployment.index([d(m, ident_phone=[P1]) for m in (1, 2)])
    deployment.run_minutes([good, broken], 1, 16)
    [alert, failing] = deployment.alerts()
    assert (alert.rule_id, alert.group_key, alert.opened_at) == ("good", P1, minute(3))
    assert deployment.runs("good") == [minute(m) for m in range(1, 17)]  # never held up
    with deployment.sessions() as s:
        errors = list(s.scalars(sa.select(AlertRun.at).where(AlertRun.rule_id == "broken", AlertRun.error.isnot(None))))
        state = s.get(AlertRuleState, "broken")
        assert state is not None and state.evaluated_until is None and state.errors_in_a_row == 5
        assert "no_such_field" in (state.last_error or "")
    assert errors == [minute(m) for m in (1, 2, 4, 8, 16)]  # retried after 1, 2, 4, 8 cycles
    assert (failing.rule_id, failing.group_key, failing.severity) == ("system.rule-failing", "broken", "high")


def test_a_report_arriving_within_the_buffer_is_still_counted(deployment: Deployment) -> None:
    text = """
id: late
type: threshold
severity: high
field: amount_lost
above: 1000
group_by: ident_phone
schedule: {every: 1m, buffer: 2m}
"""
    waits, hurries = rule(text), rule(text.replace("id: late", "id: no-wait").replace("buffer: 2m", "buffer: 0"))
    d = Doc()
    deployment.index([d(0.5, ident_phone=[P2], amount_lost=10.0)])
    deployment.run_minutes([waits, hurries], 1, 6)  # with the buffer, ends up to minute 4 are done
    deployment.index([d(4.5, ident_phone=[P1], amount_lost=5000.0)])  # reported at 4:30, arrives after 6:00
    deployment.run_minutes([waits, hurries], 7, 8)
    # the rule with a buffer evaluates the minute 4-5 only at 7: the late report is in it (the
    # alert is stamped with its window's end, 5:00); the other one had evaluated that minute at
    # 5, before the report arrived (its stream path would have caught it in the worker)
    assert [(a.rule_id, a.group_key, a.opened_at) for a in deployment.alerts()] == [("late", P1, minute(5))]


def test_a_cycle_catching_up_decides_as_cycles_minute_by_minute(deployment: Deployment) -> None:
    # A live alert that matches again is written in place (one statement for all of them); one
    # that then clears in the same cycle is loaded and written whole. Two copies of one rule:
    # one evaluated minute by minute, one catching up four ends in a single cycle (fewer than
    # the five minutes after which a live alert looks for new reports and is loaded anyway).
    text = """
id: {id}
type: frequency
severity: high
group_by: ident_phone
window: 5m
threshold: 3
schedule: {{every: 1m, buffer: 0}}
clear_after: 1m
"""
    each, behind = rule(text.format(id="each")), rule(text.format(id="behind"))
    d = Doc()
    deployment.index([d(m, ident_phone=[P1]) for m in (2, 3, 4)])
    deployment.run_minutes([each], 1, 9)
    deployment.cycle([behind], minute(5))
    result = deployment.cycle([behind], minute(9))
    assert [end for rule_id, end in result.evaluated] == [minute(m) for m in range(6, 10)]
    a, b = deployment.alerts("each")[0], deployment.alerts("behind")[0]
    columns = ("state", "severity", "value", "threshold", "counts", "reason", "window_start", "window_end",
               "first_match_at", "last_match_at", "match_count", "report_count", "opened_at", "cleared_at",
               "condition_false_since", "linked_until")
    assert {c: getattr(b, c) for c in columns} == {c: getattr(a, c) for c in columns}
    assert (b.state, b.opened_at, b.cleared_at) == ("cleared", minute(5), minute(9))
    assert b.match_count >= 2 and b.last_match_at > minute(5)  # it matched again before clearing
    assert deployment.events(b.id) == deployment.events(a.id) == ["opened", "cleared"]
