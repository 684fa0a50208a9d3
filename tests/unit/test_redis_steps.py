"""A shared store's big transfers go in steps of about STEP_BYTES, so no Redis call outlasts its
timeout: a batch create's requests are grouped in order, each step at least one request."""

from __future__ import annotations

import pytest

from mockbay.store.redis_store import STEP_BYTES, _steps

HALF = "x" * (STEP_BYTES // 2)
BIG = "y" * (STEP_BYTES + 1)


@pytest.mark.parametrize(
    ("lines", "steps"),
    [
        ([], [[]]),
        (["a", "b"], [["a", "b"]]),
        ([HALF, HALF], [[HALF, HALF]]),
        ([HALF, HALF, "c"], [[HALF, HALF], ["c"]]),
        ([BIG, "a", "b"], [[BIG], ["a", "b"]]),
        (["a", BIG, BIG], [["a"], [BIG], [BIG]]),
    ],
    ids=["none", "small", "exactly-one-step", "over-by-one", "one-too-big-alone", "each-too-big"],
)
def test_lines_go_in_order_in_steps_of_about_step_bytes(lines: list[str], steps: list[list[str]]) -> None:
    assert _steps(lines, len) == steps
