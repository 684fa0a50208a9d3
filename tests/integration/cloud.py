"""Clients of the cloud forms against a local mockbay: fake credentials, everything on loopback."""

from __future__ import annotations

from typing import Any

from anthropic import AnthropicBedrock, AnthropicVertex

from mockbay.server.runner import MockServer
from tests.conftest import DATA, USER_HI

CLOUD_SCENARIOS = DATA / "cloud"
BEDROCK_MODEL = "global.anthropic.claude-sonnet-4-6-v1:0"
VERTEX_MODEL = "claude-sonnet-4-6@20260203"
OPEN_CLIENTS: list[AnthropicBedrock | AnthropicVertex] = []  # closed after each test (conftest.py)


def bedrock_options(url: str, **options: Any) -> dict[str, Any]:
    """A Bedrock client of the server (or recorder) at `url`: SigV4 with a fake key pair unless
    `api_key=` asks for the Bedrock API-key (Bearer) form."""
    credentials = {} if "api_key" in options else {"aws_access_key": "AKIDTEST", "aws_secret_key": "fake"}
    return {"base_url": url, "aws_region": "us-east-1", "max_retries": 0, **credentials, **options}


def vertex_options(url: str, **options: Any) -> dict[str, Any]:
    """A Vertex client of the server (or recorder) at `url`: a fake access token, so the SDK never
    asks Google for one."""
    base = {
        "base_url": f"{url}/v1",
        "access_token": "ya29.fake-token",
        "project_id": "my-project",
        "region": "us-east5",
        "max_retries": 0,
    }
    return {**base, **options}


def bedrock(server: MockServer, scenario: str, **options: Any) -> AnthropicBedrock:
    client = AnthropicBedrock(**bedrock_options(f"{server.url}/s/{scenario}", **options))
    OPEN_CLIENTS.append(client)
    return client


def vertex(server: MockServer, scenario: str, **options: Any) -> AnthropicVertex:
    client = AnthropicVertex(**vertex_options(f"{server.url}/s/{scenario}", **options))
    OPEN_CLIENTS.append(client)
    return client


def ask(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 1024, "messages": USER_HI, **extra}
