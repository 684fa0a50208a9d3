"""Turning a scenario reply into an Anthropic message and its SSE events. Pure functions."""
