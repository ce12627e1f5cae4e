"""What changed between two versions of a filing: field by field, in the filing's own order.

The company sees it after an amendment ("what changed"), the regulator beside the review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tierwatch.core.actors import Actor
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import NotFound
from tierwatch.registry import service
from tierwatch.registry.models import Application, ApplicationVersion
from tierwatch.registry.vocab import APPLICATION_FIELDS


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any
    added: tuple[Any, ...] = ()  # for lists: entries only in `after`
    removed: tuple[Any, ...] = ()  # entries only in `before`


@dataclass(frozen=True)
class VersionDiff:
    application_id: int
    before: int  # version numbers
    after: int
    changes: list[FieldChange]


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    out = []
    for name in APPLICATION_FIELDS:
        old, new = before.get(name), after.get(name)
        if _same(old, new):
            continue
        if isinstance(old, list) or isinstance(new, list):
            old_list, new_list = list(old or []), list(new or [])
            added = tuple(v for v in new_list if v not in old_list)
            removed = tuple(v for v in old_list if v not in new_list)
            out.append(FieldChange(name, old, new, added, removed))
        else:
            out.append(FieldChange(name, old, new))
    return out


def _same(a: Any, b: Any) -> bool:
    empty: tuple[Any, ...] = (None, "", [])
    return (a in empty and b in empty) or a == b


def version_of(app: Application, number: int) -> ApplicationVersion:
    for version in app.versions:
        if version.number == number:
            return version
    raise NotFound(f"application {app.id} has no version {number}")


def compare(uow: UnitOfWork, actor: Actor, app_id: int, before: int | None = None,
            after: int | None = None) -> VersionDiff | None:
    """Version ``before`` against ``after`` (default: the latest against the one before it);
    None when the filing has a single version."""
    app = service.get_application(uow, actor, app_id)
    if len(app.versions) < 2 and before is None:
        return None
    new = version_of(app, after) if after else service.latest_version(app)
    old = version_of(app, before) if before else version_of(app, max(new.number - 1, 1))
    return VersionDiff(app.id, old.number, new.number,
                       diff_fields(service.version_fields(old), service.version_fields(new)))
