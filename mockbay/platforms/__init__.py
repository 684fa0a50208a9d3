"""The wire forms mockbay speaks, one pipeline behind them: Anthropic's own API, Amazon Bedrock's
and Google Vertex AI's (docs/cloud-platforms.md). This module holds only the closed choice, so the
scenario schema can name it without importing the adapters."""

from __future__ import annotations

ANTHROPIC = "anthropic"
BEDROCK = "bedrock"
VERTEX = "vertex"
PLATFORMS = (ANTHROPIC, BEDROCK, VERTEX)
NAMED_BY_REQUEST_ID = frozenset({ANTHROPIC, VERTEX})
"""The wires whose answers carry Anthropic's identity headers: `request-id` and the caller's
(`anthropic-organization-id`, an echoed `anthropic-workspace-id`). Bedrock's name the request
in `x-amzn-RequestId` alone, as real Bedrock's do, so the SDK's `_request_id` stays None there."""
