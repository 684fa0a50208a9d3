"""One way to declare a command-line option, so its help, default and `MOCKBAY_*` variable agree.

`add_option` makes the environment variable the default (the command line wins), checks that
value as strictly as the command line's (a bad `MOCKBAY_X` is exit 2 naming the variable), and
writes the help text's "(default: X; env MOCKBAY_Y)" tail itself. A variable is read only by
`EnvParser`, after the command line and only for the options it did not give, so a bad
variable fails no command that overrides it (nor one that has no such option). The value
checkers below are argparse types, so a bad value on the command line is exit 2 with argparse's
message.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from mockbay.config import BODY_TIMEOUT_SECONDS, DEFAULT_HOST, DEFAULT_PORT, KEEPALIVE_TIMEOUT_SECONDS
from mockbay.environment import PREFIX, env, env_list
from mockbay.errors import MockbayError

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")  # and an empty variable, as if it were not set


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def size(text: str) -> int:
    """A cap on entries: 0 or more (0 keeps nothing)."""
    value = integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive(text: str) -> int:
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def day_seconds(text: str) -> float:
    """A duration in seconds, from 0 to one day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400, got {text}")
    return value


def timeout_seconds(text: str) -> float:
    """A timeout in seconds, up to one day; 0 is refused, as no timeout would let a client hang."""
    value = day_seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def host(text: str) -> str:
    """A bind address: an empty one would bind every interface, which mockbay never does unasked."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty (0.0.0.0 binds every interface)")
    return text


def path_argument(text: str) -> str:
    """A file or folder named on the command line: an empty one would be read as the current
    folder (scenarios loaded, a recording written, a schema refused as "." there), never what an
    empty argument (an unset shell variable) meant."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty (. is the current folder)")
    return text


def port(text: str) -> int:
    value = integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {value}")
    return value


@dataclass(frozen=True)
class _FromEnv:
    """An option's default still to be read from its variable: argparse keeps it as it is (it
    converts string defaults only), so `EnvParser` finds it where the command line gave nothing."""

    read: Callable[[], Any]


class EnvParser(argparse.ArgumentParser):
    """A parser that reads its options' variables once it has parsed the command line, and only
    for the options the command line left out. Its subcommands are EnvParsers too (argparse makes
    them of the parser's class), each reading only its own options when it is the one chosen."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, rest = super().parse_known_args(args, namespace)
        for action in self._actions:
            value = getattr(parsed, action.dest, None)
            if isinstance(value, _FromEnv):
                setattr(parsed, action.dest, value.read())
        return parsed, rest


class _Repeat(argparse.Action):
    """A repeatable option whose first use on the command line replaces the environment's list."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        current = getattr(namespace, self.dest)
        items = [] if current is self.default or current is None else list(current)
        setattr(namespace, self.dest, [*items, values])


def _tail(default: str, name: str | None, note: str = "") -> str:
    where = f"; env {PREFIX}{name}{note}" if name else ""
    return f"(default: {default}{where})".replace("%", "%%")


def add_option(
    parser: argparse.ArgumentParser,
    flag: str,
    help: str,
    *,
    env_name: str | None,
    default: Any = None,
    type: Callable[[str], Any] = str,
    choices: Sequence[str] | None = None,
    shown: str | None = None,
    **extra: Any,
) -> None:
    """An option taking a value; `shown` is the default as the help prints it, when not the value."""
    value = _FromEnv(partial(_from_env, env_name, default, type, choices)) if env_name else default
    text = shown if shown is not None else str(default)
    parser.add_argument(
        flag, default=value, type=type, choices=choices, help=f"{help} {_tail(text, env_name)}", **extra
    )


def add_flag(parser: argparse.ArgumentParser, flag: str, help: str, *, env_name: str) -> None:
    """An on/off switch, off unless given or `MOCKBAY_X` is one of 1, true, yes, on (0, false,
    no, off or empty: off; any other word is exit 2, not a silent off)."""
    parser.add_argument(
        flag,
        action="store_true",
        default=_FromEnv(partial(_switch_from_env, env_name)),
        help=f"{help} {_tail('off', env_name, '=1')}",
    )


def _switch_from_env(name: str) -> bool:
    word = (env(name) or "").lower()
    if word and word not in TRUE_WORDS + FALSE_WORDS:
        raise MockbayError(
            f"{PREFIX}{name} must be one of {', '.join(TRUE_WORDS + FALSE_WORDS)}, got {word!r}"
        )
    return word in TRUE_WORDS


def add_repeated(
    parser: argparse.ArgumentParser,
    flag: str,
    help: str,
    *,
    env_name: str,
    separator: str,
    shown: str,
    **extra: Any,
) -> None:
    """A repeatable option; its variable holds the whole list, items joined with `separator`."""
    joined = {",": "comma", ":": "colon", "\n": "newline"}[separator]
    parser.add_argument(
        flag,
        action=_Repeat,
        default=_FromEnv(partial(env_list, env_name, separator)),
        help=f"{help}, repeatable {_tail(shown, env_name, f', {joined}-separated')}",
        **extra,
    )


def _from_env(name: str, default: Any, type: Callable[[str], Any], choices: Sequence[str] | None) -> Any:
    """The value of `MOCKBAY_<name>`, checked as the command line's would be; `default` when unset."""
    raw = env(name)
    if raw is None:
        return default
    if choices is not None and raw not in choices:
        raise MockbayError(f"{PREFIX}{name} must be one of {', '.join(choices)}, got {raw!r}")
    try:
        return type(raw)
    except argparse.ArgumentTypeError as exc:
        raise MockbayError(f"{PREFIX}{name} {exc}") from None


def add_listen(parser: argparse.ArgumentParser) -> None:
    """--host and --port, shared by serve and record."""
    add_option(parser, "--host", "bind address", env_name="HOST", default=DEFAULT_HOST, type=host)
    add_option(
        parser,
        "--port",
        "port to listen on (0: any free port)",
        env_name="PORT",
        default=DEFAULT_PORT,
        type=port,
    )


def add_connection_timeouts(parser: argparse.ArgumentParser) -> None:
    """--body-timeout and --keepalive-timeout, shared by serve and record: both read requests from
    clients, and neither holds a stalled or idle connection for ever."""
    add_option(
        parser,
        "--body-timeout",
        "seconds a request's whole body may take to arrive, from its start, and its headers, from "
        "their first byte; one still arriving then is answered 408 timeout_error and its "
        "connection closed",
        env_name="BODY_TIMEOUT",
        default=BODY_TIMEOUT_SECONDS,
        type=timeout_seconds,
        metavar="S",
    )
    add_option(
        parser,
        "--keepalive-timeout",
        "seconds a keep-alive connection may stay idle, with no byte of a next request, before it "
        "is closed without an answer; a request being answered or streamed is never cut by it",
        env_name="KEEPALIVE_TIMEOUT",
        default=KEEPALIVE_TIMEOUT_SECONDS,
        type=timeout_seconds,
        metavar="S",
    )
