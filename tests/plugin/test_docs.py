"""The README's pytest section runs: its Python, YAML and TOML blocks are one project's files, and pass.

Each such block names its file on its first line (`# tests/test_x.py`); the project is written
out and run in a fresh pytest process, as a new user would run it after `pip install mockbay`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = re.compile(r"<!-- pytest:start -->(.*?)<!-- pytest:end -->", re.DOTALL)
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
RUNNABLE = ("python", "yaml", "toml")
TEST = re.compile(r"^(?:async )?def (test_\w+)", re.MULTILINE)


def project_files() -> dict[str, str]:
    """File name → text, in page order; a runnable block without a file name is an error."""
    files = {}
    section = SECTION.search(README.read_text())
    assert section is not None, "README.md lost its <!-- pytest:start --> ... <!-- pytest:end --> markers"
    for language, text in BLOCK.findall(section.group(1)):
        if language not in RUNNABLE:
            continue
        first, _, rest = text.partition("\n")
        assert first.startswith("# ") and "." in first, f"a {language} block must name its file:\n{text}"
        name = first[2:].strip()
        assert name not in files, f"{name} appears twice in the README's pytest section"
        files[name] = rest if language == "toml" else text
    return files


def test_every_example_in_the_pytest_guide_passes(pytester: pytest.Pytester) -> None:
    files = project_files()
    for name, text in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    tests = [t for name, text in files.items() if name.endswith(".py") for t in TEST.findall(text)]

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")

    assert len(tests) >= 10
    result.assert_outcomes(passed=len(tests))
