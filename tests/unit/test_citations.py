"""The citation table of mockbay/blocks/citations.py is the SDK's citation union, field for field."""

from __future__ import annotations

import typing

import pytest
from anthropic.types import TextCitation

from mockbay.blocks import citations

SDK = {
    cls.model_fields["type"].annotation.__args__[0]: cls
    for cls in typing.get_args(typing.get_args(TextCitation)[0])
}


def test_the_table_has_the_sdk_union_members() -> None:
    assert set(citations.FIELDS) == set(SDK)


@pytest.mark.parametrize("kind", sorted(SDK))
def test_fields_types_and_nullability_are_the_sdk_models(kind: str) -> None:
    model = SDK[kind].model_fields
    table = citations.FIELDS[kind]
    assert set(table) | {"type"} == set(model)
    for name, (json_type, nullable, _) in table.items():
        annotation = model[name].annotation
        assert (type(None) in typing.get_args(annotation)) is nullable, name
        base = next(a for a in (*typing.get_args(annotation), annotation) if a in (int, str))
        assert {int: citations.INT, str: citations.STR}[base] == json_type, name
        if not model[name].is_required():
            assert not table[name][2], f"{name} is optional in the SDK, so a scenario may leave it out"


def test_a_wrong_citation_is_explained() -> None:
    assert citations.problem({"type": "char_location", "document_index": 0}) == (
        "char_location needs start_char_index, end_char_index"
    )
    assert "not one of" in str(citations.problem({"type": "url_location"}))
    assert (
        citations.problem(
            {"type": "page_location", "document_index": "0", "start_page_number": 1, "end_page_number": 2}
        )
        == "page_location.document_index must be an integer, got '0'"
    )
