"""`bench/attribution.py --steps` and `--free` name the pipeline's steps by module and attribute:
each must still be there, or the timed or freed server fails to start (a refactor once moved the
fingerprint)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Iterator
from types import ModuleType

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def attribution() -> Iterator[ModuleType]:
    """The table, read with bench/ on the path; its scripts' top-level names (`run`, `common`, ...)
    are taken out of `sys.modules` again, so no later import in this process finds them."""
    before = set(sys.modules)
    sys.path.insert(0, str(REPO / "bench"))
    try:
        yield importlib.import_module("attribution")
    finally:
        sys.path.remove(str(REPO / "bench"))
        for name in set(sys.modules) - before:
            if str(REPO / "bench") in str(getattr(sys.modules[name], "__file__", "")):
                del sys.modules[name]


def _missing(targets: Iterable[tuple[str, str]]) -> list[str]:
    missing = []
    for module_name, attribute in targets:
        owner: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            owner = getattr(owner, part, None)
        if not callable(owner):
            missing.append(f"{module_name}.{attribute}")
    return missing


def test_every_timed_step_is_where_the_pipeline_calls_it(attribution: ModuleType) -> None:
    assert _missing(attribution.STEPS) == []


def test_every_freeable_step_is_where_the_pipeline_calls_it(attribution: ModuleType) -> None:
    assert _missing((module, attribute) for module, attribute, _ in attribution.FREE.values()) == []


def test_free_names_only_known_steps_once(attribution: ModuleType) -> None:
    assert attribution.free_list("schema,fingerprint") == ("schema", "fingerprint")
    for text in ("schema,bogus", "schema,schema"):
        with pytest.raises(
            argparse.ArgumentTypeError, match="schema, facts, fingerprint, estimate, memo-store"
        ):
            attribution.free_list(text)
