"""Broken scenario files: each is reported at the exact line:col with a message that teaches the fix.

One file per mistake under tests/data/broken/, loaded as `validate` and `serve` load it (the
loader's checks and the renderer's). Every problem of a file is counted, so a mistake that drags
along follow-up noise fails here too, and so does one that hides another.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mockbay.errors import ScenarioError
from mockbay.loading import load_registry
from mockbay.scenario.loader import load_text

BROKEN = Path(__file__).parents[1] / "data" / "broken"

# (file, line:col of the problem, fragment of its message, number of problems in the file)
CASES: list[tuple[str, str, str, int]] = [
    ("unknown_key_in_turn", "3:5", "unknown key 'repy' in turns[0]; did you mean 'reply'?", 1),
    ("unknown_key_top", "2:1", "unknown key 'priorty' in scenario; did you mean 'priority'?", 1),
    ("priority_not_integer", "2:11", "expected an integer for 'priority', got string 'high'", 1),
    ("seed_float", "2:7", "expected an integer for 'seed', got number '1.5'", 1),
    ("bad_regex", "3:19", "missing ), unterminated subpattern at position 7", 1),
    # re's FutureWarning, raised where warnings are errors (this suite, many a plugin user's)
    (
        "regex_nested_set",
        "3:19",
        "invalid regex '[[a]' in match.system: Possible nested set at position 1",
        1,
    ),
    (
        "timing_unknown_mode",
        "2:9",
        "invalid value 'fast' for 'timing'; expected one of: instant, realistic, recorded",
        1,
    ),
    ("cache_misspelt", "2:8", "expected one of: simulate, off; did you mean 'simulate'?", 1),
    ("then_unknown", "4:11", "expected one of: repeat_last, cycle, error", 1),
    (
        "platform_unknown",
        "2:19",
        "invalid value 'aws' for 'match.platform'; expected one of: anthropic, bedrock",
        1,
    ),
    ("duplicate_name_in_file", "4:7", "duplicate scenario name 'twin'; first defined at ", 2),
    ("duplicate_name_in_file", "1:7", "scenario name 'twin' is defined again at ", 2),
    ("missing_name", "1:1", "missing required key 'name' in scenario", 1),
    ("neither_turns_nor_rules", "1:1", "scenario has neither 'turns' nor 'rules'", 1),
    ("reply_at_top_level", "2:1", "'reply' belongs to a turn or rule: turns: [{reply: ...}]", 1),
    ("when_at_top_level", "2:1", "a scenario's own conditions go under match:", 1),
    ("when_inside_reply", "4:7", "when: goes beside reply:, in the turn or rule, not inside the reply", 1),
    (
        "reply_inside_when",
        "5:7",
        "'reply' goes beside when:, in the turn or rule, not inside the conditions",
        2,
    ),
    ("reply_inside_when", "3:5", "rules[0] has neither 'reply' nor 'replies'", 2),
    ("text_beside_when", "4:5", "'text' belongs inside the reply: reply: {text: ...}", 1),
    ("reply_and_replies", "4:5", "'reply' and 'replies' cannot both be given in rules[0]", 1),
    ("neither_reply_nor_replies", "3:5", "rules[0] has neither 'reply' nor 'replies'", 1),
    ("tool_use_without_name", "5:21", "missing required key 'name' in turns[0].reply.content[0].tool_use", 1),
    ("input_chunks_differ", "8:27", 'which differs from input {"city": "Paris"}', 1),
    ("input_chunks_not_json", "7:27", "which is not JSON", 1),
    (
        "yaml_unclosed_flow",
        "4:10",
        "invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 3)",
        1,
    ),
    ("yaml_bad_indent", "5:6", "invalid YAML: ", 1),
    ("yaml_tab_indent", "3:1", "cannot start any token; it is a tab: YAML indents with spaces", 1),
    ("empty", "1:1", "empty file: expected a scenario", 1),
    ("comments_only", "1:1", "empty file: expected a scenario", 1),
    (
        "document_is_list",
        "1:1",
        "a scenario document is a mapping (name: ..., turns: [...]) or scenarios: [...], not a list",
        1,
    ),
    ("document_is_string", "1:1", "not string 'just some words'", 1),
    ("text_and_content", "5:7", "'content' and 'text' cannot both be given", 1),
    ("error_with_content", "5:7", "an error reply is an HTTP error: it has only headers and timing", 1),
    (
        "error_details_wire_form",
        "4:28",
        "unknown key 'details' in rules[0].reply.error; the wire's error.details.error_code is written "
        "error_code: beside type:",
        1,
    ),
    (
        "error_type_misspelt",
        "4:21",
        "invalid value 'overloaded_eror' for 'turns[0].reply.error.type'; expected one of: "
        "invalid_request_error, authentication_error, billing_error, permission_error, not_found_error, "
        "conflict_error, request_too_large, rate_limit_error, api_error, timeout_error, overloaded_error; "
        "did you mean 'overloaded_error'? (give status: too for a custom type)",
        1,
    ),
    ("error_status_not_error", "4:23", "'turns[0].reply.error.status' must be at least 400, got 200", 1),
    ("fault_without_kind", "5:14", "missing required key 'kind' in turns[0].reply.fault", 1),
    ("fault_unknown_kind", "5:21", "expected one of: error_event, disconnect, stall", 1),
    ("fault_error_on_disconnect", "7:9", "'error' applies only to kind: error_event, not disconnect", 1),
    (
        "fault_error_with_body",
        "5:41",
        "'body' cannot be given in turns[0].reply.fault.error: an error_event",
        1,
    ),
    (
        "error_body_and_message",
        "4:42",
        "'body' and 'message' cannot both be given in turns[0].reply.error",
        1,
    ),
    (
        "usage_given_and_omitted",
        "5:42",
        "'service_tier' is both given and omitted in turns[0].reply.usage",
        1,
    ),
    ("error_content_type_without_body", "4:28", "'content_type' needs 'body' in turns[0].reply.error", 1),
    (
        "error_body_base64_invalid",
        "4:43",
        "invalid value 'not base64!' for 'turns[0].reply.error.body.base64'; standard base64",
        1,
    ),
    (
        "error_body_base64_misspelt",
        "6:16",
        "unknown key 'b64' in turns[0].reply.error.body; did you mean 'base64'?",
        1,
    ),
    (
        "reply_header_name_not_a_token",
        "5:17",
        "invalid value 'x-trace id' for 'turns[0].reply.headers'; a header name is a token",
        1,
    ),
    (
        "reply_header_servers_own",
        "7:9",
        "invalid value 'Content-Length' for 'turns[0].reply.headers'; a header name is a token (letters, "
        "digits and !#$%&'*+-.^_`|~), and not one the server writes for every answer (content-length, "
        "transfer-encoding, connection, request-id)",
        2,
    ),
    (
        "reply_header_value_two_lines",
        "5:25",
        "invalid value 'first\\r\\nSet-Cookie: injected' for 'turns[0].reply.headers.x-note'; a header "
        "value is one line, without control characters",
        1,
    ),
    ("raw_without_type", "5:16", "missing required key 'type' in turns[0].reply.content[0].raw", 1),
    (
        "citation_type_unknown",
        "7:22",
        "invalid value 'url_location' for 'turns[0].reply.content[0].citations[0].type'; expected one of: "
        "char_location, page_location, content_block_location, web_search_result_location, "
        "search_result_location",
        1,
    ),
    (
        "citation_fields_missing",
        "7:15",
        "missing required key 'start_char_index' in turns[0].reply.content[0]",
        2,
    ),
    (
        "citation_fields_missing",
        "7:15",
        "missing required key 'end_char_index' in turns[0].reply.content[0]",
        2,
    ),
    (
        "citation_field_type",
        "7:53",
        "expected an integer for 'turns[0].reply.content[0].citations[0].document_index', got string '0'",
        1,
    ),
    ("fault_after_events_and_ms", "5:45", "'after_events' and 'after_ms' cannot both be given", 1),
    ("block_as_string", "4:17", "got string 'hello'; a text block is written - text: 'Hello'", 1),
    (
        "block_api_shape",
        "5:11",
        "unknown key 'type' in turns[0].reply.content[0]; write a block by its type key",
        1,
    ),
    ("block_two_types", "6:11", "'thinking' cannot be combined with 'text' in turns[0].reply.content[0]", 1),
    ("signature_on_text_block", "6:11", "signature: goes in a thinking block, beside thinking: or inside", 1),
    ("signature_twice", "6:11", "'signature' is given twice in turns[0].reply.content[0]", 1),
    (
        "thinking_wire_without_text",
        "5:22",
        "the wire's form holds the text too: thinking: {thinking: ..., signature: ...}",
        1,
    ),
    ("citations_twice", "6:11", "'citations' is given twice in turns[0].reply.content[0]", 1),
    (
        "text_wire_without_text",
        "5:18",
        "the wire's form holds the text too: text: {text: ..., citations: [...]}",
        1,
    ),
    ("text_wire_with_faker", "4:7", "faker provider 'paragraph' takes no argument 'text'", 1),
    (
        "text_wire_with_chunks",
        "5:37",
        "'text' cannot be combined with 'chunks' in turns[0].reply.content[0]",
        1,
    ),
    (
        "cache_miss_reason_string",
        "5:40",
        "expected a mapping or null for 'turns[0].reply.diagnostics.cache_miss_reason', got string",
        1,
    ),
    ("thinking_beside_text_in_reply", "4:7", "content blocks go in a list: content: [{thinking: ...}]", 1),
    (
        "text_matcher_misspelt",
        "3:15",
        "unknown key 'contain' in match.last_user; did you mean 'contains'?",
        1,
    ),
    ("model_contains", "3:11", "model takes a glob ('claude-*sonnet*') or {regex: ...}", 1),
    ("timing_negative", "2:19", "'timing.ttft_ms' must be at least 0, got -5", 1),
    ("timing_rate_and_gap", "4:3", "'tokens_per_second' and 'gap_ms' cannot both be given", 1),
    ("tokens_per_second_zero", "2:29", "'timing.tokens_per_second' must be above 0, got 0", 1),
    ("stream_quoted_bool", "2:17", "expected true or false for 'match.stream', got string 'true'", 1),
    ("turn_range_inverted", "3:32", "'max' (1) is below 'min' (3)", 1),
    ("then_without_replies", "4:5", "'then' needs 'replies' in rules[0]", 1),
    ("replies_empty", "3:14", "'rules[0].replies' is empty", 1),
    ("turns_empty", "2:8", "'turns' is empty", 1),
    ("duplicate_key", "3:1", "duplicate key 'name' in scenario (first on line 1)", 1),
    ("scenarios_with_other_keys", "4:1", "a file with scenarios: holds only that list; move 'priority'", 1),
    ("scenarios_not_a_list", "2:3", "expected a list for 'scenarios', got a mapping", 1),
    ("python_tag", "2:14", "unsupported YAML tag !!python/object/apply:os.system for 'description'", 1),
    ("usage_negative", "5:29", "'turns[0].reply.usage.input_tokens' must be at least 0, got -1", 1),
    ("cache_creation_misspelt", "6:26", "did you mean 'ephemeral_5m_input_tokens'?", 1),
    ("name_with_slash", "1:7", "must not hold '/' (it is used in /s/NAME)", 1),
    ("alias_loop", "2:8", "'turns[1].replies' refers to itself through an alias", 1),
    ("match_empty", "2:7", "expected a mapping for 'match', got an empty value (null)", 1),
    ("exponent_without_dot", "2:19", "got string '1e3': YAML 1.1 reads an exponent without a dot as text", 1),
    ("condition_beside_reply", "3:5", "'stream' is a condition: put it under when: {stream: ...}", 1),
    ("limits_zero", "2:31", "'limits.requests_per_minute' must be at least 1, got 0", 1),
    ("tool_choice_unknown", "2:22", "expected one of: auto, any, tool, none", 1),
    ("reply_is_string", "3:12", "got string 'hello there'; a reply is a mapping such as {text: 'Hello'}", 1),
    ("faker_unknown", "3:12", "unknown faker provider 'nosuch'", 1),
    ("faker_beside_unknown_key", "2:17", "unknown faker provider 'nosuch'", 2),
    ("faker_beside_unknown_key", "2:57", "unknown key 'txt' in rules[1].reply; did you mean 'text'?", 2),
    ("duplicate_name_and_placeholder", "2:17", "unknown placeholder {{ nosuch }}", 3),
    ("duplicate_name_and_placeholder", "4:7", "duplicate scenario name 'twin'; first defined at ", 3),
    ("duplicate_name_and_placeholder", "1:7", "scenario name 'twin' is defined again at ", 3),
    # a reply that fails is not also checked for placeholders: one problem, not a follow-on
    ("placeholder_in_broken_reply", "3:48", "invalid value 'done' for 'rules[0].reply.stop_reason'", 1),
    ("placeholder_unclosed", "4:12", "unclosed placeholder '{{ last_user': a placeholder is {{ name }}", 2),
    ("placeholder_unclosed", "5:12", "unclosed placeholder '{{last_user'", 2),
    (
        "fingerprint_not_hex",
        "2:22",
        "invalid value '8FAC6A9069B73E2E' for 'match.fingerprint'; a fingerprint",
        2,
    ),
    (
        "fingerprint_not_hex",
        "4:25",
        "'rules[0].when.fingerprint'; a fingerprint is 16 lowercase hex digits",
        2,
    ),
    (
        "tool_use_id_off_pattern",
        "5:45",
        "invalid value 'call.1' for 'turns[0].reply.content[0].tool_use.id'; a tool_use id matches "
        "^[a-zA-Z0-9_-]+$",
        1,
    ),
    (
        "server_tool_use_id_off_pattern",
        "5:51",
        "invalid value 'toolu_01A' for 'turns[0].reply.content[0].server_tool_use.id'; a server_tool_use "
        "id matches ^srvtoolu_[a-zA-Z0-9_]+$",
        1,
    ),
    (
        "error_in_second_document",
        "7:6",
        "invalid YAML: did not find expected key (while parsing a block mapping at line 6)",
        1,
    ),
]


@pytest.mark.parametrize(("name", "where", "fragment", "count"), CASES, ids=[f"{c[0]}@{c[1]}" for c in CASES])
def test_broken_file_is_reported_where_and_how(name: str, where: str, fragment: str, count: int) -> None:
    path = BROKEN / f"{name}.yaml"
    error = error_of([path])
    problems = [(f"{mark.line}:{mark.col}", message) for mark, message in error.problems]
    assert all(mark.path == str(path) for mark, _ in error.problems)
    assert any(at == where and fragment in message for at, message in problems), problems
    assert len(problems) == count, problems
    assert f"{path}:{where}: " in str(error)


def error_of(paths: list[Path]) -> ScenarioError:
    """What `validate` and `serve` refuse the files for."""
    with pytest.raises(ScenarioError) as info:
        load_registry(paths)
    return info.value


def test_a_problem_in_one_file_hides_none_in_another() -> None:
    """Loaded together, files report what each reports alone, sorted by file then position."""
    files = sorted(
        BROKEN / f"{name}.yaml" for name in ("faker_unknown", "duplicate_name_in_file", "seed_float")
    )
    alone = [problem for file in files for problem in error_of([file]).problems]
    assert error_of(files).problems == alone


def test_every_broken_file_is_in_the_table() -> None:
    assert {p.stem for p in BROKEN.glob("*.yaml")} == {c[0] for c in CASES}
    assert len({c[0] for c in CASES}) >= 35


def test_text_source_names_the_source() -> None:
    text = (BROKEN / "priority_not_integer.yaml").read_text()
    with pytest.raises(ScenarioError, match=r"^admin-post:2:11: expected an integer"):
        load_text(text, "admin-post")
