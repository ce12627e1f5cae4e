"""An alert's short summary in zh-CN and English, and identifiers masked for notifications.

Pure: the alert's numbers and the facets of its linked reports in, text out.
"13 reports in 2 h about +86 138…5678, 9 mention a cloned voice; Shenzhen, Dongguan".
The console and the API show identifiers in full to analysts; e-mails and webhooks leave the
network, so they carry ``mask`` of every phone number, card and account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

from tierwatch.antifraud import vocab
from tierwatch.monitoring.alerts.model import Text

# Fields whose values are personal data (numbers people and accounts answer to).
MASKED_FIELDS = frozenset({"ident_phone", "ident_account", "ident_payment_account", "identifiers"})
_KEEP = re.compile(r"[0-9A-Za-z]")


def mask(value: str) -> str:
    """The middle of a phone number, card or account replaced: '+8613812345678' ->
    '+86138…5678', '6222021234567890123' -> '622202…0123', 'wx_zhang_san88' -> 'wx_…an88'.
    Short values keep at most a third of their characters."""
    kind, sep, rest = value.partition(":")
    if sep and kind.isalpha() and kind.islower():  # "phone:+86..." as the identifiers field holds it
        return f"{kind}:{mask(rest)}"
    chars = [c for c in value if _KEEP.match(c)]
    if len(chars) <= 6:
        return value[:1] + "…"
    head = 6 if value.startswith("+") else min(6, len(value) // 3)
    tail = 4 if len(chars) >= 11 else 2
    return value[:head] + "…" + value[-tail:]


def masked(field: str | None, key: str | None) -> str | None:
    return mask(key) if key is not None and field in MASKED_FIELDS else key


def masked_summary(summary: Mapping[str, str], field: str | None, key: str | None) -> dict[str, str]:
    """An alert's stored summary (which names its key in full) with the key masked, for what
    leaves the regulator side: e-mails, webhooks, the company portal."""
    hidden = masked(field, key) if key else None
    return {lang: text.replace(key, hidden) if key and hidden else text for lang, text in summary.items()}


def _span(d: timedelta) -> Text:
    seconds = int(d.total_seconds())
    for size, zh, en in ((86400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min")):
        if seconds >= size and seconds % size == 0:
            return Text(f"{seconds // size} {zh}", f"{seconds // size} {en}")
    return Text(f"{seconds} 秒", f"{seconds} s")


_TECHNIQUE_EN = {"cloned_voice": "a cloned voice", "face_swap_video": "a face-swap video",
                 "chatbot": "a chatbot", "generated_media": "generated documents or images"}


def _label(field: str, value: str) -> Text:
    table = {"ai_technique": vocab.AI_TECHNIQUES, "scam_type": vocab.SCAM_TYPES,
             "channel": vocab.CHANNELS, "incident_type": vocab.INCIDENT_TYPES}.get(field, {})
    zh, en = table.get(value, (value, value))
    return Text(zh, en)


def summarise(count: int, window: timedelta, key: str | None, key_field: str | None,
              facets: Mapping[str, Mapping[str, int]], *, hide: bool = False) -> Text:
    """``count`` reports in ``window`` (about ``key``); the AI technique most reports mention,
    then up to three values of the other summary fields (most frequent first). ``hide``: mask
    the key (notifications)."""
    span = _span(window)
    shown = (masked(key_field, key) if hide else key) if key is not None else None
    zh = f"{span.zh}内 {count} 份举报" + (f"涉及 {shown}" if shown else "")
    en = f"{count} reports in {span.en}" + (f" about {shown}" if shown else "")
    technique = facets.get("ai_technique", {})
    if technique:
        top, n = max(technique.items(), key=lambda kv: (kv[1], kv[0]))
        label = _label("ai_technique", top)
        zh += f"，其中 {n} 份提到{label.zh}"
        en += f", {n} mention {_TECHNIQUE_EN.get(top, label.en)}"
    others = []
    for field, values in facets.items():
        if field == "ai_technique" or not values or field in MASKED_FIELDS:
            continue
        top3 = [v for v, _ in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
        others.append([_label(field, v) for v in top3])
    if others:
        zh += "；" + "；".join("、".join(t.zh for t in group) for group in others)
        en += "; " + "; ".join(", ".join(t.en for t in group) for group in others)
    return Text(zh, en)


def add_facets(facets: dict[str, dict[str, int]], fields: tuple[str, ...],
               docs: list[Mapping[str, object]]) -> dict[str, dict[str, int]]:
    """Count the summary fields' values over newly linked reports (a multi-valued field counts
    each value once per report)."""
    out = {f: dict(facets.get(f, {})) for f in {*facets, *fields}}
    for doc in docs:
        for field in fields:
            value = doc.get(field)
            values = value if isinstance(value, list) else [value] if value is not None else []
            for v in {str(x) for x in values}:
                out[field][v] = out[field].get(v, 0) + 1
    return out
