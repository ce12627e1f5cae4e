"""Keys for tests that build a worker or prepare reports without a container's key ring."""

from __future__ import annotations

import secrets

from tierwatch.monitoring.contacts import ContactCipher
from tierwatch.monitoring.store import ReportKeys


def new_report_keys() -> ReportKeys:
    """Fresh random keys: a tracking key and a contacts cipher no other test shares."""
    return ReportKeys(secrets.token_bytes(32), ContactCipher([secrets.token_bytes(32)]))
