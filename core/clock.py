"""One place for 'now', so tests and replays can pin time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Filing years, working days and deadlines are as people in Guangdong see them.
CHINA_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)
