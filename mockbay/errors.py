"""The two error families of mockbay.

`MockbayError` is for the person running mockbay (bad scenario file, bad option): the CLI
prints it and exits 2. `ApiError` is what an HTTP client is told, rendered by one middleware
into Anthropic's error envelope. Nothing here imports beyond the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class MockbayError(Exception):
    """A mistake in mockbay's own input: options, scenario files, CLI arguments."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class SourceMark:
    """Where something was written: a file (or `<text>`) with 1-based line and column."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


class ScenarioError(MockbayError):
    """One or more mistakes in scenario files, each reported as `file:line:col: message`."""

    def __init__(self, problems: list[tuple[SourceMark, str]]) -> None:
        self.problems = sorted(problems, key=lambda p: (p[0].path, p[0].line, p[0].col))
        super().__init__("\n".join(f"{mark}: {message}" for mark, message in self.problems))


@dataclass(frozen=True, slots=True)
class RawBody:
    """An error answer's body as upstream sent it, in place of the envelope: what a proxy or load
    balancer in front of the API answers (an HTML 502, a plain-text 503, an empty 504), which a
    replay must repeat byte for byte. `content_type` None sends none with an empty body."""

    data: bytes
    content_type: str | None = None


@dataclass(slots=True)
class ApiError(Exception):
    """An Anthropic-shaped error answer: status, `error.type`, message, extra headers and, for the
    errors the SDK tells apart by it, `error.details.error_code`; or, with `raw`, that body sent
    instead of the envelope (status, type and message still name it in the journal and logs)."""

    status: int
    type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None
    raw: RawBody | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.type}: {self.message}"
