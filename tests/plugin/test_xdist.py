"""Under pytest-xdist each worker runs its own server; the plugin loads by its entry point alone."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

SUITE = """
import os
from pathlib import Path

import pytest


@pytest.mark.parametrize("n", range(6))
def test_record_server(mockbay, n):
    mockbay.load("name: s\\nrules:\\n  - reply: {text: hi}\\n")
    assert mockbay.journal.call_count == 0
    Path(f"seen-{n}.txt").write_text(os.environ["PYTEST_XDIST_WORKER"] + " " + mockbay.url)
"""


def test_each_worker_has_its_own_server(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_suite=SUITE)

    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=6)
    seen = {tuple(path.read_text().split()) for path in pytester.path.glob("seen-*.txt")}
    workers = {worker: url for worker, url in seen}
    assert len(seen) == len(workers) == 2, f"one server per worker, both workers used: {seen}"
    assert len(set(workers.values())) == 2
