"""`mockbay serve` freezes what it loaded (`tune_process`); a `--watch` reload can free the old
scenarios only because they hold no reference cycles, so reference counting alone frees them."""

from __future__ import annotations

import gc

import pytest

from mockbay.loading import load_registry
from tests.conftest import DATA, REPO

FOLDERS = [
    REPO / "scenarios",
    *(DATA / name for name in ("scenarios", "surface", "usage", "timing", "cloud", "language")),
]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_a_loaded_registry_holds_no_reference_cycles(folder):
    load_registry([folder])  # first-use imports and caches, which are not the registry's
    gc.collect()
    gc.disable()
    try:
        registry = load_registry([folder])
        assert len(registry) > 0
        del registry
        assert gc.collect() == 0
    finally:
        gc.enable()
