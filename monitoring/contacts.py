"""Reporter contact details, encrypted at rest with the key ring's "contacts" key.

``report_contacts.sealed`` holds a Fernet token (AES-128-CBC with an HMAC-SHA256, from the
``cryptography`` package) of the contact's JSON; the key stays outside the database, so a copy of
the database alone does not reveal who reported. A ``MultiFernet`` over the current key and the
ones kept by rotations (``contacts.key.1``, ...) reads tokens made with any of them, and
``reseal`` rewrites every row with the current key (``tierwatch keys rotate contacts``).

Nothing in the web app decrypts contacts today: no role has a page or API that shows them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from tierwatch.core.keys import KeyRing

__all__ = ["ContactCipher", "InvalidToken", "reseal"]


def _fernet_key(raw: bytes) -> bytes:
    # Fernet wants exactly 32 bytes (signing + encryption halves); a key-ring key may be longer,
    # and deriving keeps the contacts key from ever being used as-is for anything else.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tierwatch report contacts").derive(raw)
    return base64.urlsafe_b64encode(derived)


class ContactCipher:
    """Seal and open contact dicts. ``keys``: the current key first, then older ones."""

    def __init__(self, keys: Sequence[bytes]):
        if not keys:
            raise ValueError("at least one key")
        self._fernet = MultiFernet([Fernet(_fernet_key(k)) for k in keys])

    @classmethod
    def from_ring(cls, ring: KeyRing) -> "ContactCipher":
        return cls([ring.key("contacts"), *ring.previous("contacts")])

    def seal(self, contact: Mapping[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(dict(contact), ensure_ascii=False).encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> dict[str, Any]:
        """The contact; InvalidToken when no key known here made it (or it was altered)."""
        return json.loads(self._fernet.decrypt(sealed.encode("ascii")))

    def rotate(self, sealed: str) -> str:
        """The same contact sealed with the current key."""
        return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")


def reseal(session: Session, cipher: ContactCipher, chunk: int = 500) -> int:
    """Re-encrypt every stored contact (reporters' and those left with disputes) with ``cipher``'s
    current key (caller commits); returns how many rows were rewritten. Raises InvalidToken,
    changing nothing, if a row was sealed with a key the cipher does not hold."""
    from tierwatch.monitoring.models import ReportContact
    from tierwatch.monitoring.public.models import Dispute

    reports, disputes = ReportContact.__table__, Dispute.__table__
    return (_reseal_table(session, cipher, reports.c.report_id, reports.c.sealed, chunk)
            + _reseal_table(session, cipher, disputes.c.id, disputes.c.sealed_contact, chunk))


def _reseal_table(session: Session, cipher: ContactCipher, key: sa.Column, sealed: sa.Column, chunk: int) -> int:
    table = key.table
    done, after = 0, None
    while True:
        stmt = sa.select(key, sealed).where(sealed.isnot(None)).order_by(key).limit(chunk)
        rows = session.execute(stmt if after is None else stmt.where(key > after)).all()
        if not rows:
            return done
        session.execute(sa.update(table).where(key == sa.bindparam("b_key")).values({sealed.name: sa.bindparam("b_sealed")}),
                        [{"b_key": k, "b_sealed": cipher.rotate(s)} for k, s in rows])
        done += len(rows)
        after = rows[-1][0]
