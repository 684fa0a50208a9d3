"""The checked-in request schema is what the installed SDK's types say, byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from mockbay.wire.schema import Compiler, Invalid, request_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "mockbay" / "wire" / "request_schema.json"


def test_regenerating_reproduces_the_checked_in_file() -> None:
    """What `make schema-gen` would write equals the file (`--check` compares without writing)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_request_schema.py"), "--check", str(SCHEMA)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_schema_names_the_sdk_it_follows() -> None:
    data = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert data["sdk"] == f"anthropic {version('anthropic')}" == request_schema().sdk
    assert set(data["roots"]) == {"messages", "count_tokens", "beta_messages", "beta_count_tokens"}


def test_every_def_compiles_to_a_check_that_runs() -> None:
    """Objects' checks are generated source compiled on first call: each one compiles and runs,
    refusing a missing required key or an undeclared one with its path."""
    defs = json.loads(SCHEMA.read_text(encoding="utf-8"))["defs"]
    compiler = Compiler(defs)
    for name, spec in defs.items():
        for value, expected in (({}, spec["required"][:1]), ({"?": 1}, spec["required"][:1] or ["?"])):
            try:
                compiler.ref(name)(value)
            except Invalid as error:
                assert error.parts == expected, name
            else:
                assert not expected or (spec["open"] and value), name
