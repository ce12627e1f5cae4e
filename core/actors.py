"""Who is acting: a signed-in user (id, role, company) or a named system job. Every use case of
every domain takes one; visibility and permissions are decided from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Actor:
    """Who did something: a user (id, role, company) or a named system job."""

    label: str
    user_id: int | None = None
    role: str | None = None
    company_id: int | None = None

    @property
    def is_regulator(self) -> bool:
        return self.role in ("regulator", "analyst", "admin")

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls(label=f"system:{name}", role="system")


class UserLike(Protocol):
    id: int
    email: str
    role: str
    company_id: int | None


def actor_of(user: UserLike) -> Actor:
    return Actor(label=user.email, user_id=user.id, role=user.role, company_id=user.company_id)
