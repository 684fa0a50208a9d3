"""Request patterns leave `re`'s process-wide cache when long (mockbay/pattern_cache.py)."""

from __future__ import annotations

import random

from mockbay.pattern_cache import CACHED_PATTERN_CHARS, holds_long_text
from mockbay.regexgen import matching_string
from tests.conftest import cached_patterns

LONG = "b" * (CACHED_PATTERN_CHARS + 1)


def test_a_long_string_is_found_anywhere_in_a_schema_keys_included() -> None:
    assert not holds_long_text({"properties": {"a": {"pattern": "^a+$"}}, "enum": ["x", 1, None]})
    assert holds_long_text({"anyOf": [{"items": [{"pattern": LONG}]}]})
    assert holds_long_text({"patternProperties": {LONG: {}}})
    assert holds_long_text(LONG) and not holds_long_text("a" * CACHED_PATTERN_CHARS)


def test_the_generate_fallback_leaves_no_long_pattern_in_the_re_cache() -> None:
    pattern = f"^(a|{LONG})$"
    assert matching_string(pattern, random.Random(0), 0, 10) == "a"
    assert pattern not in cached_patterns()
    assert matching_string("^(a|c)$", random.Random(0), 0, 10) in ("a", "c")
    assert "^(a|c)$" in cached_patterns()
