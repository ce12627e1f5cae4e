"""Who is reporting, as the keyed hash the index counts independent reporters by
(monitoring.reporters): the signed-in account, else the contact details given, else the address
the request came from. Computed here, at submission, because only the web layer knows the
account and the address; the address itself is never stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, request

from tierwatch.monitoring.reporters import account_key, address_key, contact_key
from tierwatch.web.auth import current_user
from tierwatch.web.context import container_of


def reporter_key(contact: Any = None) -> str | None:
    key = container_of(current_app).keys.key("pseudonym")
    user = current_user()
    if user is not None:
        return account_key(user.id, key)
    if isinstance(contact, Mapping):
        by_contact = contact_key({k: v for k, v in contact.items() if isinstance(v, str)}, key)
        if by_contact:
            return by_contact
    return address_key(request.remote_addr or "", key)


def address_pseudonym() -> str | None:
    """The request's address as a keyed hash (a dispute's submitter, for "one open each")."""
    return address_key(request.remote_addr or "", container_of(current_app).keys.key("pseudonym"))


def tracking_key() -> bytes:
    """The key ring's "tracking" key: the receipt's code is the one the worker stores."""
    return container_of(current_app).keys.key("tracking")
