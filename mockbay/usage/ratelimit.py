"""Simulated per-minute rate limits (docs/wire.md §6.4, §6.6), so clients can exercise their 429 handling.

One token bucket per limit and key (the caller's "API key + scenario name or `server`"), holding at most
the per-minute limit and refilling continuously at limit/60 per second, as upstream does.

- `admit` takes one request and the input tokens it is charged for (upstream counts `input_tokens +
  cache_creation_input_tokens`; cache reads are free). It needs one request, the input tokens and one
  output token available; a request larger than a whole bucket needs a full bucket and leaves it in
  debt, so it is slow rather than refused forever. Output is charged afterwards by `settle`, with the
  tokens actually generated.
- Headers: `anthropic-ratelimit-{requests,input-tokens,output-tokens}-{limit,remaining,reset}` for each
  limit in force, and `anthropic-ratelimit-tokens-*` copying whichever token bucket has less left.
  `reset` is the RFC 3339 UTC second (rounded up) when the bucket is full again. Token `remaining` is
  rounded to the nearest thousand like upstream's, except for limits below `EXACT_BELOW` (1,000), which
  stay exact so small test limits count down visibly.
- Over a limit: `ApiError(429, "rate_limit_error")` naming the first limit hit (requests, then input,
  then output), with `retry-after` (whole seconds, rounded up, at least 1) and the same header set.
- A changed limit for a key starts a fresh, full bucket. At most `max_buckets` keys are kept; the least
  recently used goes first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from mockbay.errors import ApiError, MockbayError
from mockbay.lru import key_digest
from mockbay.scenario.model import Limits

WINDOW_SECONDS = 60.0
EXACT_BELOW = 1_000
_SLACK = 1e-9  # float refill error, so a client that waits exactly `retry-after` gets in

Dimension = Literal["requests", "input-tokens", "output-tokens"]

_FIELDS: dict[Dimension, str] = {
    "requests": "requests_per_minute",
    "input-tokens": "input_tokens_per_minute",
    "output-tokens": "output_tokens_per_minute",
}
DIMENSIONS: tuple[Dimension, ...] = tuple(_FIELDS)
_UNITS: dict[Dimension, str] = {
    "requests": "requests",
    "input-tokens": "input tokens",
    "output-tokens": "output tokens",
}
_ALIASES = {
    "rpm": "requests_per_minute",
    "itpm": "input_tokens_per_minute",
    "otpm": "output_tokens_per_minute",
    **{name: name for name in _FIELDS.values()},
}
_PREFIX = "anthropic-ratelimit-"


@dataclass(slots=True, eq=False)
class Bucket:
    """One limit's token bucket for one key: at most `capacity` (the per-minute limit), refilling at
    capacity/60 a second; `level` goes below 0 (debt) after an oversized request or its output."""

    capacity: int
    level: float
    updated: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.level = min(float(self.capacity), self.level + elapsed * self.capacity / WINDOW_SECONDS)
        self.updated = now

    def wait(self, amount: float) -> float:
        """Seconds until the bucket holds `amount`."""
        return max(0.0, (amount - self.level) * WINDOW_SECONDS / self.capacity)


class RateLimiter:
    """Token buckets per key; `admit` before answering, `settle` once the output is known."""

    def __init__(self, max_buckets: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._max_buckets = max(1, max_buckets)  # room for the bucket being charged
        self._clock = clock
        # Keyed by a 16-byte digest of the caller's key, so each bucket set costs the same few
        # hundred bytes however long the API key: `max_buckets` bounds the bytes too.
        self._keys: OrderedDict[bytes, dict[Dimension, Bucket]] = OrderedDict()

    def clear(self) -> None:
        self._keys.clear()

    def admit(self, key: str, limits: Limits, input_tokens: int) -> dict[str, str]:
        """Charge one request and its input tokens, returning the rate-limit headers; 429 when over."""
        now = self._clock()
        return charge(self._buckets(key, limits, now), input_tokens, now)

    def settle(self, key: str, limits: Limits, output_tokens: int) -> None:
        """Charge the output tokens a reply actually produced."""
        bucket = self._buckets(key, limits, self._clock()).get("output-tokens")
        if bucket is not None:
            bucket.level -= output_tokens

    def _buckets(self, key: str, limits: Limits, now: float) -> dict[Dimension, Bucket]:
        """The key's refilled buckets for the limits in force, created full where new or changed."""
        digest = key_digest(key)
        buckets = self._keys.get(digest)
        if buckets is None:
            buckets = self._keys[digest] = {}
            while len(self._keys) > self._max_buckets:
                self._keys.popitem(last=False)
        self._keys.move_to_end(digest)
        for dimension in DIMENSIONS:
            limit = limit_of(limits, dimension)
            bucket = buckets.get(dimension)
            if limit is None:
                buckets.pop(dimension, None)
            elif bucket is None or bucket.capacity != limit:
                buckets[dimension] = Bucket(limit, float(limit), now)
            else:
                bucket.refill(now)
        return buckets


def charge(buckets: dict[Dimension, Bucket], input_tokens: int, now: float) -> dict[str, str]:
    """Take one request and `input_tokens` from refilled buckets: the headers, or the 429 when short.

    The shared store's script makes the same decision on the same numbers, then hands the buckets
    as they were before it charged them to this function for the headers and the error.
    """
    needs: dict[Dimension, int] = {"requests": 1, "input-tokens": input_tokens, "output-tokens": 1}
    wanted = {d: min(needs[d], b.capacity) for d, b in buckets.items()}
    short = {d: wanted[d] for d in DIMENSIONS if d in buckets and buckets[d].level + _SLACK < wanted[d]}
    if short:
        first = next(iter(short))
        headers = _headers(buckets, now)
        wait = max(buckets[d].wait(amount) for d, amount in short.items())
        headers["retry-after"] = str(max(1, math.ceil(wait - _SLACK)))
        raise ApiError(429, "rate_limit_error", _message(first, buckets[first].capacity), headers)
    for dimension in ("requests", "input-tokens"):
        if dimension in buckets:
            buckets[dimension].level -= needs[dimension]
    return _headers(buckets, now)


def limit_of(limits: Limits, dimension: Dimension) -> int | None:
    """The per-minute limit in force for one dimension, or None."""
    value: int | None = getattr(limits, _FIELDS[dimension])
    return value


def parse_limits(text: str) -> Limits:
    """`--rate-limits requests_per_minute=50,input_tokens_per_minute=20000` (or rpm=, itpm=, otpm=)."""
    values: dict[str, int] = {}
    for item in text.split(","):
        name, sep, raw = (part.strip() for part in item.partition("="))
        if not sep:
            raise MockbayError(f"--rate-limits: expected name=value, got {item.strip()!r}")
        field = _ALIASES.get(name.lower())
        if field is None:
            raise MockbayError(
                f"--rate-limits: unknown limit {name!r}; use requests_per_minute (rpm), "
                "input_tokens_per_minute (itpm) or output_tokens_per_minute (otpm)"
            )
        if field in values:
            raise MockbayError(f"--rate-limits: {field} given twice")
        if not raw.isdigit() or int(raw) < 1:
            raise MockbayError(f"--rate-limits: {name} must be a positive integer, got {raw!r}")
        values[field] = int(raw)
    return Limits(**values)


def _headers(buckets: Mapping[Dimension, Bucket], now: float) -> dict[str, str]:
    headers: dict[str, str] = {}
    for dimension in DIMENSIONS:
        if dimension in buckets:
            headers.update(_bucket_headers(dimension, buckets[dimension], now, dimension != "requests"))
    tokens = [buckets[d] for d in ("input-tokens", "output-tokens") if d in buckets]
    if tokens:
        headers.update(_bucket_headers("tokens", min(tokens, key=lambda b: b.level), now, True))
    return headers


def _bucket_headers(name: str, bucket: Bucket, now: float, rounded: bool) -> dict[str, str]:
    remaining = max(0, math.floor(bucket.level))
    if rounded and bucket.capacity >= EXACT_BELOW:
        remaining = min(bucket.capacity, (remaining + 500) // 1000 * 1000)
    reset = datetime.fromtimestamp(math.ceil(now + bucket.wait(bucket.capacity)), tz=UTC)
    return {
        f"{_PREFIX}{name}-limit": str(bucket.capacity),
        f"{_PREFIX}{name}-remaining": str(remaining),
        f"{_PREFIX}{name}-reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _message(dimension: Dimension, limit: int) -> str:
    return (
        f"This request would exceed your organization's rate limit of {limit:,} {_UNITS[dimension]} per "
        "minute. You can see the response headers for current usage."
    )
