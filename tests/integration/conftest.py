"""Fixtures of the cloud-platform tests: one server over the test scenarios and the cloud ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockbay.server.runner import MockServer
from tests.conftest import SCENARIOS
from tests.integration.cloud import CLOUD_SCENARIOS, OPEN_CLIENTS


@pytest.fixture(scope="module")
def cloud_server() -> Iterator[MockServer]:
    with MockServer([SCENARIOS, CLOUD_SCENARIOS]) as server:
        yield server


@pytest.fixture(autouse=True)
def _close_cloud_clients() -> Iterator[None]:
    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()
