"""Any stream event and any error text survive mockbay's event-stream framing, as botocore reads it."""

from __future__ import annotations

import base64
import json

from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from mockbay.wire.eventstream import chunk, exception

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
EVENTS = st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5).map(
    lambda fields: {**fields, "type": "content_block_delta"}
)


def _messages(raw: bytes) -> list:
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    return list(buffer)


@settings(max_examples=60, deadline=None)
@given(EVENTS)
def test_a_chunk_carries_the_event_exactly(event):
    (message,) = _messages(chunk(event))
    assert message.headers[":event-type"] == "chunk"
    assert json.loads(base64.b64decode(json.loads(message.payload)["bytes"])) == event


@settings(max_examples=60, deadline=None)
@given(st.text(), st.sampled_from(["throttlingException", "serviceUnavailableException"]))
def test_an_exception_frame_carries_its_message(text, kind):
    (message,) = _messages(exception(kind, text))
    assert message.headers == {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    assert json.loads(message.payload) == {"message": text}
