"""Scenarios built in Python: the same dict a YAML file holds, the same loader, the same messages."""

from __future__ import annotations

import sys

import anthropic
import pytest
import yaml

import mockbay as mb
from mockbay.errors import ScenarioError
from mockbay.server.runner import MockServer

EQUIVALENT_YAML = """
name: refunds
match:
  last_user: {contains: refund}
rules:
  - when: {last_user: {contains: late}}
    reply:
      content:
        - text: Let me check.
        - tool_use: {name: lookup, input: {order: A-1}}
  - reply: {text: Refunds take five days., stop_reason: end_turn}
"""


def built() -> mb.builder.Document:
    return mb.new_scenario(
        "refunds",
        match={"last_user": {"contains": "refund"}},
        rules=[
            mb.rule(
                when={"last_user": {"contains": "late"}},
                reply=mb.reply(
                    content=[
                        {"text": "Let me check."},
                        {"tool_use": {"name": "lookup", "input": {"order": "A-1"}}},
                    ]
                ),
            ),
            mb.rule(reply=mb.reply(text="Refunds take five days.", stop_reason="end_turn")),
        ],
    )


def ask(server: MockServer, text: str) -> anthropic.types.Message:
    with anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0) as client:
        return client.messages.create(
            model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": text}]
        )


def test_a_built_scenario_is_the_dict_its_yaml_holds() -> None:
    assert built() == yaml.safe_load(EQUIVALENT_YAML)


def test_a_built_scenario_answers_byte_for_byte_as_its_yaml() -> None:
    with MockServer() as from_python, MockServer() as from_yaml:
        assert from_python.load(built()) == from_yaml.load(EQUIVALENT_YAML) == ["refunds"]
        for question in ("my refund is late", "a refund please"):
            assert ask(from_python, question).to_dict() == ask(from_yaml, question).to_dict()


def test_the_same_validation_names_the_line_that_built_it() -> None:
    typo = mb.rule(reply=mb.reply(txt="hi"))  # the builder passes unknown keys on to the loader
    line = sys._getframe().f_lineno - 1
    with pytest.raises(ScenarioError) as caught:
        MockServer().load(typo)
    assert str(caught.value) == (
        f"<python test_builder.py:{line}>:4:5: unknown key 'txt' in rules[0].reply; did you mean 'text'?"
    )


def test_a_value_yaml_cannot_hold_is_a_clear_error() -> None:
    with pytest.raises(
        mb.MockbayError,
        match=r"<python test_builder.py:\d+>: the scenario built in Python holds a value YAML cannot",
    ):
        MockServer().load(mb.reply(text=object()))


def test_the_fixture_builds_and_loads_a_bare_rule(mockbay: MockServer) -> None:
    hello = mockbay.rule(when={"last_user": {"contains": "hi"}}, reply=mockbay.reply(text="Hello!"))
    line = sys._getframe().f_lineno - 1
    assert mockbay.load(hello) == [f"test_builder-line-{line}"]
    assert ask(mockbay, "hi there").content[0].text == "Hello!"
    assert mockbay.journal.last.step == "rules[0]"


@pytest.mark.mockbay(scenarios=[mb.turn(reply=mb.reply(text="first turn")), built()])
def test_the_marker_takes_built_documents(mockbay: MockServer) -> None:
    assert ask(mockbay, "a refund please").content[0].text == "Refunds take five days."
    assert ask(mockbay, "hello").content[0].text == "first turn"
