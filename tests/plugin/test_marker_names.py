"""In pytest as in `serve` and `validate`: one scenario name defined in two of a test's files is an error
naming both, while the same file named by two markers is read once."""

from __future__ import annotations

import pytest

from .inner import project

pytest_plugins = ["pytester"]

SUITE = """
import pytest
from helper import ask

pytestmark = pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"])


@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"])
def test_same_file_twice(mockbay):
    assert ask(mockbay, "echo hi").content[0].text == "You said: echo hi"


@pytest.mark.mockbay(scenarios=["scenarios/echo-copy.yaml"])
def test_same_name_in_two_files(mockbay):
    pass
"""


def test_a_duplicate_name_fails_the_test_naming_both_files(pytester: pytest.Pytester) -> None:
    project(pytester)
    echo = pytester.path / "tests" / "scenarios" / "echo.yaml"
    copy = echo.with_name("echo-copy.yaml")
    copy.write_text(echo.read_text())
    pytester.makepyfile(**{"tests/test_names": SUITE})
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [f"*{copy}:2:1: duplicate scenario name 'echo'; first defined at {echo}:2:1*"]
    )
