"""List paging parameters shared by models, batches, files and skills: `limit` 1-1000 (default
20), the `after_id` / `before_id` cursors and the `page` cursor of `next_page`, with upstream's
pydantic-worded 400s (docs/wire.md §12.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockbay.errors import ApiError
from mockbay.wire.fieldtypes import bad

LIMIT_MIN, LIMIT_MAX, LIMIT_DEFAULT = 1, 1000, 20
PAGE_PREFIX = "page_"  # a `page` cursor of files and skills: this, then the id it continues after


def parse_limit(values: Sequence[str]) -> int:
    if not values:
        return LIMIT_DEFAULT
    try:
        limit = int(values[-1])
    except ValueError:
        raise bad("limit: Input should be a valid integer") from None
    if limit < LIMIT_MIN:
        raise bad(f"limit: Input should be greater than or equal to {LIMIT_MIN}")
    if limit > LIMIT_MAX:
        raise bad(f"limit: Input should be less than or equal to {LIMIT_MAX}")
    return limit


def cursors(query: Mapping[str, Sequence[str]]) -> tuple[str | None, str | None]:
    """`after_id` and `before_id` (the last of each given), never both."""
    after, before = (query[name][-1] if query.get(name) else None for name in ("after_id", "before_id"))
    if after is not None and before is not None:
        raise bad("after_id: cannot be combined with before_id")
    return after, before


def id_page(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """The page envelope of models and batches: `data`, `has_more`, `first_id`, `last_id`."""
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def page_after(query: Mapping[str, Sequence[str]]) -> str | None:
    """The id the `page` cursor (the last given) continues after, or None for the first page; a
    cursor mockbay did not write is a 400."""
    cursor = query["page"][-1] if query.get("page") else ""
    if not cursor:
        return None
    if not cursor.startswith(PAGE_PREFIX):
        raise bad_page(cursor)
    return cursor[len(PAGE_PREFIX) :]


def bad_page(cursor: str) -> ApiError:
    return bad(f"page: invalid page cursor {cursor!r}")


def next_page(data: list[dict[str, Any]], has_more: bool) -> str | None:
    """The `page` cursor of the page after `data`, when there is one."""
    return f"{PAGE_PREFIX}{data[-1]['id']}" if has_more and data else None
