"""Words people read for the codes the domain uses (roles, workflow statuses, ...), translated.
Templates use the ``label`` filter: ``{{ app.status|label("status") }}``. A code without an
entry shows as itself, so a new code is visible (and a test of the page catches it)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from tierwatch.antifraud.vocab import INCIDENT_TYPES, SEVERITIES
from tierwatch.core.vocab import Labels
from tierwatch.registry.vocab import DOMAINS
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


# Domain vocabularies that carry their own (zh, en) labels.
VOCABULARIES: dict[str, Labels] = {
    "incident_type": INCIDENT_TYPES,
    "severity": SEVERITIES,
    "domain": DOMAINS,
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


def init_app(app: Flask) -> None:
    app.add_template_filter(label, "label")
