"""Text citations: the five location types of the SDK's citation union, checked and completed.

`FIELDS` is the union as data (each type's fields, their JSON types, which may be null, which
must be given); a unit test holds it equal to the SDK's models. `SPEC`, the scenario key's
spec, is made from it, so the loader and the JSON Schema check one table; the schema names it
`citation`, and `CITATIONS`, a text block's list (beside `text:` or inside its wire form),
refers to it by that name. A citation may leave out what the request already says: `cited_text`
(the cited range of the request's document or search result), `document_title` and `title`,
and a web result's `encrypted_index` (derived from the seed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mockbay.render import ids
from mockbay.scenario.spec import Enum, Int, List, Obj, Ref, Spec, Str, Tagged

INT, STR = "integer", "string"
# type -> field -> (JSON type, nullable, must be given in a scenario)
FIELDS: dict[str, dict[str, tuple[str, bool, bool]]] = {
    "char_location": {
        "cited_text": (STR, False, False),
        "document_index": (INT, False, True),
        "document_title": (STR, True, False),
        "start_char_index": (INT, False, True),
        "end_char_index": (INT, False, True),
        "file_id": (STR, True, False),
    },
    "page_location": {
        "cited_text": (STR, False, False),
        "document_index": (INT, False, True),
        "document_title": (STR, True, False),
        "start_page_number": (INT, False, True),
        "end_page_number": (INT, False, True),
        "file_id": (STR, True, False),
    },
    "content_block_location": {
        "cited_text": (STR, False, False),
        "document_index": (INT, False, True),
        "document_title": (STR, True, False),
        "start_block_index": (INT, False, True),
        "end_block_index": (INT, False, True),
        "file_id": (STR, True, False),
    },
    "web_search_result_location": {
        "cited_text": (STR, False, False),
        "url": (STR, False, True),
        "title": (STR, True, False),
        "encrypted_index": (STR, False, False),
    },
    "search_result_location": {
        "cited_text": (STR, False, False),
        "search_result_index": (INT, False, True),
        "source": (STR, False, True),
        "title": (STR, True, False),
        "start_block_index": (INT, False, True),
        "end_block_index": (INT, False, True),
    },
}


def _field(name: str, json_type: str, nullable: bool) -> Spec:
    doc = f"The citation's {name}: {'an integer' if json_type == INT else 'a string'}" + (
        " or null." if nullable else "."
    )
    if json_type == INT:
        return Int(nullable=nullable, doc=doc)
    return Str(strict=True, nullable=nullable, doc=doc)


SPEC = Tagged(
    "type",
    {
        kind: Obj(
            {
                "type": Enum((kind,), doc="The citation's location type."),
                **{
                    name: _field(name, json_type, nullable)
                    for name, (json_type, nullable, _) in fields.items()
                },
            },
            required=("type", *(name for name, (_, _, given) in fields.items() if given)),
            build="wire_fields",
            doc=f"A {kind} citation.",
        )
        for kind, fields in FIELDS.items()
    },
    doc="A citation as the wire has it: its type picks its fields.",
)
CITATIONS = List(
    Ref("citation"),
    doc="Citations as the wire has them ({type: " + " | ".join(FIELDS) + ", ...}); "
    "cited_text may be left out where the request's document or search result gives it.",
)


def complete(
    citation: Mapping[str, Any], body: Mapping[str, Any], seed: int, fingerprint: str
) -> dict[str, Any]:
    """The wire citation: `cited_text` and titles from the request where left out."""
    out = dict(citation)
    kind = out["type"]
    if kind in ("char_location", "page_location", "content_block_location"):
        document = _nth(_blocks_of(body, "document"), out["document_index"])
        if "document_title" not in out:
            out["document_title"] = document.get("title") if document else None
        out.setdefault("cited_text", _document_text(document, out) if document else "")
    elif kind == "search_result_location":
        result = _nth(_blocks_of(body, "search_result"), out["search_result_index"])
        if "title" not in out:
            out["title"] = result.get("title") if result else None
        out.setdefault("cited_text", _joined(result.get("content") if result else None, out))
    else:
        out.setdefault("title", None)
        out.setdefault("cited_text", "")
        out.setdefault(
            "encrypted_index", ids.opaque(seed, fingerprint, "index", out["url"], out["cited_text"])
        )
    return out


def _blocks_of(body: Mapping[str, Any], kind: str) -> Iterator[Mapping[str, Any]]:
    """Blocks of one type across the request's messages, in order, inside tool results too."""
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        for block in _dicts(content):
            if block.get("type") == kind:
                yield block
            if block.get("type") == "tool_result":
                yield from (b for b in _dicts(block.get("content")) if b.get("type") == kind)


def _dicts(content: Any) -> list[Mapping[str, Any]]:
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _nth(blocks: Iterator[Mapping[str, Any]], index: int) -> Mapping[str, Any] | None:
    return next((b for i, b in enumerate(blocks) if i == index), None)


def _document_text(document: Mapping[str, Any], citation: Mapping[str, Any]) -> str:
    source = document.get("source")
    source = source if isinstance(source, dict) else {}
    if citation["type"] == "char_location" and isinstance(source.get("data"), str):
        return str(source["data"][citation["start_char_index"] : citation["end_char_index"]])
    if citation["type"] == "content_block_location":
        return _joined(source.get("content"), citation)
    return ""  # a PDF's pages are not read: give cited_text in the scenario


def _joined(content: Any, citation: Mapping[str, Any]) -> str:
    """The text of blocks [start_block_index, end_block_index) of a content list."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    cited = content[citation["start_block_index"] : citation["end_block_index"]]
    return "".join(str(b.get("text", "")) for b in cited if isinstance(b, dict))
