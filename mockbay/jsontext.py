"""JSON text in the two forms mockbay writes on every request, each encoder built once.

`compact` is upstream's form (no spaces, UTF-8 as is): reply bodies and SSE data. `canonical` is
the same with keys sorted: the text the fingerprint and the prompt cache hash, and the estimate
counts. Both give exactly `json.dumps(value, separators=(",", ":"), ensure_ascii=False[,
sort_keys=True])`: `json.dumps` with any argument builds a `JSONEncoder` and then CPython's C
encoder per call, about a quarter of its cost on a reply-sized value; these C encoders are built
at import. They skip the circular-reference check (every value here comes from parsed JSON or is
built by mockbay, so it is a tree; the C encoder still stops runaway nesting with
RecursionError), which also makes one encoder safe to share between calls and threads: it keeps
no state across calls. Stdlib only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _stdlib
from typing import Any

_default = json.JSONEncoder().default  # TypeError for what JSON cannot hold, as json.dumps raises


def _c_encoder_maker() -> Callable[..., Any]:
    """CPython's `_json.make_encoder` (typeshed does not declare it)."""
    make: Callable[..., Any] | None = getattr(_stdlib, "c_make_encoder", None)
    if make is None:  # pragma: no cover - mockbay runs on CPython, which always has it
        raise ImportError("mockbay needs CPython's C JSON encoder (json.encoder.c_make_encoder)")
    return make


def _encoder(*, sort_keys: bool) -> Callable[[Any], str]:
    encode = _c_encoder_maker()(
        None, _default, _stdlib.encode_basestring, None, ":", ",", sort_keys, False, True
    )

    def run(value: Any) -> str:
        return "".join(encode(value, 0))

    return run


compact: Callable[[Any], str] = _encoder(sort_keys=False)
canonical: Callable[[Any], str] = _encoder(sort_keys=True)
