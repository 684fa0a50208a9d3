"""A table's rows checked at once, each on its own thread, for checks that mostly wait (for a
timeout to pass, or to not fire): the suite then waits once for the table, not once per row.

Each row's check keeps all its assertions; when any fail, the test fails with every failing
row's exception, each noted with the row's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Row = TypeVar("Row")


def check_rows_at_once(rows: Mapping[str, Row], check: Callable[[Row], object]) -> None:
    """Run `check(row)` for every row concurrently; raise a group of the failures."""
    with ThreadPoolExecutor(len(rows)) as pool:
        running = {name: pool.submit(check, row) for name, row in rows.items()}
    failures: dict[str, BaseException] = {}  # pytest.fail and pytest.raises raise BaseExceptions
    for name, future in running.items():
        error = future.exception()
        if isinstance(error, KeyboardInterrupt):
            raise error
        if error is not None:
            error.add_note(f"row: {name}")
            failures[name] = error
    if failures:
        failed = ", ".join(failures)
        raise BaseExceptionGroup(
            f"{len(failures)} of {len(rows)} rows failed: {failed}", list(failures.values())
        )
