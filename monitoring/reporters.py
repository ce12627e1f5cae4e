"""Who reported, as a keyed hash: counts "independent reporters" without knowing who they are.

The key ring's "pseudonym" key makes every hash; without it a hash cannot be linked back to a
phone number, an account or an address, and with a rotated key old and new hashes differ (a
count then restarts, which errs on the side of showing less).

A report's reporter is, in this order:
1. the account that sent it (a partner feed or a signed-in user: one account, one reporter,
   however many reports it sends);
2. the reporter's contact details (phone number in E.164, else the e-mail address);
3. for an anonymous citizen without contact details, the address the report came from
   (IPv4 address, IPv6 /64 network): people behind one address count once;
4. for a report from the bus without any of these, its source (a partner feed's name).
The web layer computes 1-3 at submission (``ScamReport.reporter_key``); the worker fills 2 and 4
for reports that arrive without one.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any

import phonenumbers


def _hash(key: bytes, identity: str) -> str:
    return hmac.new(key, identity.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def contact_key(contact: Mapping[str, Any] | None, key: bytes) -> str | None:
    """The reporter's normalised contact: phone (E.164; mainland numbers without +86 read as
    Chinese), else e-mail lower-cased. A name alone identifies nobody: None."""
    if not contact:
        return None
    phone, email = contact.get("phone"), contact.get("email")
    if phone:
        return _hash(key, "phone:" + _e164(str(phone)))
    if email:
        return _hash(key, "email:" + str(email).strip().casefold())
    return None


def account_key(user_id: int, key: bytes) -> str:
    return _hash(key, f"account:{user_id}")


def address_key(address: str, key: bytes) -> str | None:
    """An IPv4 address as it is; an IPv6 address by its /64 network (one household or phone
    gets a whole /64). None for something that is not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _hash(key, f"address:{ip.ipv4_mapped}")
        network = ipaddress.ip_network(f"{ip}/64", strict=False)
        return _hash(key, f"address6:{network.network_address}")
    return _hash(key, f"address:{ip}")


def source_key(source: str | None, key: bytes) -> str:
    return _hash(key, f"source:{source or '-'}")


def _e164(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, "CN")
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return "".join(c for c in raw if c.isdigit() or c == "+")
