"""Scenarios written in Python: `rule(when=..., reply=reply(text=...))`, as pytest-httpserver and respx
users build their stubs.

Each builder returns a `Document`: the very dict a YAML scenario file would hold (keys as the
README's scenario reference names them), tagged with the kind it is and the line that built it.
`MockServer.load()` and the marker's `scenarios=` take one; it is written out as YAML and read by
the same loader as a file, so the model, the validation and its messages are the YAML ones
(`<python test_x.py:12>:4:5: unknown key 'txt' in rules[0].reply; did you mean 'text'?`: the
line that built it, then the line and column in the YAML it stands for).
No heavy imports: the pytest plugin's users import this in every test module.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

Kind = Literal["reply", "rule", "turn", "scenario"]


class Document(dict[str, Any]):
    """A scenario-file fragment built in Python, with its kind and the `file:line` that built it."""

    kind: Kind
    origin: str

    def __init__(self, kind: Kind, fields: Mapping[str, Any]) -> None:
        super().__init__((key, _plain(value)) for key, value in fields.items() if value is not None)
        self.kind = kind
        frame = sys._getframe(2)  # the user's call of reply()/rule()/turn()/new_scenario()
        self.origin = f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}"

    def as_scenario(self) -> dict[str, Any]:
        """The whole document a file would hold: a bare rule, turn or reply gets a scenario around
        it, named after the line that built it (`test_orders-line-12`)."""
        if self.kind == "scenario":
            return dict(self)
        name = self.origin.replace(".py:", "-line-").replace(":", "-line-")
        step = {"reply": dict(self)} if self.kind == "reply" else dict(self)
        return {"name": name, "turns" if self.kind == "turn" else "rules": [step]}


def reply(
    text: str | None = None, *, content: Sequence[Mapping[str, Any]] | None = None, **keys: Any
) -> Document:
    """A reply: `text=` or `content=[{"text": ...}, {"tool_use": {...}}]`, and any other reply key
    (`stop_reason`, `usage`, `error`, `fault`, `timing`, `headers`, ...)."""
    return Document("reply", {"text": text, "content": content, **keys})


def rule(
    *,
    reply: Mapping[str, Any] | None = None,
    when: Mapping[str, Any] | None = None,
    replies: Sequence[Mapping[str, Any]] | None = None,
    **keys: Any,
) -> Document:
    """A rule: `when` holds matchers as in YAML (`{"last_user": {"contains": "refund"}}`)."""
    return Document("rule", {"when": when, "reply": reply, "replies": replies, **keys})


def turn(**keys: Any) -> Document:
    """A turn, with the keys of `rule()`: the Nth turn of a scenario answers requests holding N
    assistant messages."""
    return Document("turn", rule(**keys))


def new_scenario(
    name: str,
    *,
    rules: Sequence[Mapping[str, Any]] = (),
    turns: Sequence[Mapping[str, Any]] = (),
    match: Mapping[str, Any] | None = None,
    **keys: Any,
) -> Document:
    """A named scenario of rules and/or turns, with any other scenario key (`priority`, `seed`, ...);
    not called `scenario`, the name of mockbay's own scenario package."""
    return Document(
        "scenario", {"name": name, "match": match, "rules": rules or None, "turns": turns or None, **keys}
    )


def _plain(value: Any) -> Any:
    """Plain dicts and lists all the way down, as YAML would give them."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value
