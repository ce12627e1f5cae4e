"""Pages of a list: ``?page=N`` in the URL, a Page for the template's ``pagination`` macro."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import request

T = TypeVar("T")
MAX_PAGE = 100_000  # beyond any real list; keeps OFFSET small enough for any database


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # 1-based
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(arg: str = "page") -> int:
    """The requested page, 1 when absent or not a sensible number (a bad ?page is not an error
    worth a page of its own)."""
    raw = request.args.get(arg, "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:  # "²".isdigit() is True, too
        return 1
    return min(max(int(raw), 1), MAX_PAGE)


def offset(number: int, size: int) -> int:
    return (number - 1) * size
