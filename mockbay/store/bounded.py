"""`BoundedStore`: objects by id in creation order, capped by count and by bytes.

Message Batches and Files live in one each. Handlers use only this interface (put, get, page,
delete, reset), so a shared backend can stand in for it. A batch store evicts its oldest entries
beyond a cap, like the other server stores; a file store refuses the upload instead (upstream's
storage quota), since dropping a client's file would break its later requests silently.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


class StoreFull(Exception):
    """A put that a non-evicting store cannot take without going over a cap."""


class UnknownCursor(Exception):
    """A paging cursor (`after_id` / `before_id`) that names no stored id."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"{name}: no object with id {value!r}")
        self.name, self.value = name, value


@dataclass(frozen=True, slots=True, eq=False)
class Page(Generic[V]):
    """One page, newest first, and whether paging in the same direction finds more."""

    items: list[V]
    has_more: bool


def page_of(
    newest_first: list[str], limit: int, after_id: str | None, before_id: str | None
) -> tuple[list[str], bool]:
    """The ids of one page, and whether paging in the same direction finds more."""
    for name, cursor in (("after_id", after_id), ("before_id", before_id)):
        if cursor is not None and cursor not in newest_first:
            raise UnknownCursor(name, cursor)
    if before_id is not None:
        newer = newest_first[: newest_first.index(before_id)]
        return newer[-limit:], len(newer) > limit
    older = newest_first[newest_first.index(after_id) + 1 :] if after_id is not None else newest_first
    return older[:limit], len(older) > limit


class BoundedStore(Generic[V]):
    """Thread-safe: handlers write on the server's loop while a test thread may read."""

    def __init__(self, max_entries: int, max_bytes: int, *, evict: bool) -> None:
        self._entries: OrderedDict[str, tuple[V, int]] = OrderedDict()  # oldest first
        self._max_entries, self._max_bytes, self._evict = max_entries, max_bytes, evict
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def put(self, key: str, value: V, size: int) -> None:
        """Insert, or replace keeping the creation position. Over a cap, evict the oldest others or
        raise StoreFull (nothing changed), as the store was built to do."""
        with self._lock:
            old = self._entries.get(key)
            count = len(self._entries) + (old is None)
            total = self._bytes + size - (old[1] if old else 0)
            if not self._evict and (count > self._max_entries or total > self._max_bytes):
                raise StoreFull(key)
            self._entries[key] = (value, size)
            self._bytes = total
            for oldest in [k for k in self._entries if k != key]:  # never evict what was just put
                if len(self._entries) <= self._max_entries and self._bytes <= self._max_bytes:
                    break
                self._bytes -= self._entries.pop(oldest)[1]

    def get(self, key: str) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            return entry[0] if entry else None

    def delete(self, key: str) -> bool:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                return False
            self._bytes -= entry[1]
            return True

    def page(self, limit: int, *, after_id: str | None = None, before_id: str | None = None) -> Page[V]:
        """Newest first: `limit` items after the `after_id` cursor, or just before `before_id`."""
        with self._lock:
            chosen, has_more = page_of(list(reversed(self._entries)), limit, after_id, before_id)
            return Page([self._entries[key][0] for key in chosen], has_more)

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)
