"""mockbay's thinking signatures: bound to the text they are sent with, told apart from anyone
else's by their framing, and never an exception whatever a client sends."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mockbay.render.ids import thinking_signature
from mockbay.wire.signatures import SIGNATURE_CHARS, edited_thinking, rebound_signature

TEXT = "The user greets me."
SIGNATURE = thinking_signature(1, "0123456789abcdef", 0, TEXT, TEXT)


def test_a_signature_checks_the_text_it_was_sent_with() -> None:
    assert len(SIGNATURE) == SIGNATURE_CHARS and SIGNATURE.startswith("EqQB")
    assert not edited_thinking(SIGNATURE, TEXT)
    assert edited_thinking(SIGNATURE, TEXT + " ") and edited_thinking(SIGNATURE, "")


def test_a_rebound_signature_checks_its_new_text_and_keeps_the_rest() -> None:
    rebound = rebound_signature(SIGNATURE, "The user")
    assert not edited_thinking(rebound, "The user") and edited_thinking(rebound, TEXT)
    assert rebound[:100] == SIGNATURE[:100]


def test_other_signatures_are_never_judged_or_rebound() -> None:
    for other in (
        "sig",
        "",
        "EqQBCkgivenSignature",
        "EqQB" + "A" * (SIGNATURE_CHARS - 4),
        SIGNATURE[:-4] + "!!!!",
    ):
        assert not edited_thinking(other, "anything")
        assert rebound_signature(other, "anything") == other


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.text(), st.none(), st.integers()), st.one_of(st.text(), st.none()))
def test_any_block_is_judged_without_error(signature: object, thinking: object) -> None:
    assert edited_thinking(signature, thinking) in (True, False)
