"""Helpers for running pytest inside a test (`pytester`) the way a mockbay user's project would."""

from __future__ import annotations

import pytest

# What a user's project with `--strict-markers` and warnings as errors looks like; the plugin is
# loaded by name, as in this project's own configuration, rather than by its entry point. Runs are
# inline (fast), so mockbay is already imported when the inner pytest would rewrite its asserts.
INI = """
[pytest]
addopts = -p no:mockbay -p mockbay.pytest_plugin -p no:cacheprovider --strict-markers
asyncio_mode = {mode}
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning
"""

SCENARIOS = {
    "scenarios/echo.yaml": """
name: echo
match:
  last_user: {contains: echo}
rules:
  - reply:
      text: "You said: {{ last_user }}"
""",
    "scenarios/steps.yaml": """
name: steps
match:
  last_user: {contains: step}
rules:
  - replies:
      - text: "one"
      - text: "two"
    then: error
""",
    "scenarios/weather.yaml": """
name: weather
match:
  system: {contains: weather}
turns:
  - reply:
      content:
        - tool_use: {name: get_weather, input: {city: Paris}}
  - when: {tool_result: {name: get_weather}}
    reply:
      text: "Sunny."
""",
}

CLIENT = '''
import anthropic

def ask(server, text):
    """One request to the server; the client is closed again so no socket is left to warn about."""
    with anthropic.Anthropic(base_url=server.url, api_key="test-key", max_retries=0) as client:
        return client.messages.create(
            model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": text}]
        )
'''


def project(pytester: pytest.Pytester, mode: str = "auto") -> None:
    """An ini, shared scenario files under tests/, and a tiny client helper module."""
    pytester.makeini(INI.format(mode=mode))
    for name, text in SCENARIOS.items():
        path = pytester.path / "tests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (pytester.path / "tests" / "helper.py").write_text(CLIENT)
