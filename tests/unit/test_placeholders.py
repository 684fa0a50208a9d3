"""The plain placeholders' values, read from the request only when a template names one."""

from __future__ import annotations

import pytest

from mockbay.render.content import RequestValues
from mockbay.render.text import PLAIN_PLACEHOLDERS, placeholder_error
from tests.unit.test_fallback import req


def test_every_placeholder_a_scenario_may_name_has_its_value() -> None:
    values = RequestValues(req("hi", turn=2), "req_1")
    assert dict(values) == {
        "last_user": "hi",
        "model": "claude-haiku-4-5",
        "turn": "2",
        "request_id": "req_1",
    }
    assert list(values) == list(PLAIN_PLACEHOLDERS)


def test_reading_one_value_derives_no_other_fact() -> None:
    request = req("hi", turn=2)
    RequestValues(request, "req_1").get("model")
    assert "last_user_text" not in vars(request) and "turn" not in vars(request)
    assert RequestValues(request, "req_1").get("faker.name", "{{ faker.name }}") == "{{ faker.name }}"


@pytest.mark.parametrize(
    ("text", "unclosed"),
    [
        ("You said: {{ last_user ", "{{ last_user"),
        ("{{last_user}", "{{last_user"),
        ("{{ last user }}", "{{ last"),
        ("{{ faker.name() }}", "{{ faker.name"),
        ("{{ model }} then {{ turn", "{{ turn"),
    ],
)
def test_a_name_opened_with_braces_must_close_at_once(text: str, unclosed: str) -> None:
    """Sent as typed, never filled in: a load error, as an unknown placeholder is."""
    assert placeholder_error(text) == (
        f"unclosed placeholder {unclosed!r}: a placeholder is {{{{ name }}}}, closed right after its "
        "name (known: last_user, model, turn, request_id, faker.<provider>)"
    )


@pytest.mark.parametrize("text", ['format!("{{}}")', "{{ 1 }}", "{{", "}}", "{{{{ model }}", "a {{ turn }}b"])
def test_braces_that_open_no_name_are_text(text: str) -> None:
    assert placeholder_error(text) is None
