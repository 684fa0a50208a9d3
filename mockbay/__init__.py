"""mockbay: an offline, deterministic stand-in for the Anthropic Messages API.

The public names live here. `MockServer`, `ServerConfig` and `load_scenarios` are imported on
first use: the pytest plugin imports this package in every pytest session of a project that has
mockbay installed, and aiohttp, YAML and Faker should load only when a test asks for a server.
"""

from __future__ import annotations

from mockbay import interrupt

interrupt.arm()  # first: a Ctrl-C while the command imports ends it quietly

import importlib  # noqa: E402
import logging  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from mockbay import codecache  # noqa: E402

codecache.install()  # first: the modules below define dataclasses

from mockbay.builder import new_scenario, reply, rule, turn  # noqa: E402
from mockbay.errors import ApiError, MockbayError, ScenarioError  # noqa: E402
from mockbay.journal import Exchange, Journal, JournalView  # noqa: E402

if TYPE_CHECKING:
    from mockbay.config import ServerConfig
    from mockbay.loading import load_source as load_scenarios
    from mockbay.server.runner import MockServer

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "Exchange",
    "Journal",
    "JournalView",
    "MockServer",
    "MockbayError",
    "ScenarioError",
    "ServerConfig",
    "__version__",
    "load_scenarios",
    "new_scenario",
    "reply",
    "rule",
    "turn",
]

_LAZY = {
    "MockServer": ("mockbay.server.runner", "MockServer"),
    "ServerConfig": ("mockbay.config", "ServerConfig"),
    "load_scenarios": ("mockbay.loading", "load_source"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mockbay' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


logging.getLogger(__name__).addHandler(logging.NullHandler())
