"""What a compaction request may not carry (`compaction` set, beta `compact-2026-09-04`): the
fields that only shape a reply, since it is answered with the summary alone.

The SDK documents `context_management` as refused beside `compaction`, and its tool runner drops
exactly these fields before it sends one (`lib/tools/_beta_runner.py`,
`_without_compaction_incompatible_params`: "the API rejects the params that only shape a
reply"). Upstream's texts are not published, so these are mockbay's (docs/wire-notes.md,
"Compaction"). A strict-mode rule, as the per-model rules are; count_tokens takes the field
and ignores it. Stdlib only; imports `wire.fieldtypes` and `wire.request`.
"""

from __future__ import annotations

from typing import Any

from mockbay.wire.fieldtypes import bad
from mockbay.wire.request import FORCED_TOOL_CHOICES

COMPACTION = "compaction"  # the request field that asks for a summary rather than a reply
REPLY_ONLY = ("context_management", "stop_sequences", "output_format")


def is_compaction_request(body: dict[str, Any]) -> bool:
    return body.get(COMPACTION) is not None


def check_compaction_request(body: dict[str, Any]) -> None:
    """Refuse a compaction request that carries a field only a reply uses, naming the field."""
    if not is_compaction_request(body):
        return
    given = [name for name in REPLY_ONLY if body.get(name) is not None]
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in FORCED_TOOL_CHOICES:
        given.append("tool_choice")
    output_config = body.get("output_config")
    if isinstance(output_config, dict) and output_config.get("format") is not None:
        given.append("output_config.format")
    if given:
        raise bad(
            f"{given[0]}: cannot be combined with `compaction`: a compaction request is answered "
            "with the summary alone"
        )
