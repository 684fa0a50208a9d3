"""The prebuilt encoders write exactly what json.dumps writes with the same options."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockbay.jsontext import canonical, compact

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(JSON)
def test_same_text_as_json_dumps(value: Any) -> None:
    assert compact(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert canonical(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def test_what_json_cannot_hold_is_a_type_error_and_leaves_no_state() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        compact({"a": [object()]})
    shared = [1]
    assert compact({"a": shared, "b": shared}) == '{"a":[1],"b":[1]}'
