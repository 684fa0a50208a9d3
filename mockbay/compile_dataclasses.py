"""`python -m mockbay.compile_dataclasses`: write the table of dataclass code (`mockbay.codecache`)
for this interpreter, whatever PYTHONDONTWRITEBYTECODE says: an explicit request, like
`python -m compileall`, which the Makefile's set-up and the Dockerfile make beside it."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys

from mockbay import codecache


def import_all() -> int:
    """Import every module of the package (those whose optional extra is missing are skipped), so
    that the table holds every class's code; how many modules were imported."""
    package = importlib.import_module(codecache.PACKAGE)
    imported = 0
    for module in pkgutil.walk_packages(package.__path__, f"{codecache.PACKAGE}.", onerror=lambda name: None):
        if module.name.endswith("__main__"):
            continue
        with contextlib.suppress(ImportError):
            importlib.import_module(module.name)
            imported += 1
    return imported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mockbay.compile_dataclasses", description=__doc__)
    parser.add_argument("-q", "--quiet", action="store_true", help="say nothing when the table is up to date")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the table lacks some code"
    )
    args = parser.parse_args(argv)
    if args.check:
        codecache.leave_unsaved()
    table = codecache.TABLE
    modules = import_all()
    new = table.compiled
    if args.check:
        print(f"{table.path}: {new} missing, {table.hits} found ({modules} modules)")
        return 1 if new else 0
    if new and not table.save():
        print(f"{table.path}: cannot be written", file=sys.stderr)
        return 1
    if new or not args.quiet:
        print(f"{table.path}: {new} compiled, {table.hits} found ({modules} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
