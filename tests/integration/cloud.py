"""Clients of the cloud forms against a local mockbay: fake credentials, everything on loopback."""

from __future__ import annotations

from typing import Any

from anthropic import AnthropicBedrock, AnthropicVertex

from mockbay.server.runner import MockServer
from tests.conftest import DATA, USER_HI

CLOUD_SCENARIOS = DATA / "cloud"
BEDROCK_MODEL = "global.anthropic.claude-sonnet-4-6-v1:0"
VERTEX_MODEL = "claude-sonnet-4-6@20260203"
REGION = "us-east-1"
OPEN_CLIENTS: list[AnthropicBedrock | AnthropicVertex] = []  # closed after each test (conftest.py)


def bedrock(server: MockServer, scenario: str, **options: Any) -> AnthropicBedrock:
    """SigV4 with a fake key pair unless `api_key=` asks for the Bedrock API-key (Bearer) form."""
    credentials = {} if "api_key" in options else {"aws_access_key": "AKIDTEST", "aws_secret_key": "fake"}
    client = AnthropicBedrock(
        base_url=f"{server.url}/s/{scenario}",
        aws_region=REGION,
        max_retries=0,
        **{**credentials, **options},
    )
    OPEN_CLIENTS.append(client)
    return client


def vertex(server: MockServer, scenario: str, **options: Any) -> AnthropicVertex:
    defaults = {"access_token": "ya29.fake-token", "project_id": "my-project", "region": "us-east5"}
    client = AnthropicVertex(
        base_url=f"{server.url}/s/{scenario}/v1", max_retries=0, **{**defaults, **options}
    )
    OPEN_CLIENTS.append(client)
    return client


def ask(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 1024, "messages": USER_HI, **extra}
