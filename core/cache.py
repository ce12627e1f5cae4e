"""A small per-process cache with a time to live, for answers that many visitors ask for at once
(the trends page, a popular number on the check page).

One computation per key at a time: when an entry expires under load, the first caller
recomputes it and the others wait for that answer instead of all asking the search index (no
thundering herd). Entries are bounded; the oldest go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    def __init__(self, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.max_entries, self._clock = ttl, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self.computed = 0  # how many times a value was computed (tests and benchmarks read it)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        hit = self._fresh(key)
        if hit is not None:
            return hit[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._fresh(key)  # another caller may have computed it meanwhile
            if hit is not None:
                return hit[1]
            value = compute()
            with self._guard:
                self.computed += 1
                self._entries[key] = (self._clock(), value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    old, _ = self._entries.popitem(last=False)
                    self._locks.pop(old, None)
            return value

    def _fresh(self, key: Hashable) -> tuple[float, T] | None:
        with self._guard:
            entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] >= self.ttl:
            return None
        return entry

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
