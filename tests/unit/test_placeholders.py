"""The plain placeholders' values, read from the request only when a template names one."""

from __future__ import annotations

from mockbay.render.content import RequestValues
from mockbay.render.text import PLAIN_PLACEHOLDERS
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
