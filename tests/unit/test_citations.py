"""The citation table of mockbay/blocks/citations.py is the SDK's citation union, field for field."""

from __future__ import annotations

import re
import typing

import pytest
from anthropic.types import TextCitation

from mockbay.blocks import citations
from tests.conftest import REPO

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


def test_the_scenario_spec_is_the_table() -> None:
    """The loader and the JSON Schema check citations through SPEC: made from the table, not kept apart."""
    assert list(citations.SPEC.choices) == list(citations.FIELDS)
    for kind, form in citations.SPEC.choices.items():
        table = citations.FIELDS[kind]
        assert list(form.fields) == ["type", *table]
        assert set(form.required) == {"type"} | {name for name, (_, _, given) in table.items() if given}
        for name, (json_type, nullable, _) in table.items():
            spec = form.fields[name]
            assert (type(spec).__name__, spec.nullable) == (
                {"integer": "Int", "string": "Str"}[json_type],
                nullable,
            )


def test_the_readme_table_is_the_table() -> None:
    """README's citation table names each type's fields, the required ones in bold."""
    rows = re.findall(r"^  \| `(\w+)` \| (.+) \|$", (REPO / "README.md").read_text(), re.MULTILINE)
    documented = {
        kind: re.findall(r"(\*\*)?`(\w+)`", cells) for kind, cells in rows if kind in citations.FIELDS
    }
    assert set(documented) == set(citations.FIELDS)
    for kind, fields in documented.items():
        table = citations.FIELDS[kind]
        assert {name for _, name in fields} == set(table), kind
        assert {name for bold, name in fields if bold} == {
            n for n, (_, _, given) in table.items() if given
        }, kind
