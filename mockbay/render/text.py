"""Resolve a block's text source: literal text with `{{ placeholders }}`, seeded Faker, chunks.

No template engine and no eval: placeholders are a fixed set of names looked up in a dict, and
Faker is reached only through public provider methods by name. Faker is seeded per call from
the reply's seed material, so the same request always gives the same text.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import threading
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from mockbay.scenario.model import ChunkedText, FakerText, JsonText, LiteralText, TextSource

if TYPE_CHECKING:
    from faker import Faker

_OPENING = r"\{\{\s*([A-Za-z_][\w.]*)"  # `{{` and a name: what a reader takes for a placeholder
PLACEHOLDER = re.compile(_OPENING + r"\s*\}\}")
_OPENED = re.compile(_OPENING + r"(\s*\}\})?")  # group 2 is None where the name is not closed
PLAIN_PLACEHOLDERS = ("last_user", "model", "turn", "request_id")
_KNOWN = ", ".join([*PLAIN_PLACEHOLDERS, "faker.<provider>"])  # as load errors list them
_FORBIDDEN_PROVIDERS = frozenset({"seed", "seed_instance", "seed_locale", "add_provider", "get_providers"})
_local = threading.local()


class TextContext(NamedTuple):
    """What placeholders and Faker may read: request facts and the seed material (a named tuple,
    built once per reply, for the reason `blocks.base.RenderContext` gives)."""

    seed_material: str
    values: Mapping[str, str]


def _faker() -> Faker:
    """One Faker per thread: seeding and drawing must not interleave across server threads.

    Faker is imported on first use (it costs ~60 ms), so a server whose scenarios use no Faker
    text starts without it.
    """
    fake = getattr(_local, "faker", None)
    if fake is None:
        from faker import Faker

        fake = _local.faker = Faker("en_US")
    return fake


def _seed_for(material: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{material}\x1f{salt}".encode()).digest()[:8], "big")


def faker_provider_error(provider: str, args: Mapping[str, Any]) -> str | None:
    """Why `{faker: provider, ...args}` cannot run, or None when it can (used by load checks)."""
    if provider.startswith("_") or provider in _FORBIDDEN_PROVIDERS:
        return f"faker provider {provider!r} is not allowed"
    method = getattr(_faker(), provider, None)
    if not callable(method):
        return f"unknown faker provider {provider!r}"
    parameters = _parameters(provider)
    for name in args:
        if name not in parameters and f"nb_{name}" not in parameters:
            return f"faker provider {provider!r} takes no argument {name!r} (takes: {', '.join(parameters)})"
    return None


@cache
def _parameters(provider: str) -> tuple[str, ...]:
    return tuple(inspect.signature(getattr(_faker(), provider)).parameters)


def _call_faker(provider: str, args: Mapping[str, Any], seed: int) -> str:
    """Run one provider; `sentences: 3` is accepted for Faker's `nb_sentences`, and so on."""
    parameters = _parameters(provider)
    kwargs = {(k if k in parameters else f"nb_{k}"): v for k, v in args.items()}
    fake = _faker()
    fake.seed_instance(seed)
    value = getattr(fake, provider)(**kwargs)
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def substitute(text: str, ctx: TextContext, salt: str) -> str:
    """Replace `{{ name }}` placeholders; `faker.<provider>` draws seeded Faker text."""
    if "{{" not in text:  # every placeholder opens so: most texts have none
        return text

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("faker."):
            return _call_faker(name[6:], {}, _seed_for(ctx.seed_material, f"{salt}:{match.start()}"))
        return ctx.values.get(name, match.group(0))

    return PLACEHOLDER.sub(replace, text)


def placeholder_error(text: str) -> str | None:
    """Why a text's placeholders cannot render, or None (used by load checks). `{{` and a name
    not closed by `}}` right after it (`{{ last_user }`) is refused too: it would be sent as typed,
    never filled in. Other braces (`{{}}`, `{{ 1 }}`) are literal text."""
    for match in _OPENED.finditer(text):
        name = match.group(1)
        if match.group(2) is None:
            return (
                f"unclosed placeholder {match.group(0)!r}: a placeholder is {{{{ name }}}}, "
                f"closed right after its name (known: {_KNOWN})"
            )
        if name.startswith("faker."):
            problem = faker_provider_error(name[6:], {})
            if problem:
                return problem
        elif name not in PLAIN_PLACEHOLDERS:
            return f"unknown placeholder {{{{ {name} }}}} (known: {_KNOWN})"
    return None


def resolve(source: TextSource, ctx: TextContext, salt: str) -> tuple[str, tuple[str, ...] | None]:
    """The text, and its exact stream pieces when the scenario gave `chunks`."""
    if isinstance(source, LiteralText):
        return substitute(source.value, ctx, salt), None
    if isinstance(source, JsonText):
        return source.value, None
    if isinstance(source, FakerText):
        return _call_faker(source.provider, dict(source.args), _seed_for(ctx.seed_material, salt)), None
    assert isinstance(source, ChunkedText)
    if source.verbatim:
        return "".join(source.pieces), source.pieces
    pieces = tuple(substitute(p, ctx, f"{salt}:{i}") for i, p in enumerate(source.pieces))
    return "".join(pieces), pieces
