"""What the analyst console reads beside the alerts themselves (counts per state, the staff an
alert can be assigned to, the linked applications with their tiers, the campaigns) and the
public warning it drafts from an alert. Use cases take ``(uow, actor, ...)`` and leave the
commit to the caller, like ``service.py``; who may read or act is decided there.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError

from tierwatch.antifraud import vocab
from tierwatch.core.actors import Actor
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Conflict, Forbidden
from tierwatch.monitoring.alerts import service
from tierwatch.monitoring.alerts.models import Alert, AlertEvent
from tierwatch.monitoring.alerts.summary import mask
from tierwatch.monitoring.identifiers import KINDS
from tierwatch.monitoring.models import Campaign, Report
from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.deidentify import personal_data
from tierwatch.monitoring.public.models import Publication
from tierwatch.monitoring.public.schemas import PublicationIn, ReportRef
from tierwatch.registry import audit
from tierwatch.registry.models import REGULATOR_ROLES, Application, User
from tierwatch.risk import service as tiering

CHINA = ZoneInfo("Asia/Shanghai")
NO_WARNING_FROM = ("pending", "withdrawn")  # nothing an analyst has confirmed yet, or a flap


def state_counts(uow: UnitOfWork, actor: Actor, f: service.AlertFilter) -> dict[str, int]:
    """Alerts per state under every filter of ``f`` but the state itself."""
    service.check_reader(actor)
    stmt = (sa.select(Alert.state, sa.func.count()).where(*service.filter_conditions(
        service.AlertFilter(**{**f.__dict__, "states": ()}))).group_by(Alert.state))
    return {state: n for state, n in uow.session.execute(stmt)}


def staff(uow: UnitOfWork, actor: Actor) -> list[User]:
    """Who an alert may be assigned to (the use case accepts the same people)."""
    service.check_reader(actor)
    return list(uow.session.scalars(sa.select(User).where(User.is_active, User.role.in_(REGULATOR_ROLES))
                                    .order_by(User.name, User.id)))


@dataclass(frozen=True)
class LinkedApplication:
    id: int
    name: str
    filing_number: str | None
    status: str
    tiers: dict[str, str]  # jurisdiction -> tier in force


def linked_applications(uow: UnitOfWork, actor: Actor, alert: Alert) -> list[LinkedApplication]:
    ids = [int(a) for a in alert.application_ids if str(a).isdigit()]
    service.check_reader(actor)
    out = []
    for app in uow.session.scalars(sa.select(Application).where(Application.id.in_(ids)).order_by(Application.id)):
        tiers = {row.jurisdiction: row.tier for row in tiering.current_assessments(uow, app.id)}
        out.append(LinkedApplication(app.id, app.name, app.filing_number, app.status, tiers))
    return out


def campaigns(uow: UnitOfWork, actor: Actor, alert: Alert, reports: list[Report]) -> list[Campaign]:
    """The campaigns of the alert and of its listed reports."""
    ids = {int(c) for c in alert.campaign_ids if str(c).isdigit()} | {r.campaign_id for r in reports if r.campaign_id}
    service.check_reader(actor)
    return list(uow.session.scalars(sa.select(Campaign).where(Campaign.id.in_(ids)).order_by(Campaign.id)))


# --- "escalate as public warning" ---------------------------------------------------------------


def deidentified(text: str, values: list[str]) -> str:
    """``text`` with each of ``values`` and anything else that names a person or an account
    masked (the public reads it; the full identifiers stay declared on the warning, so the check
    page still finds it for someone who types the number)."""
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, mask(value))
    for finding in personal_data(text):
        text = text.replace(finding.value, mask(finding.value))
    if personal_data(text):  # found in another spelling than it is written ("139 1234 5678")
        text = _NUMBER.sub(lambda m: mask(m.group(0)), text)
    return text


_NUMBER = re.compile(r"\+?\d[\d ()-]{5,}\d")


def _when(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d")


def warning_from_alert(alert: Alert, reports: list[Report]) -> PublicationIn:
    """A warning drafted from the alert's summary: counts, period, scam type, AI techniques and
    advice, never a report's own words (those may name the victim). No hotline number either: the
    personal-data check reads any number as one (the public pages carry the hotlines)."""
    keys = [k for k in alert.identifiers if isinstance(k, str) and k.partition(":")[0] in KINDS][:50]
    values = [k.partition(":")[2] for k in keys] + ([alert.group_key] if alert.group_key else [])
    scam_types = Counter(r.scam_type for r in reports if r.scam_type in vocab.SCAM_TYPES)
    scam_type = scam_types.most_common(1)[0][0] if scam_types else None
    techniques = [t for t in (alert.facets or {}).get("ai_technique", {}) if t in vocab.AI_TECHNIQUES and t != "none"]
    title = alert.title or {}
    summary = {lang: deidentified(str((alert.summary or {}).get(lang, "")), values) for lang in ("zh", "en")}
    period = f"{_when(alert.first_match_at)} – {_when(alert.last_match_at)}"
    kind_zh, kind_en = vocab.SCAM_TYPES[scam_type] if scam_type else ("诈骗", "scam")
    body_zh = (f"{summary['zh']}。\n\n{period}，共收到 {alert.report_count} 份相关举报，多为{kind_zh}。"
               "请勿向陌生账户转账，勿透露验证码；如已受骗，请立即报警并保留证据。")
    body_en = (f"{summary['en']}.\n\n{period}: {alert.report_count} related reports, mostly {kind_en}. "
               "Never transfer money to an unknown account or share a verification code; if you have been "
               "scammed, call the police at once and keep the evidence.")
    return PublicationIn(
        kind="warning", title_zh=f"预警：{title.get('zh', alert.rule_id)}"[:200],
        title_en=f"Warning: {title.get('en', alert.rule_id)}"[:200],
        summary_zh=summary["zh"][:500] or "近期相关诈骗举报增多", summary_en=summary["en"][:500] or None,
        body_zh=body_zh, body_en=body_en, scam_type=scam_type, ai_techniques=techniques, identifiers=keys,
        occurred_on=alert.first_match_at.astimezone(CHINA).date(), source_alert_id=str(alert.id),
        report_ids=[r.report_id for r in reports if _report_ref(r.report_id)][:1000])


_REPORT_REF: TypeAdapter[str] = TypeAdapter(ReportRef)


def _report_ref(report_id: str) -> bool:
    """Whether a publication can link this report (ids from the intake always can)."""
    try:
        _REPORT_REF.validate_python(report_id)
    except ValidationError:
        return False
    return True


def draft_warning(uow: UnitOfWork, actor: Actor, alert_id: int, now: datetime | None = None) -> Publication:
    """Draft a public warning from an alert, for a regulator to publish; the alert's timeline and
    the audit trail record it."""
    detail = service.alert_detail(uow, actor, alert_id, report_limit=1000)
    alert = detail.alert
    if actor.role not in service.TRIAGERS:
        raise Forbidden("only analysts (or an administrator) draft warnings from alerts")
    if alert.state in NO_WARNING_FROM:
        raise Conflict(f"an alert that is {alert.state} gives no warning")
    publication = publications.draft(uow, actor, warning_from_alert(alert, detail.reports))
    now = now or utcnow()
    uow.session.add(AlertEvent(alert_id=alert.id, at=now, actor=actor.label[:200], actor_id=actor.user_id,
                               action="warning_drafted", data={"publication_id": publication.id}))
    alert.updated_at = now
    audit.record(uow, actor, "alert.warning_draft", "alert", alert.id, changes={"publication_id": publication.id})
    return publication
