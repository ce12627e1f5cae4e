"""Personal data in text meant for the public: phone numbers, e-mail addresses, bank cards,
resident ID numbers and payment or chat accounts. A case story must carry none; a warning may
name only the scam's own identifiers, the ones it declares."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from stdnum.cn import ric

from tierwatch.monitoring import identifiers as ids

# Kinds that point at a person or an account: never in a case story.
PERSONAL_KINDS = frozenset({ids.PHONE, ids.EMAIL, ids.QQ, ids.WECHAT, ids.TELEGRAM, ids.BANK_CARD,
                            ids.ALIPAY, ids.PAYMENT, ids.ACCOUNT})
_RESIDENT_ID = re.compile(r"(?<![0-9])\d{17}[0-9Xx](?![0-9A-Za-z])")


@dataclass(frozen=True)
class Finding:
    kind: str  # an identifier kind, or "resident_id"
    value: str


def personal_data(text: str, allowed: Iterable[str] = ()) -> list[Finding]:
    """What ``text`` names that identifies a person or an account, except the "kind:value"
    keys in ``allowed``. Resident ID numbers are never allowed."""
    keep = set(allowed)
    found = [Finding(i.kind, i.value) for i in ids.extract(text)
             if i.kind in PERSONAL_KINDS and str(i) not in keep]
    folded = unicodedata.normalize("NFKC", text)
    found += [Finding("resident_id", m.group(0)) for m in _RESIDENT_ID.finditer(folded) if ric.is_valid(m.group(0))]
    return found


def masked(value: str) -> str:
    """A finding as an error message may show it: the first and last characters only."""
    return value if len(value) <= 4 else f"{value[:2]}…{value[-2:]}"
