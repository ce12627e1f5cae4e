"""Who hears about an alert, and what the message says. Messages go to the outbox in the
transaction of the alert change; ``delivery.py`` sends them.

Routing happens at alert-event time (opened, reopened, escalated, severity raised, overdue) over
the active subscriptions: minimum severity, rule groups, owners (empty: all). Companies never
subscribe (only analysts, regulators and administrators have subscriptions). Identifiers in
e-mails and webhooks are masked; the console and the API show them in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.monitoring.alerts.models import Alert, AlertSubscription
from tierwatch.monitoring.alerts.summary import masked, masked_summary
from tierwatch.monitoring.alerts.triage import severity_rank
from tierwatch.monitoring.outbox import enqueue, enqueue_latest
from tierwatch.registry.models import REGULATOR_ROLES, User

NOTIFY_EVENTS = ("opened", "reopened", "escalated", "severity_raised", "overdue_ack", "overdue_resolve")
ALERTS_INDEX_TARGET = "alerts"
_EVENT_TEXT = {
    "opened": ("新告警", "new alert"), "reopened": ("告警重新打开", "alert reopened"),
    "escalated": ("告警已升级", "alert escalated"), "severity_raised": ("告警级别提高", "severity raised"),
    "overdue_ack": ("告警超时未确认", "not acknowledged in time"),
    "overdue_resolve": ("告警超时未处理", "not resolved in time"),
}


@dataclass(frozen=True)
class Notifier:
    base_url: str = "http://127.0.0.1:8000"

    def changed(self, session: Session, alert_ids: int | Sequence[int], now: datetime) -> None:
        """The alerts' documents in the alerts index are due again (one pending row per alert)."""
        many = [alert_ids] if isinstance(alert_ids, int) else list(alert_ids)
        enqueue_latest(session, "index", ALERTS_INDEX_TARGET, [(f"index:{i}", {"alert_id": i}) for i in many], now)

    def event(self, session: Session, alert: Alert, event: str, event_id: int, now: datetime) -> int:
        """Queue the notifications of an alert event; returns how many."""
        if event not in NOTIFY_EVENTS:
            return 0
        queued = 0
        for sub, user in self._subscribers(session, alert):
            if sub.digest_only:
                continue
            key = f"notify:{alert.id}:{event_id}:{sub.id}"
            if sub.channel == "email":
                enqueue(session, "email", user.email, key, self.email(alert, event, user.email), now)
            elif sub.endpoint_id is not None:
                enqueue(session, "webhook", str(sub.endpoint_id), key, self.webhook(alert, event), now)
            queued += 1
        return queued

    def _subscribers(self, session: Session, alert: Alert) -> list[tuple[AlertSubscription, User]]:
        rows = session.execute(
            sa.select(AlertSubscription, User).join(User, User.id == AlertSubscription.user_id)
            .where(AlertSubscription.active, User.is_active, User.role.in_(REGULATOR_ROLES))
            .order_by(AlertSubscription.id)).all()
        return [(s, u) for s, u in rows if wants(s, alert)]

    def url(self, alert_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/api/v1/alerts/{alert_id}"

    def public(self, alert: Alert) -> dict[str, Any]:
        """The alert as it may leave the building: identifiers masked."""
        key = alert.group_key or None
        summary = masked_summary(alert.summary, alert.group_field, key)
        return {
            "id": alert.id, "rule_id": alert.rule_id, "state": alert.state, "severity": alert.severity,
            "tier": alert.tier, "owner": alert.owner, "group": alert.rule_group, "title": alert.title,
            "key": masked(alert.group_field, key), "key_field": alert.group_field,
            "summary": summary,
            "reason": alert.reason, "report_count": alert.report_count,
            "opened_at": _iso(alert.opened_at), "last_match_at": _iso(alert.last_match_at), "url": self.url(alert.id),
        }

    def email(self, alert: Alert, event: str, to: str) -> dict[str, Any]:
        data = self.public(alert)
        zh, en = _EVENT_TEXT[event]
        subject = f"[tierwatch][{alert.severity}] {zh} / {en}: {alert.title['zh']} / {alert.title['en']}"
        text = "\n".join([
            f"{alert.title['zh']}（{zh}）", data["summary"]["zh"], f"原因：{alert.reason['zh']}", "",
            f"{alert.title['en']} ({en})", data["summary"]["en"], f"Why: {alert.reason['en']}", "",
            f"severity {alert.severity}, tier {alert.tier or '-'}, owner {alert.owner}", data["url"],
        ])
        return {"to": to, "subject": subject, "text": text}

    def webhook(self, alert: Alert, event: str) -> dict[str, Any]:
        return {"event": event, "alert": self.public(alert)}

    def digest(self, session: Session, day: date, since: datetime, now: datetime) -> int:
        """One e-mail per subscribed user for ``day``: the alerts opened since ``since``, the open
        ones and the overdue ones that the user's subscriptions select. The dedup key (user,
        day) makes a second run the same day send nothing."""
        alerts = list(session.scalars(sa.select(Alert).where(sa.or_(
            Alert.opened_at >= since, Alert.state.in_(("open", "acknowledged", "escalated")))).order_by(Alert.id)))
        by_user: dict[int, tuple[User, list[AlertSubscription]]] = {}
        for sub, user in session.execute(
                sa.select(AlertSubscription, User).join(User, User.id == AlertSubscription.user_id)
                .where(AlertSubscription.active, AlertSubscription.channel == "email", User.is_active,
                       User.role.in_(REGULATOR_ROLES))).all():
            by_user.setdefault(user.id, (user, []))[1].append(sub)
        sent = 0
        for user, subs in by_user.values():
            mine = [a for a in alerts if any(wants(s, a) for s in subs)]
            if not mine:
                continue
            enqueue(session, "email", user.email, f"digest:{user.id}:{day.isoformat()}",
                    self.digest_mail(user.email, day, mine, since), now)
            sent += 1
        return sent

    def digest_mail(self, to: str, day: date, alerts: Sequence[Alert], since: datetime) -> dict[str, Any]:
        new = [a for a in alerts if a.opened_at is not None and a.opened_at >= since]
        overdue = [a for a in alerts if a.overdue_ack or a.overdue_resolve]
        lines = [f"告警日报 {day.isoformat()}：新增 {len(new)}，未结 {len(alerts)}，超时 {len(overdue)}",
                 f"Alert digest {day.isoformat()}: {len(new)} new, {len(alerts)} listed, {len(overdue)} overdue", ""]
        for a in alerts:
            data = self.public(a)
            flag = " OVERDUE" if a in overdue else ""
            lines.append(f"#{a.id} [{a.severity}] {a.state}{flag} {a.title['zh']} / {a.title['en']}: "
                         f"{data['summary']['en']} {data['url']}")
        return {"to": to, "subject": f"[tierwatch] 告警日报 / alert digest {day.isoformat()}", "text": "\n".join(lines)}


def wants(sub: AlertSubscription, alert: Alert) -> bool:
    return (severity_rank(alert.severity) >= severity_rank(sub.min_severity)
            and (not sub.rule_groups or alert.rule_group in sub.rule_groups)
            and (not sub.owners or alert.owner in sub.owners))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


DIGEST_LOOKBACK = timedelta(days=1)
