"""The model catalog facts and `GET /v1/models` paging (docs/wire.md §8, §10, §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from mockbay.errors import ApiError
from mockbay.wire.models import (
    CATALOG,
    find_model,
    list_models_page,
    min_cacheable_tokens,
    model_family,
    model_info_json,
    retrieve_model_json,
    tool_overhead,
)

SDK_MODEL_IDS = [  # §12.2, the SDK's literal union
    "claude-fable-5-2",
    "claude-mythos-5-2",
    "claude-haiku-5-5",
    "claude-sonnet-5-5",
    "claude-fable-5-1",
    "claude-opus-5-5",
    "claude-mythos-5-1",
    "claude-sonnet-5",
    "claude-fable-5",
    "claude-mythos-5",
    "claude-opus-5",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-mythos-preview",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-5",
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
]


@pytest.mark.parametrize("model_id", SDK_MODEL_IDS)
def test_every_sdk_model_id_is_known(model_id: str) -> None:
    assert find_model(model_id) is not None


@pytest.mark.parametrize(
    ("model_id", "canonical"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
        ("claude-opus-4-0", "claude-opus-4-20250514"),
        ("claude-opus-4-1", "claude-opus-4-1-20250805"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku-20241022"),
        ("claude-opus-4-6-20260205", "claude-opus-4-6"),  # dated form of a dateless id
        ("claude-haiku-4-5-20991231", "claude-haiku-4-5-20251001"),  # via the dateless alias
        ("claude-opus-4-20250514", "claude-opus-4-20250514"),
    ],
)
def test_find_model_resolves_aliases_and_dated_ids(model_id: str, canonical: str) -> None:
    info = find_model(model_id)
    assert info is not None and info.id == canonical


@pytest.mark.parametrize("model_id", ["", "gpt-4o", "claude-x", "claude-opus-9", "claude-opus-4-6-2026"])
def test_find_model_unknown_is_none(model_id: str) -> None:
    assert find_model(model_id) is None


@pytest.mark.parametrize(
    ("model_id", "max_tokens", "context", "cache_min", "auto", "forced", "new_tokenizer"),
    [
        ("claude-opus-4-20250514", 32_000, 200_000, 1024, 313, 315, False),
        ("claude-opus-4-1", 32_000, 200_000, 1024, 313, 315, False),
        ("claude-sonnet-4-20250514", 64_000, 200_000, 1024, 313, 315, False),
        ("claude-3-5-haiku-20241022", 8192, 200_000, 2048, 264, 340, False),
        ("claude-3-7-sonnet-20250219", 64_000, 200_000, 1024, 346, 313, False),
        ("claude-haiku-4-5", 64_000, 200_000, 4096, 496, 588, False),
        ("claude-sonnet-4-5", 64_000, 200_000, 1024, 496, 588, False),
        ("claude-opus-4-6", 128_000, 200_000, 4096, 497, 589, False),
        ("claude-opus-4-7", 128_000, 1_000_000, 2048, 675, 804, True),
        ("claude-opus-4-8", 128_000, 1_000_000, 1024, 290, 410, True),
        ("claude-sonnet-5", 128_000, 1_000_000, 1024, 354, 474, True),
        ("claude-opus-5", 128_000, 1_000_000, 512, 354, 474, True),
    ],
)
def test_catalog_facts(
    model_id: str, max_tokens: int, context: int, cache_min: int, auto: int, forced: int, new_tokenizer: bool
) -> None:
    info = find_model(model_id)
    assert info is not None
    assert (info.max_tokens, info.max_input_tokens) == (max_tokens, context)
    assert min_cacheable_tokens(model_id) == cache_min
    assert (tool_overhead(model_id, False), tool_overhead(model_id, True)) == (auto, forced)
    assert info.new_tokenizer is new_tokenizer


def test_newer_tokenizer_is_opus_4_7_on_and_every_5x_model() -> None:
    for info in CATALOG:
        version = info.display_name.split()[-1]
        expected = version.startswith("5") or info.id in {"claude-opus-4-7", "claude-opus-4-8"}
        assert info.new_tokenizer is expected, info.id


def test_unknown_ids_get_defaults() -> None:
    assert min_cacheable_tokens("some-other-model") == 1024
    assert tool_overhead("some-other-model", False) > 0
    assert tool_overhead("some-other-model", True) > 0


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("claude-haiku-4-5", "haiku"),
        ("claude-3-5-haiku-latest", "haiku"),
        ("claude-sonnet-5-5", "sonnet"),
        ("claude-opus-4-20250514", "opus"),
        ("claude-fable-5-1", "fable"),
        ("claude-mythos-preview", "mythos"),
        ("anthropic.claude-OPUS-4-1-v1:0", "opus"),
        ("gpt-4o", "other"),
        ("", "other"),
    ],
)
def test_model_family_works_on_any_string(model_id: str, family: str) -> None:
    assert model_family(model_id) == family


def test_catalog_entries_are_well_formed() -> None:
    ids = [m.id for m in CATALOG]
    names = ids + [alias for m in CATALOG for alias in m.aliases]
    assert len(names) == len(set(names))
    for info in CATALOG:
        datetime.fromisoformat(info.created_at)
        assert info.line in {"haiku", "sonnet", "opus", "fable", "mythos"}
        assert info.line == model_family(info.id)
        assert (info.deprecated_at is None) == (info.lifecycle == "active")


def test_model_info_json_has_the_upstream_fields() -> None:
    info = find_model("claude-sonnet-4-5")
    assert info is not None
    body = model_info_json(info)
    assert body["type"] == "model" and body["id"] == "claude-sonnet-4-5-20250929"
    assert body["display_name"] == "Claude Sonnet 4.5"
    assert body["lifecycle"] == "deprecated" and body["retires_at"] == "2026-11-30T00:00:00Z"
    assert (body["max_tokens"], body["max_input_tokens"]) == (64_000, 200_000)
    assert {"created_at", "deprecated_at", "line", "capabilities"} <= body.keys()


def test_retrieve_known_and_alias() -> None:
    assert retrieve_model_json("claude-opus-4-0")["id"] == "claude-opus-4-20250514"


def test_retrieve_unknown_is_a_404() -> None:
    with pytest.raises(ApiError) as caught:
        retrieve_model_json("claude-x")
    assert (caught.value.status, caught.value.type, caught.value.message) == (
        404,
        "not_found_error",
        "model: claude-x",
    )


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["data"]]


def _listed(lifecycles: set[str]) -> list[str]:
    ordered = sorted(CATALOG, key=lambda m: (m.created_at, m.id), reverse=True)
    return [m.id for m in ordered if m.lifecycle in lifecycles]


def test_default_page_is_twenty_newest_first_without_retired() -> None:
    page = list_models_page({})
    expected = _listed({"active", "deprecated"})
    assert _ids(page) == expected[:20]
    assert page["has_more"] is (len(expected) > 20)
    assert (page["first_id"], page["last_id"]) == (expected[0], expected[:20][-1])
    created = [item["created_at"] for item in page["data"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize(
    ("lifecycles", "expected"),
    [
        (["retired"], {"retired"}),
        (["active"], {"active"}),
        (["active", "retired"], {"active", "retired"}),
        (["active", "deprecated", "retired"], {"active", "deprecated", "retired"}),
    ],
)
def test_lifecycle_filter(lifecycles: list[str], expected: set[str]) -> None:
    page = list_models_page({"lifecycle[]": lifecycles, "limit": ["1000"]})
    assert _ids(page) == _listed(expected)
    assert {item["lifecycle"] for item in page["data"]} == expected
    assert page["has_more"] is False


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_walk_forward_with_after_id_then_back_with_before_id(limit: int) -> None:
    query: dict[str, list[str]] = {"lifecycle[]": ["active", "deprecated", "retired"], "limit": [str(limit)]}
    everything = _listed({"active", "deprecated", "retired"})
    seen: list[str] = []
    page = list_models_page(query)
    while True:
        assert len(page["data"]) <= limit
        seen += _ids(page)
        if not page["has_more"]:
            break
        page = list_models_page({**query, "after_id": [page["last_id"]]})
    assert seen == everything

    back: list[str] = []
    page = list_models_page({**query, "before_id": [everything[-1]]})
    while True:
        back = _ids(page) + back
        if not page["has_more"]:
            break
        page = list_models_page({**query, "before_id": [page["first_id"]]})
    assert back == everything[:-1]


def test_past_the_end_is_an_empty_page_with_null_ids() -> None:
    last = _listed({"active", "deprecated"})[-1]
    page = list_models_page({"after_id": [last]})
    assert page == {"data": [], "has_more": False, "first_id": None, "last_id": None}


def test_limit_exactly_the_size_has_no_more() -> None:
    size = len(_listed({"active", "deprecated"}))
    assert list_models_page({"limit": [str(size)]})["has_more"] is False
    assert list_models_page({"limit": [str(size - 1)]})["has_more"] is True


@pytest.mark.parametrize("limit", ["1", "1000"])
def test_limit_bounds_accepted(limit: str) -> None:
    assert list_models_page({"limit": [limit]})["data"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": ["0"]}, "limit: Input should be greater than or equal to 1"),
        ({"limit": ["1001"]}, "limit: Input should be less than or equal to 1000"),
        ({"limit": ["ten"]}, "limit: Input should be a valid integer"),
        ({"lifecycle[]": ["gone"]}, "lifecycle.0: Input should be 'active', 'deprecated' or 'retired'"),
        (
            {"lifecycle[]": ["active"] * 4},
            "lifecycle: List should have at most 3 items after validation, not 4",
        ),
        ({"after_id": ["nope"]}, "after_id: no model with id 'nope'"),
        (
            {"after_id": ["claude-opus-5"], "before_id": ["claude-opus-4-8"]},
            "after_id: cannot be combined with before_id",
        ),
    ],
)
def test_bad_list_queries_are_400(query: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ApiError) as caught:
        list_models_page(query)
    assert (caught.value.status, caught.value.type, caught.value.message) == (
        400,
        "invalid_request_error",
        message,
    )


def test_only_the_references_output_caps_are_enforced():
    """A guessed cap must not refuse what the real API accepts (LiteLLM sends 128000 to Sonnet 4.6)."""
    from mockbay.wire.validate import validate_messages

    body = {"max_tokens": 128_000, "messages": [{"role": "user", "content": "hi"}]}
    for model in ("claude-sonnet-4-6", "claude-opus-4-8", "claude-sonnet-5"):
        assert validate_messages({**body, "model": model}, {}).max_tokens == 128_000
    with pytest.raises(ApiError, match="maximum allowed number of output tokens"):
        validate_messages({**body, "model": "claude-sonnet-4-5"}, {})
