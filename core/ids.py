from __future__ import annotations

import secrets
import uuid


def new_id() -> str:
    """A random UUID4 string: safe to generate on any producer, never reused."""
    return str(uuid.uuid4())


def tracking_code(prefix: str = "TW") -> str:
    """A short code a citizen can copy by hand (no 0/O/1/I)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return prefix + "-" + "".join(secrets.choice(alphabet) for _ in range(10))
