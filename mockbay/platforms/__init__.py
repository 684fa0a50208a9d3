"""The wire forms mockbay speaks, one pipeline behind them: Anthropic's own API, Amazon Bedrock's
and Google Vertex AI's (docs/cloud-platforms.md). This module holds only the closed choice, so the
scenario schema can name it without importing the adapters."""

from __future__ import annotations

ANTHROPIC = "anthropic"
BEDROCK = "bedrock"
VERTEX = "vertex"
PLATFORMS = (ANTHROPIC, BEDROCK, VERTEX)
