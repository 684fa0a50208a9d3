"""One TLS context for all the HTTP clients the tests build, where each would build its own.

Every SDK client and httpx call reads a CA bundle into a new TLS context: ~20 ms apiece, some
3,100 times a run, a quarter of the suite's time, for clients that all speak plain HTTP to
loopback. The default context (verify on, no client certificate) is built once for each value
of SSL_CERT_FILE and SSL_CERT_DIR and then shared, as httpx allows; any other arguments still
get a context of their own. Both HTTP libraries are patched: httpx, which the tests call, and
httpx2, the anthropic SDK's. Each builds its contexts in `_transports.default`, where the
function is patched too: should that name move, the session fails at once rather than slowing
down unnoticed.
"""

from __future__ import annotations

import functools
import importlib
import os
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

LIBRARIES = ("httpx", "httpx2")  # the tests' HTTP library, and the anthropic SDK's
Create = Callable[..., ssl.SSLContext]


def _sharing_default(create: Create) -> Create:
    """`create` (a `create_ssl_context`) with its default context built once per environment."""

    @functools.cache
    def default(trust_env: bool, environment: tuple[str | None, str | None]) -> ssl.SSLContext:
        return create(verify=True, cert=None, trust_env=trust_env)

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is True and cert is None:
            return default(trust_env, (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")))
        return create(verify=verify, cert=cert, trust_env=trust_env)

    return create_ssl_context


@contextmanager
def one_tls_context() -> Iterator[None]:
    """Share the default TLS context of each HTTP library until exit."""
    with pytest.MonkeyPatch.context() as patch:
        for name in LIBRARIES:
            library = importlib.import_module(name)
            transports = importlib.import_module(f"{name}._transports.default")
            sharing = _sharing_default(library.create_ssl_context)
            patch.setattr(library, "create_ssl_context", sharing)
            patch.setattr(transports, "create_ssl_context", sharing)
        yield
