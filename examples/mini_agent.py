"""A tiny tool-using agent: call the model until it stops asking for tools.

This is the code under test in the examples; it knows nothing about mockbay.
"""

from __future__ import annotations

from typing import Any

import anthropic

MODEL = "claude-sonnet-4-6"
SYSTEM = "You are a weather assistant. Use the tools to answer."
TOOLS: list[dict[str, Any]] = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def get_weather(city: str) -> str:
    """The fake tool: a real agent would call a weather service here."""
    return f"{city}: 18 C, sunny"


def run_agent(client: anthropic.Anthropic, question: str, max_steps: int = 5) -> str:
    """Loop until stop_reason is not tool_use, feeding tool results back; returns the final text."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    for _ in range(max_steps):
        response = client.messages.create(
            model=MODEL,
            max_tokens=2048,
            system=SYSTEM,
            tools=TOOLS,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=messages,
        )
        if response.stop_reason != "tool_use":
            return "".join(block.text for block in response.content if block.type == "text")
        messages.append({"role": "assistant", "content": response.content})
        results = [
            {"type": "tool_result", "tool_use_id": block.id, "content": get_weather(**block.input)}
            for block in response.content
            if block.type == "tool_use"
        ]
        messages.append({"role": "user", "content": results})
    raise RuntimeError(f"agent did not finish in {max_steps} steps")
