"""Append-only, hash-chained audit trail.

Each entry's hash is an HMAC-SHA256, keyed with the key ring's "audit" key (kept outside the
database), over a canonical JSON of its own fields plus the previous entry's hash: changing,
removing or reordering a stored entry breaks the chain from there on, and someone who can write
the database but not read the key cannot re-hash an edited chain.

No personal data enters the chain, since it can never be deleted from it: actors are stored as
role and user id (names are looked up when shown, and a company sees regulator staff only as
"the regulator"), and contact fields in ``changes`` are replaced by a marker that they changed.
Appends take the row lock on `audit_head` first (an UPDATE: a row lock on PostgreSQL, the write
lock on SQLite), which serialises writers so the chain never forks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Iterator

import sqlalchemy as sa

from tierwatch.core.actors import Actor, UserLike, actor_of
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.registry.models import AuditEntry, AuditHead

GENESIS = "0" * 64
_HEAD_ID = 1
_ENTRIES: sa.Table = AuditEntry.__table__  # type: ignore[assignment]
_HEAD: sa.Table = AuditHead.__table__  # type: ignore[assignment]
_INSERT = _ENTRIES.insert()
_BUMP = (_HEAD.update().where(_HEAD.c.id == _HEAD_ID).values(last_id=_HEAD.c.last_id + 1)
         .returning(_HEAD.c.last_id, _HEAD.c.last_hash))
_SET_HASH = _HEAD.update().where(_HEAD.c.id == _HEAD_ID).values(last_hash=sa.bindparam("new_hash"))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    message: str = ""


# Fields holding personal data, wherever they appear in ``changes``.
PERSONAL_FIELDS = frozenset({"contact_name", "contact_email", "contact_phone", "email", "phone", "password"})
PERSONAL = "<personal data changed>"
# Entities whose "name" is a person's name.
_PERSON_ENTITIES = frozenset({"user"})


def record(
    uow: UnitOfWork,
    actor: Actor | UserLike | str,
    action: str,
    entity: str,
    entity_id: object,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with it)."""
    if isinstance(actor, str):
        actor = Actor(label=actor)
    elif not isinstance(actor, Actor):
        actor = actor_of(actor)
    key = audit_key(uow)
    session = uow.session
    session.flush()  # pending changes first: their audit entry must not precede them
    new_id, prev_hash = _lock_head(session)
    entry = AuditEntry(
        id=new_id,
        at=utcnow(),
        actor_id=actor.user_id,
        actor=actor_ref(actor),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        reason=reason,
        changes=_without_personal_data(entity, _jsonable(changes)) if changes is not None else None,
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry, key)
    # Fixed Core statements, not the ORM unit of work: appends are hot (an import writes one
    # per row) and these compile once.
    session.execute(_INSERT, {c.key: getattr(entry, c.key) for c in _ENTRIES.columns})
    session.execute(_SET_HASH, {"new_hash": entry.hash})
    return entry


def lock_trail(uow: UnitOfWork) -> None:
    """Take the trail's lock now, for a transaction that must lock something else after it
    (filing-number sequences): one lock order everywhere, so no deadlock."""
    uow.session.execute(sa.select(_HEAD.c.id).where(_HEAD.c.id == _HEAD_ID).with_for_update())


def _lock_head(session: Any) -> tuple[int, str]:
    row = session.execute(_BUMP).first()
    if row is None:  # a database created without the migration's seed row
        session.execute(_HEAD.insert().values(id=_HEAD_ID, last_id=1, last_hash=GENESIS))
        return 1, GENESIS
    return int(row[0]), str(row[1])


def audit_key(uow: UnitOfWork) -> bytes:
    if uow.keys is None:
        raise RuntimeError("the audit trail needs the key ring: use a unit of work built with keys "
                           "(tierwatch.bootstrap.Container.uow)")
    return uow.keys.key("audit")


def actor_ref(actor: Actor) -> str:
    """What the chain stores of an actor: role and user id, or the system job's name."""
    if actor.user_id is not None:
        return f"{actor.role}:{actor.user_id}"
    return actor.label[:200]


def _without_personal_data(entity: str, changes: dict[str, Any]) -> dict[str, Any]:
    personal = PERSONAL_FIELDS | ({"name"} if entity in _PERSON_ENTITIES else set())
    return {k: PERSONAL if k in personal else v for k, v in changes.items()}


def entry_hash(entry: AuditEntry, key: bytes) -> str:
    payload = {
        "id": entry.id,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "reason": entry.reason,
        "changes": entry.changes,
        "prev_hash": entry.prev_hash,
    }
    return hmac.new(key, _canonical(payload).encode("utf-8"), hashlib.sha256).hexdigest()


def verify_chain(uow: UnitOfWork) -> VerifyResult:
    """Walk the whole trail in order; name the first entry whose link or content is wrong."""
    key = audit_key(uow)
    session = uow.session
    expected_prev, expected_id, checked = GENESIS, 1, 0
    for entry in _entries(session):
        if entry.id != expected_id:
            return VerifyResult(False, checked, entry.id, f"entry before #{entry.id} is missing")
        if entry.prev_hash != expected_prev:
            return VerifyResult(False, checked, entry.id, f"entry #{entry.id}: prev_hash does not match")
        if not hmac.compare_digest(entry_hash(entry, key), entry.hash):
            return VerifyResult(False, checked, entry.id, f"entry #{entry.id}: content was altered")
        expected_prev, expected_id, checked = entry.hash, entry.id + 1, checked + 1
    head = session.get(AuditHead, _HEAD_ID)
    if head is not None and head.last_id > checked:
        return VerifyResult(
            False, checked, checked + 1, f"entries #{checked + 1}..#{head.last_id} are missing"
        )
    if head is not None and (head.last_id, head.last_hash) != (checked, expected_prev):
        return VerifyResult(False, checked, head.last_id, "audit head does not match the chain's end")
    return VerifyResult(True, checked, None, f"{checked} entries, chain intact")


def _entries(session: Any) -> Iterator[AuditEntry]:
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    for entry in session.scalars(stmt):
        yield entry
        session.expunge(entry)  # keep memory flat on long trails


def list_entries(
    uow: UnitOfWork,
    *,
    entity: str | None = None,
    entity_id: object = None,
    limit: int = 100,
    before_id: int | None = None,
    action: str | None = None,
    actor_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    """Newest first. ``action`` is an exact action or a prefix ending in "." ("application.")."""
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == str(entity_id))
    if before_id:
        stmt = stmt.where(AuditEntry.id < before_id)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True) if action.endswith(".")
                          else AuditEntry.action == action)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    return list(uow.session.scalars(stmt))



# The families of actions, for the viewer's filter (an action is "<family>.<verb>").
ACTION_FAMILIES = ("application", "company", "user", "token", "supervision", "registry", "risk", "ruleset")

REGULATOR_SHOWN = "监管部门 / regulator"


def shown_actors(uow: UnitOfWork, entries: list[AuditEntry], viewer: Actor) -> dict[int, str]:
    """Entry id -> who did it, as ``viewer`` may see it: the regulator side sees names and
    e-mails; a company sees its own colleagues by name and regulator staff only as the regulator."""
    from tierwatch.registry.models import User

    ids = {e.actor_id for e in entries if e.actor_id is not None}
    users = {u.id: u for u in uow.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
    out: dict[int, str] = {}
    for e in entries:
        user = users.get(e.actor_id) if e.actor_id is not None else None
        if user is None:
            out[e.id] = e.actor if e.actor.startswith("system:") or e.actor_id is None else "(deleted user)"
        elif viewer.is_regulator:
            out[e.id] = f"{user.name} <{user.email}>"
        elif user.role == "company" and user.company_id == viewer.company_id:
            out[e.id] = user.name
        else:
            out[e.id] = REGULATOR_SHOWN if user.role in ("regulator", "analyst", "admin") else user.role
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Field changes as {field: {"before": ..., "after": ...}}, only fields that differ."""
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if _jsonable(before.get(key)) != _jsonable(after.get(key))
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON-serialisable in an audit entry: {type(value).__name__}")


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
