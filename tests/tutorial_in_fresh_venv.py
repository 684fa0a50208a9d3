"""`make docs-test`: the README's pytest tutorial as a new user lives it, in a venv that has nothing else.

A fresh venv, exactly the README's install line (its wheel path pointed at the wheel `make dist`
built) and the installs the section names for single examples, the README's pytest-section files (tests/plugin/test_docs.py's reading of them), then
`pytest` with no options: every test must pass, sync and async. The suite's own README test
cannot show this, because the development venv has every dependency already. Run by .ci/run;
the install needs the package index, so it stays out of `make test`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

from tests.plugin.test_docs import README, SECTION, TEST, project_files

WHEEL_IN_README = "/path/to/mockbay/dist/mockbay-{version}-py3-none-any.whl"


def install_line(version: str) -> str:
    """The one `pip install` line of the tutorial's step 1."""
    step = README.read_text().split("**1. Install**", 1)[1]
    block = re.search(r"```bash\n(.*?)```", step, re.DOTALL)
    assert block, "README's step 1 has no bash block"
    lines = [line for line in block.group(1).splitlines() if line.startswith("pip install")]
    assert len(lines) == 1, f"expected one pip install line in step 1, got {lines}"
    assert WHEEL_IN_README.format(version=version) in lines[0], "the install line names another wheel"
    return lines[0]


def extras_named_in_the_section() -> list[str]:
    """Installs the section asks for beside step 1, for the examples that need them
    (`pip install "anthropic[bedrock]"` for a Bedrock client), as a reader would run them."""
    section = SECTION.search(README.read_text())
    assert section is not None
    return re.findall(r'`(pip install "[^"`]+")`', section.group(1))


def main() -> int:
    from mockbay import __version__

    wheel = Path("dist") / Path(WHEEL_IN_README.format(version=__version__)).name
    if not wheel.is_file():
        print(f"{wheel} is missing: run `make dist` first", file=sys.stderr)
        return 1
    line = install_line(__version__).replace(
        WHEEL_IN_README.format(version=__version__), str(wheel.resolve())
    )
    with tempfile.TemporaryDirectory(prefix="mockbay-tutorial-") as temp:
        project = Path(temp) / "project"
        venv.create(Path(temp) / "venv", with_pip=True)
        files = project_files()
        for name, text in files.items():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text)
        bin_dir = str(Path(temp) / "venv" / "bin")
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": str(Path(temp) / "venv"),
        }
        for name in ("PYTHONPATH", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"):
            env.pop(name, None)
        for command in (line, *extras_named_in_the_section()):
            print(f"$ {command}", flush=True)
            subprocess.run(["bash", "-c", command], cwd=project, env=env, check=True)
        expected = sum(len(TEST.findall(text)) for name, text in files.items() if name.endswith(".py"))
        print("$ pytest", flush=True)
        result = subprocess.run(["pytest"], cwd=project, env=env, capture_output=True, text=True)
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        if (
            result.returncode != 0
            or not re.search(rf"\b{expected} passed\b", summary)
            or "warning" in summary
        ):
            print(f"the tutorial failed: expected {expected} passed and nothing else, got: {summary}")
            return 1
    print(f"the tutorial passes in a fresh venv: {expected} tests, sync and async")
    return 0


if __name__ == "__main__":
    sys.exit(main())
