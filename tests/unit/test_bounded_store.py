"""BoundedStore: caps by count and bytes, eviction or refusal, replacement in place, paging."""

from __future__ import annotations

import pytest

from mockbay.store.bounded import BoundedStore, StoreFull, UnknownCursor


def filled(count: int, **caps: int) -> BoundedStore[str]:
    store: BoundedStore[str] = BoundedStore(caps.get("entries", 100), caps.get("bytes", 1000), evict=True)
    for n in range(count):
        store.put(f"k{n}", f"v{n}", 10)
    return store


def test_an_evicting_store_drops_the_oldest_beyond_either_cap():
    by_count = filled(5, entries=3)
    assert [by_count.get(f"k{n}") for n in range(5)] == [None, None, "v2", "v3", "v4"]
    by_bytes = filled(5, bytes=25)
    assert len(by_bytes) == 2 and by_bytes.bytes_used == 20


def test_a_replacement_keeps_its_place_and_updates_the_bytes():
    store = filled(3)
    store.put("k0", "bigger", 50)
    assert store.bytes_used == 70
    assert [v for v in store.page(10).items] == ["v2", "v1", "bigger"]  # newest first, k0 still oldest


def test_the_item_just_put_is_never_evicted():
    store = filled(2, bytes=30)
    store.put("huge", "h", 100)
    assert store.get("huge") == "h" and len(store) == 1


def test_a_refusing_store_changes_nothing_when_full():
    store: BoundedStore[str] = BoundedStore(2, 25, evict=False)
    store.put("a", "a", 10)
    with pytest.raises(StoreFull):
        store.put("b", "b", 20)
    store.put("b", "b", 10)
    with pytest.raises(StoreFull):
        store.put("c", "c", 1)
    assert (len(store), store.bytes_used) == (2, 20)
    assert store.delete("a") and not store.delete("a")
    store.put("c", "c", 15)
    assert store.bytes_used == 25


def test_pages_go_both_ways_from_a_cursor():
    store = filled(5)  # newest first: k4 k3 k2 k1 k0
    first = store.page(2)
    assert (first.items, first.has_more) == (["v4", "v3"], True)
    assert store.page(2, after_id="k3").items == ["v2", "v1"]
    last = store.page(2, after_id="k1")
    assert (last.items, last.has_more) == (["v0"], False)
    back = store.page(2, before_id="k1")
    assert (back.items, back.has_more) == (["v3", "v2"], True)
    with pytest.raises(UnknownCursor, match="after_id"):
        store.page(2, after_id="gone")
    store.reset()
    assert (len(store), store.bytes_used, store.page(5).items) == (0, 0, [])
