"""A small thread-safe LRU mapping, capped by entries and optionally by estimated bytes: the bound
on every in-memory store of mockbay."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# The longest string a process-wide memo keeps as its key (a header name or value, an API key, a
# model name): such memos are keyed by what clients send, so a longer key is computed afresh and
# never kept, and a memo of N entries holds at most N times this many characters.
MEMO_KEY_CHARS = 256


def key_digest(key: str) -> bytes:
    """16 bytes standing for a key whose length a client chooses (a session header, an API key):
    an entry keyed by it costs the same however long the key, and no credential is kept in it."""
    return hashlib.blake2b(key.encode(errors="surrogateescape"), digest_size=16).digest()


class Lru(Generic[K, V]):
    """A thread-safe mapping of at most `max_entries` and, when `weigh` is given, `max_bytes` (as
    `weigh(key, value)` estimates them); the least recently used entry goes first."""

    def __init__(
        self,
        max_entries: int,
        max_bytes: int | None = None,
        weigh: Callable[[K, V], int] | None = None,
    ) -> None:
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._max = max_entries
        self._max_bytes = max_bytes
        self._weigh = weigh
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V) -> None:
        if self._max <= 0:
            return
        with self._lock:
            self._store(key, value)

    def update(self, key: K, change: Callable[[V | None], V]) -> V:
        """Store `change(current)` under `key` in one step, and return it."""
        with self._lock:
            entry = self._entries.get(key)
            value = change(None if entry is None else entry[0])
            self._store(key, value)
            return value

    def _store(self, key: K, value: V) -> None:
        weight = self._weigh(key, value) if self._weigh is not None else 0
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        if self._max_bytes is not None and weight > self._max_bytes:
            return  # larger than the whole budget: not kept
        self._entries[key] = (value, weight)
        self._bytes += weight
        while len(self._entries) > self._max or (
            self._max_bytes is not None and self._bytes > self._max_bytes
        ):
            self._bytes -= self._entries.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def bytes(self) -> int:
        """The estimated size of what is kept (0 without `weigh`)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
