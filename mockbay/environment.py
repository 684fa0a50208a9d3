"""Options from the environment: `MOCKBAY_<NAME>`, read by the CLI as defaults (the command line wins)."""

from __future__ import annotations

import os

PREFIX = "MOCKBAY_"


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"{PREFIX}{name}", default)


def env_list(name: str, sep: str) -> list[str]:
    """`MOCKBAY_SCENARIOS=a:b` -> ["a", "b"]; empty items are dropped."""
    value = env(name)
    return [item for item in value.split(sep) if item] if value else []
