"""`bench/attribution.py --steps` names the pipeline's steps by module and attribute: each must
still be there, or the timed server fails to start (a refactor once moved the fingerprint)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def steps() -> Iterator[tuple[tuple[str, str], ...]]:
    """The table, read with bench/ on the path; its scripts' top-level names (`run`, `common`, ...)
    are taken out of `sys.modules` again, so no later import in this process finds them."""
    before = set(sys.modules)
    sys.path.insert(0, str(REPO / "bench"))
    try:
        yield importlib.import_module("attribution").STEPS
    finally:
        sys.path.remove(str(REPO / "bench"))
        for name in set(sys.modules) - before:
            if str(REPO / "bench") in str(getattr(sys.modules[name], "__file__", "")):
                del sys.modules[name]


def test_every_timed_step_is_where_the_pipeline_calls_it(steps: tuple[tuple[str, str], ...]) -> None:
    missing = []
    for module_name, attribute in steps:
        owner: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            owner = getattr(owner, part, None)
        if not callable(owner):
            missing.append(f"{module_name}.{attribute}")
    assert missing == []
