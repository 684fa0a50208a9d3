"""Command line: serve | validate | schema | record. `main(argv) -> int` is tested in-process."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    return 0
