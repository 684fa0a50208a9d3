"""Checks of one JSON value in pydantic's wording, which upstream passes through (docs/wire.md §3.3).

Each returns the value with its type narrowed or raises `ApiError(400, "invalid_request_error")`
with upstream's `path: reason` text. Stdlib only; imports `errors` and nothing of the wire rules.
"""

from __future__ import annotations

from typing import Any

from mockbay.errors import ApiError


def bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise bad(f"{path}: Input should be a valid string")
    return value


def array(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise bad(f"{path}: Input should be a valid list")
    return value


def _at(path: str, message: str) -> str:
    """`path: message`, or the message alone for the body itself (path ""), as upstream names them."""
    return f"{path}: {message}" if path else message


def obj(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(_at(path, "Input should be an object"))
    return value


def integer(value: object, path: str, minimum: int) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise bad(f"{path}: Input should be a valid integer, got a number with a fractional part")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{path}: Input should be a valid integer")
    if value < minimum:
        raise bad(f"{path}: Input should be greater than or equal to {minimum}")
    return int(value)


def unit(value: object, path: str) -> float:
    """A number in 0..1, as `temperature` and `top_p` must be."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{path}: Input should be a valid number")
    if value < 0:
        raise bad(f"{path}: Input should be greater than or equal to 0")
    if value > 1:
        raise bad(f"{path}: Input should be less than or equal to 1")
    return float(value)


def tagged(block: object, path: str, tags: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """A block's object and `type`, as a pydantic discriminated union reports them."""
    block = obj(block, path)
    if "type" not in block:
        raise bad(f"{path}: Unable to extract tag using discriminator 'type'")
    tag = block["type"]
    if not isinstance(tag, str) or tag not in tags:
        expected = ", ".join(f"'{t}'" for t in tags)
        raise bad(
            f"{path}: Input tag '{tag}' found using 'type' does not match any of the expected tags: "
            + expected
        )
    return block, tag


def field(block: dict[str, Any], path: str, key: str) -> object:
    if key not in block:
        raise bad(_at(f"{path}.{key}" if path else key, "Field required"))
    return block[key]
