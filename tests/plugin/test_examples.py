"""The example suite in examples/ passes against the plugin, run in place with the project's config."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_suite_passes(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        str(EXAMPLES),
        "-p",
        "no:cacheprovider",
        # Inline runs find mockbay imported already; a fresh `pytest examples` never warns this.
        "-W",
        "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning",
    )

    result.assert_outcomes(passed=4)
