"""A client pointed at the mockbay fixture's server, shared by the example tests."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest

from mockbay import MockServer


@pytest.fixture
def client(mockbay: MockServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=mockbay.url, api_key="test-key") as client:
        yield client
