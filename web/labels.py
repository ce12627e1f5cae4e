"""Words people read for the codes the domain uses (roles, workflow statuses, ...), translated.
Templates use the ``label`` filter: ``{{ app.status|label("status") }}``. A code without an
entry shows as itself, so a new code is visible (and a test of the page catches it).

The anti-fraud and registry vocabularies carry their own Chinese and English labels
(antifraud.vocab, registry.vocab): ``label`` picks the visitor's language from them instead of
repeating them in the catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from tierwatch.antifraud import vocab
from tierwatch.registry import vocab as registry_vocab
from tierwatch.web.i18n import current_language

LABELS: dict[str, dict[str, Any]] = {
    "role": {
        "company": _l("Company user"),
        "regulator": _l("Regulator"),
        "analyst": _l("Analyst"),
        "admin": _l("Administrator"),
        "partner": _l("Partner feed"),
    },
    "status": {  # registry.workflow.STATUSES
        "draft": _l("Draft"),
        "submitted": _l("Submitted"),
        "under_review": _l("Under review"),
        "approved": _l("Approved"),
        "returned": _l("Returned for changes"),
        "rejected": _l("Rejected"),
        "superseded": _l("Superseded"),
        "deregistered": _l("Deregistered"),
    },
    "tier": {  # risk.ruleset.TIER_ORDER
        "low": _l("Low risk"),
        "medium": _l("Medium risk"),
        "high": _l("High risk"),
        "prohibited": _l("Prohibited"),
    },
    "jurisdiction": {  # the rule files' jurisdiction codes
        "cn-gd": _l("China / Guangdong"),
        "eu": _l("EU AI Act"),
    },
    "obligation": {  # kinds of obligations in the rule files
        "filing": _l("Filing"),
        "incident_report": _l("Incident report"),
        "change_filing": _l("Filing of changes"),
        "deregistration_filing": _l("Deregistration filing"),
        "self_assessment": _l("Self-assessment"),
        "spot_check": _l("Spot check"),
        "alert_thresholds": _l("Alert thresholds"),
        "review_before_approval": _l("Review before approval"),
        "continuous_monitoring": _l("Continuous monitoring"),
        "inspection": _l("On-site inspection"),
        "security_assessment": _l("Security assessment"),
        "content_labelling": _l("Labelling of generated content"),
        "transparency_notice": _l("Transparency notice"),
        "human_oversight": _l("Human oversight"),
        "conformity_assessment": _l("Conformity assessment"),
        "eu_database_registration": _l("Registration in the EU database"),
        "fundamental_rights_impact_assessment": _l("Fundamental-rights impact assessment"),
        "prohibition": _l("Prohibited: may not be offered"),
    },
    "level": {"standard": _l("standard"), "tight": _l("tight")},
    "task_status": {  # registry.supervision
        "open": _l("Open"),
        "overdue": _l("Overdue"),
        "done": _l("Done"),
    },
    "task": {  # supervision task kinds
        "self_assessment": _l("Self-assessment"),
        "incident_report": _l("Incident report"),
        "change_filing": _l("Filing of changes"),
        "deregistration_filing": _l("Deregistration filing"),
        "spot_check": _l("Spot check"),
        "inspection": _l("On-site inspection"),
    },
    "scope": {  # API token scopes
        "all": _l("Everything the account may do"),
        "read": _l("Read only"),
        "report": _l("Send reports only"),
    },
    "assessment": {  # parts of an assessment beyond the tier and its rules (risk.service.explain)
        "findings": _l("Findings"),
        "margin": _l("Margin to the next tier"),
        "review_flags": _l("Review flags"),
    },
}


LABELS.update({  # the public side: checks, disputes, identifiers, publications
    "risk": {  # monitoring.public.checking levels
        "not_rated": _l("Not rated"),
        "medium": _l("Medium risk"),
        "high": _l("High risk"),
        "cleared": _l("Cleared after review"),
    },
    "dispute": {"open": _l("Disputed: under review"), "upheld": _l("Dispute upheld"),
                "rejected": _l("Dispute reviewed: the reports stand")},
    "identifier": {
        "phone": _l("Phone number"), "url": _l("Web address"), "domain": _l("Website"),
        "email": _l("E-mail address"), "qq": _l("QQ number"), "wechat": _l("WeChat ID"),
        "telegram": _l("Telegram account"), "account": _l("Account"), "bank_card": _l("Bank card"),
        "alipay": _l("Alipay account"), "payment": _l("Payment account"), "app": _l("App name"),
    },
    "publication": {"warning": _l("Warning"), "case_story": _l("Case story")},
})


LABELS.update({  # alerts (monitoring.alerts): states, timeline entries, what was held back and why; the
    # regulator's publishing and tier reviews
    "publication_status": {"draft": _l("Draft"), "published": _l("Published on the public pages"),
                           "withdrawn": _l("Withdrawn")},
    "review_status": {"open": _l("Waiting for a decision"), "decided": _l("Decision taken")},
    "review_decision": {"keep": _l("Keep the tier"), "override": _l("Override the tier")},
    "alert_state": {
        "pending": _l("Pending"), "open": _l("Alert open"), "acknowledged": _l("Acknowledged"),
        "escalated": _l("Escalated"), "cleared": _l("Cleared"), "resolved": _l("Resolved"),
        "false_positive": _l("False positive"), "withdrawn": _l("Withdrawn"),
    },
    "alert_event": {
        "pending": _l("pending"), "opened": _l("opened"), "reopened": _l("reopened: the burst resumed"),
        "cleared": _l("cleared: the condition no longer holds"), "withdrawn": _l("withdrawn (did not last)"),
        "resolved": _l("resolved"), "severity_raised": _l("severity raised"), "acknowledged": _l("acknowledged"),
        "escalated": _l("escalated"), "false_positive": _l("marked as false positive"),
        "reopened_by_hand": _l("reopened"), "assigned": _l("assigned"), "commented": _l("commented"),
        "overdue_ack": _l("not acknowledged in time"), "overdue_resolve": _l("not resolved in time"),
        "warning_drafted": _l("public warning drafted"),
    },
    "held_back": {
        "aggregated": _l("added to this alert instead of a new one"),
        "realert": _l("within the re-alert window"), "silence": _l("silenced"),
        "pending_not_sustained": _l("pending, but the condition did not last"),
    },
    "verdict": {"resolved": _l("Scam confirmed"), "false_positive": _l("False positive"),
                "auto_resolved": _l("Closed after a quiet period"), "superseded": _l("Superseded by a newer alert")},
})


# Domain vocabularies that carry their own (zh-CN, en) labels.
VOCABULARIES: dict[str, Mapping[str, tuple[str, str]]] = {
    "channel": vocab.CHANNELS, "scam_type": vocab.SCAM_TYPES, "ai_technique": vocab.AI_TECHNIQUES,
    "payment_method": vocab.PAYMENT_METHODS, "city": vocab.GD_CITIES, "domain": registry_vocab.DOMAINS,
    "incident_type": vocab.INCIDENT_TYPES, "severity": vocab.SEVERITIES,
}


def label(code: str | None, vocabulary: str) -> str:
    if code is None:
        return ""
    return _label(code, vocabulary, current_language())


@lru_cache(maxsize=4096)
def _label(code: str, vocabulary: str, language: str) -> str:
    # Remembered per language: a page of 50 queue rows asks for a few hundred labels, and each
    # lazy string goes through gettext again (a quarter of the queue page's rendering).
    if vocabulary in VOCABULARIES:
        pair = VOCABULARIES[vocabulary].get(code)
        return code if pair is None else pair[0 if language == "zh_CN" else 1]
    return str(LABELS[vocabulary].get(code, code))


def vocab_label(labels: Mapping[str, tuple[str, str]], code: str) -> str:
    """A domain code in the visitor's language (the code itself when unknown)."""
    pair = labels.get(code)
    if pair is None:
        return code
    return pair[0] if current_language() == "zh_CN" else pair[1]


def choices(vocabulary: str, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(code, label) pairs of a domain vocabulary, for a form's options (evaluated per request)."""
    return [(code, label(code, vocabulary)) for code in VOCABULARIES[vocabulary] if code not in skip]


def init_app(app: Flask) -> None:
    app.add_template_filter(label, "label")
