"""Alert texts in the page's language: an alert's {"zh", "en"} fields and the detector's stored
explanation lines."""

from __future__ import annotations

import re
from typing import Any

from tierwatch.web.i18n import current_language

# As antifraud.results.Score.reasons writes them: "文本含有… / text contains… (+0.81)"
_REASON = re.compile(r"^(?P<zh>.*) / (?P<en>.*) \((?P<weight>[+-]\d+(?:\.\d+)?)\)$")


def in_language(text: dict[str, Any] | None) -> str:
    """An alert's {"zh", "en"} text in the page's language (Chinese when English is missing)."""
    text = text or {}
    return str(text.get("zh" if current_language() == "zh_CN" else "en") or text.get("zh") or "")


def explanation(line: str) -> tuple[str, str | None]:
    """A stored explanation line in the page's language, and its weight (None: a line of
    another shape, shown as it is)."""
    found = _REASON.match(str(line))
    if found is None:
        return str(line), None
    return found["zh" if current_language() == "zh_CN" else "en"], found["weight"]
