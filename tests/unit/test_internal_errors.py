"""A kept traceback is bounded whatever its exception quotes (`exchanges.kept_traceback`)."""

from __future__ import annotations

from mockbay.server.exchanges import MAX_INTERNAL_ERROR_CHARS, kept_traceback


def test_a_short_traceback_is_kept_whole():
    detail = "Traceback (most recent call last):\n  ...\nValueError: short\n"
    assert kept_traceback(detail) is detail


def test_a_traceback_quoting_a_huge_value_keeps_its_two_ends():
    detail = "Traceback (most recent call last):\n" + "x" * 1_000_000 + "\nValueError: the end\n"
    kept = kept_traceback(detail)
    assert len(kept) < MAX_INTERNAL_ERROR_CHARS + 100
    assert kept.startswith("Traceback (most recent call last):\n")
    assert kept.endswith("\nValueError: the end\n")
    assert f"[... {len(detail) - MAX_INTERNAL_ERROR_CHARS:,} characters cut ...]" in kept
