"""A client pointed at the mockbay fixture's server, shared by the example tests."""

from __future__ import annotations

import anthropic
import pytest

from mockbay import MockServer


@pytest.fixture
def client(mockbay: MockServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=mockbay.url, api_key="test-key")
