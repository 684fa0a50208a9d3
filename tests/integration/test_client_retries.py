"""The README's advice for Claude Code 2.1.332, which answers a 400 by re-sending the request up
to six times with one `anthropic-beta` entry or `thinking.display` removed: the README's rule
keeps every variant a 400, where a `replies:` sequence would not."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import httpx

from mockbay.server.runner import MockServer
from tests.conftest import REPO

BETAS = [
    "claude-code-20250219",
    "context-1m-2025-08-07",
    "interleaved-thinking-2025-05-14",
    "context-management-2025-06-27",
    "effort-2025-11-24",
]
BODY: dict[str, Any] = {
    "model": "claude-opus-4-8",
    "max_tokens": 64000,
    "thinking": {"type": "adaptive", "display": "summarized"},
    "messages": [{"role": "user", "content": "Please summarise the whole repository."}],
    "stream": True,
}


def readme_example() -> str:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- client-error:start -->\n(.*?)<!-- client-error:end -->", readme, re.DOTALL)
    assert block is not None
    return textwrap.dedent(block.group(1)).removeprefix("```yaml\n").rstrip().removesuffix("```")


def claude_code_attempts() -> list[tuple[list[str], dict[str, Any]]]:
    """The first request, then six re-sends, each dropping one beta or thinking.display."""
    attempts = [(BETAS, BODY)]
    without_display = {**BODY, "thinking": {"type": "adaptive"}}
    attempts.append((BETAS, without_display))
    for index in range(len(BETAS)):
        attempts.append((BETAS[:index] + BETAS[index + 1 :], without_display))
    return attempts


def statuses(scenario: str) -> list[int]:
    with MockServer(fallback="generate") as server:
        server.load(scenario)
        found = []
        for betas, body in claude_code_attempts():
            headers = {"x-api-key": "k", "anthropic-version": "2023-06-01", "anthropic-beta": ",".join(betas)}
            response = httpx.post(f"{server.url}/v1/messages?beta=true", headers=headers, json=body)
            found.append(response.status_code)
            if response.status_code == 400:
                assert response.json()["error"]["message"].startswith("prompt is too long")
        return found


def test_the_readme_rule_stays_a_400_for_every_retry():
    assert statuses(readme_example()) == [400] * 7


def test_a_sequence_would_let_the_first_retry_through():
    rule = readme_example()
    sequence = (
        rule.replace("  - reply:\n      error:", "  - replies:\n      - error:") + "\n      - text: done\n"
    )
    assert sequence != rule + "\n      - text: done\n"
    assert statuses(sequence)[:2] == [400, 200]


def test_a_rule_on_the_beta_header_lets_its_retry_through():
    on_header = readme_example().replace(
        "last_user:", 'header: {anthropic-beta: {contains: "effort-2025-11-24"}}\n  last_user:'
    )
    assert 200 in statuses(on_header)
