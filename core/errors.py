"""Errors the use cases of every domain raise; the web layer maps each to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base class."""


class NotFound(DomainError):
    """Missing, or not visible to this actor (the two are indistinguishable on purpose)."""


class Forbidden(DomainError):
    """The actor may see the object but not do this to it."""


class Conflict(DomainError):
    """The object's state does not allow this (e.g. approving a draft, a duplicate code)."""


class Invalid(DomainError):
    """Input failed validation; `errors` are field-level: [{"field": ..., "message": ...}]."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))

    @classmethod
    def one(cls, field: str, message: str) -> "Invalid":
        return cls([{"field": field, "message": message}])
