"""Alert decisions over a sequence of window ends: one alert per burst, re-alert windows that
grow, pending periods that absorb flaps, clearing and reopening, silences — every held-back
match with its reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tierwatch.monitoring.alerts.lifecycle import AlertState, Change, Silence, apply, step
from tierwatch.monitoring.alerts.model import AlertRule, Schedule, Text
from tierwatch.monitoring.alerts.schedule import aligned_end, due_ends, latest_end
from tierwatch.monitoring.alerts.types import Match
from tests.unit.monitoring.alerts.test_types import rule

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def match(r: AlertRule, key: str | None, at: datetime, value: float = 10) -> Match:
    return Match(r.id, key, at - timedelta(hours=2), at, value, 5, None, "high", Text("z", "e"))


class Replay:
    """What the store does, in memory: keeps the latest alert per key and a log of changes."""

    def __init__(self, r: AlertRule, silences: list[Silence] | None = None):
        self.rule, self.silences = r, silences or []
        self.latest: dict[str | None, AlertState] = {}
        self.log: list[tuple[int, Change]] = []
        self.ids = iter(range(1, 1000))

    def at(self, minute: int, *keys: str | None, value: float = 10) -> list[Change]:
        now = T0 + minute * MIN
        changes = []
        for change in step(self.rule, now, [match(self.rule, k, now, value) for k in keys], self.latest, self.silences):
            after = apply(self.latest.get(change.key), change, now, next(self.ids))
            if after is not None:
                self.latest[change.key] = after
            self.log.append((minute, change))
            changes.append(change)
        return changes

    def close(self, key: str | None, minute: int, verdict: str = "resolved") -> None:
        self.latest[key] = replace(self.latest[key], state=verdict, closed_at=T0 + minute * MIN)

    def actions(self) -> list[tuple[int, str]]:
        return [(minute, c.action) for minute, c in self.log]


def freq(**options: Any) -> AlertRule:
    return rule("frequency", group_by="ident_phone", window="2h", threshold=5, **options)


def test_one_alert_per_burst_and_reopened_when_it_resumes() -> None:
    replay = Replay(freq(realert={"after": "1h"}))
    for minute in range(10):  # 500 reports in a minute keep matching, with growing counts
        replay.at(minute, "138", value=50 * (minute + 1))
    assert replay.actions() == [(0, "open")] + [(m, "aggregate") for m in range(1, 10)]
    assert {c.alert_id for _, c in replay.log[1:]} == {replay.latest["138"].id}
    assert all(c.reason == "aggregated" for _, c in replay.log[1:])  # recorded as held back
    assert [c.action for c in replay.at(10)] == ["clear"]  # condition false: cleared at once
    assert replay.at(11) == []
    [reopen] = replay.at(40, "138")  # within reopen_within (= realert.after, 1 h)
    assert (reopen.action, reopen.alert_id, reopen.state) == ("reopen", replay.latest["138"].id, "open")


def test_a_closed_alert_holds_new_ones_back_for_the_realert_window() -> None:
    replay = Replay(freq(realert={"after": "1h"}))
    replay.at(0, "138")
    replay.close("138", 5)
    [held] = replay.at(30, "138")
    assert (held.action, held.reason, held.until) == ("suppress", "realert", T0 + 65 * MIN)
    [new] = replay.at(65, "138")
    assert new.action == "open" and new.alert_id is None  # a new alert, not the old one
    # a cleared alert past its reopen window (here = the re-alert window) gives way to a new one
    replay.at(66)
    assert replay.latest["138"].state == "cleared"
    # (the cleared one is closed as superseded first: one live alert per key)
    assert [c.action for c in replay.at(66 + 61, "138")] == ["supersede", "open"]
    assert replay.log[-2][1].alert_id != replay.latest["138"].id


def test_the_realert_interval_doubles_while_alerts_keep_coming() -> None:
    replay = Replay(freq(realert={"after": "10m", "max": "1h"}))
    intervals, minute = [], 0
    for _ in range(5):
        [opened] = [c for c in replay.at(minute, "138") if c.action == "open"]
        intervals.append(opened.realert_interval)
        replay.close("138", minute + 1)
        minute = minute + 1 + int(replay.latest["138"].realert_interval / MIN)  # as soon as allowed
    assert intervals == [timedelta(minutes=m) for m in (10, 20, 40, 60, 60)]
    replay.close("138", minute)
    [later] = [c for c in replay.at(minute + 600, "138") if c.action == "open"]
    assert later.realert_interval == timedelta(minutes=10)  # a long quiet resets it


def test_pending_absorbs_a_flap_and_opens_once_the_condition_holds() -> None:
    replay = Replay(freq(pending="5m"))
    assert [c.action for c in replay.at(0, "138")] == ["pend"]
    [flap] = replay.at(1)
    assert (flap.action, flap.reason, flap.state) == ("withdraw", "pending_not_sustained", "withdrawn")
    assert [c.action for c in replay.at(2, "138")] == ["pend"]  # a flap holds nothing back
    for minute in range(3, 7):
        assert [c.action for c in replay.at(minute, "138")] == ["aggregate"]
    [promoted] = replay.at(7, "138")  # held for 5 minutes
    assert (promoted.action, promoted.state) == ("promote", "open")


def test_clear_after_waits_and_a_match_resets_the_wait() -> None:
    replay = Replay(freq(clear_after="10m"))
    replay.at(0, "138")
    assert [c.action for c in replay.at(1)] == ["false_since"]
    assert replay.at(5) == []
    replay.at(6, "138")  # the condition is back: the wait starts again
    assert [c.action for c in replay.at(7)] == ["false_since"]
    assert replay.at(16) == []
    assert [c.action for c in replay.at(17)] == ["clear"]


def test_per_report_and_new_term_alerts_do_not_clear() -> None:
    replay = Replay(rule("new_term", field="app", lookback="30d"))
    replay.at(0, "币安达")
    assert replay.at(1) == [] and replay.latest["币安达"].state == "open"


def test_silences_cover_a_rule_or_one_key_until_they_expire() -> None:
    r = freq()
    key_silence = Silence(7, r.id, "138", T0, T0 + 30 * MIN)
    replay = Replay(r, [key_silence, Silence(8, "other-rule", None, T0, T0 + 30 * MIN)])
    changes = replay.at(0, "138", "139")
    assert [(c.key, c.action, c.reason, c.silence_id) for c in changes] == [
        ("138", "suppress", "silence", 7), ("139", "open", None, None)]
    assert replay.at(30, "138")[0].action == "open"  # expired


def test_window_ends_are_aligned_and_owed_after_downtime() -> None:
    s = Schedule(every=5 * MIN, buffer=2 * MIN)
    now = datetime(2026, 3, 2, 12, 6, 30, tzinfo=UTC)
    assert latest_end(s, now) == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 12:04:30 floored to 5 min
    assert aligned_end(datetime(2026, 3, 2, 12, 4, 59, tzinfo=UTC), 5 * MIN).minute == 0
    assert due_ends(s, None, now) == [latest_end(s, now)]  # first run: no history
    assert due_ends(s, latest_end(s, now), now) == []  # up to date
    behind = due_ends(s, datetime(2026, 3, 2, 11, 40, tzinfo=UTC), now)
    assert [e.minute for e in behind] == [45, 50, 55, 0]  # nothing skipped
    assert len(due_ends(s, datetime(2026, 3, 1, tzinfo=UTC), now, max_catchup=60)) == 60
    # a watermark off the grid (the schedule changed) continues on the grid
    assert due_ends(s, datetime(2026, 3, 2, 11, 52, tzinfo=UTC), now)[0].minute == 55


def test_cleared_alerts_wait_for_a_verdict_unless_the_rule_resolves_them() -> None:
    waits = Replay(freq(clear_after="0"))
    waits.at(0, "138")
    waits.at(1)
    assert waits.latest["138"].state == "cleared"
    assert waits.at(60 * 24 * 30) == [] and waits.latest["138"].state == "cleared"
    quiet = Replay(freq(clear_after="0", auto_resolve_after="2h"))
    quiet.at(0, "138")
    quiet.at(1)
    assert quiet.at(100) == []  # not yet
    [done] = quiet.at(121)
    assert (done.action, done.state) == ("auto_resolve", "resolved")
    assert quiet.latest["138"].closed_at == T0 + 121 * MIN
    # resolved: the re-alert window now runs from the resolution
    assert quiet.at(122, "138")[0].reason == "realert"


def test_two_matches_of_one_key_in_one_step_make_one_alert() -> None:
    # a per-report rule grouped by a field: two reports of one scam type in the same window end
    r = Replay(freq(clear_after="10m"))
    assert [c.action for c in r.at(1, "k", "k", "j")] == ["open", "aggregate", "open"]
    assert [c.action for c in r.at(2, "k")] == ["aggregate", "false_since"]
