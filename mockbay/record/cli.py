"""`mockbay record` options and entry point; the main CLI (mockbay/cli.py) wires them in.

Every option also comes from a `MOCKBAY_*` variable its help names; the command line wins. The
only prints of the recorder are here: the ready line and one line per exchange, on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from mockbay.config import UPSTREAM_TIMEOUT_SECONDS, choices
from mockbay.environment import env
from mockbay.errors import MockbayError
from mockbay.options import (
    add_connection_timeouts,
    add_flag,
    add_listen,
    add_option,
    add_repeated,
    path_argument,
    timeout_seconds,
)
from mockbay.record.modes import MODES
from mockbay.scenario.model import TimingMode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    upstream, out = env("UPSTREAM"), env("OUT")
    add_option(
        parser,
        "--upstream",
        "the real API's base URL, e.g. https://api.anthropic.com",
        env_name="UPSTREAM",
        shown="required",
        required=upstream is None,
        metavar="URL",
    )
    add_option(
        parser,
        "--out",
        "folder the scenario files are written to",
        env_name="OUT",
        type=path_argument,
        shown="required",
        required=out is None,
        metavar="DIR",
    )
    add_listen(parser)
    add_connection_timeouts(parser)
    add_option(
        parser,
        "--upstream-timeout",
        "seconds upstream may stay silent, before it answers or between two chunks; then a request "
        "not yet answered gets 504 timeout_error and is not recorded, and a stream is cut there "
        "and recorded as a stall",
        env_name="UPSTREAM_TIMEOUT",
        default=UPSTREAM_TIMEOUT_SECONDS,
        type=timeout_seconds,
        metavar="S",
    )
    add_option(
        parser,
        "--mode",
        "none: replay only; once: record groups with no file yet; "
        "new_episodes: replay known requests, record new ones; all: always record",
        env_name="RECORD_MODE",
        default="once",
        choices=MODES,
    )
    add_option(
        parser,
        "--timing",
        "pacing of answers replayed during a recording run; recorded: as upstream sent them",
        env_name="TIMING",
        default="recorded",
        choices=choices(TimingMode),
    )
    add_flag(
        parser,
        "--aws-sign",
        "re-sign Bedrock SigV4 requests with this machine's AWS credentials (botocore's chain), "
        "since a client's signature covers the recorder's host",
        env_name="AWS_SIGN",
    )
    add_repeated(
        parser,
        "--scrub-header",
        "also scrub this header, and JSON values under a key of this name",
        env_name="SCRUB_HEADERS",
        separator=",",
        shown="the built-in list",
        metavar="NAME",
    )
    add_repeated(
        parser,
        "--scrub-pattern",
        "also scrub text matching REGEX; a (?P<secret>...) group scrubs only that part",
        env_name="SCRUB_PATTERNS",
        separator="\n",
        shown="the built-in shapes",
        metavar="REGEX",
    )


def run(args: argparse.Namespace) -> int:
    """Start the proxy; its modules load here, so `mockbay serve` does not pay for them."""
    from mockbay.logs import configure_logging
    from mockbay.record.proxy import ProxyConfig, serve_proxy
    from mockbay.record.scrub import Scrubber
    from mockbay.record.sigv4 import machine_credentials

    parts = urlsplit(args.upstream)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MockbayError(
            f"--upstream must be an http(s) URL such as https://api.anthropic.com, got {args.upstream!r}"
        )
    out = _out_folder(Path(args.out))
    config = ProxyConfig(
        upstream=args.upstream,
        out=out,
        host=args.host,
        port=args.port,
        mode=args.mode,
        timing=args.timing,
        body_timeout_seconds=args.body_timeout,
        keepalive_timeout_seconds=args.keepalive_timeout,
        upstream_timeout_seconds=args.upstream_timeout,
        scrubber=Scrubber.build(args.scrub_header, args.scrub_pattern),
        aws_credentials=machine_credentials() if args.aws_sign else None,
    )
    configure_logging("text", "warning")  # what could not be recorded, on stderr
    asyncio.run(serve_proxy(config, lambda line: print(line, flush=True)))
    return 0


def _out_folder(out: Path) -> Path:
    """Make the --out folder before listening: a path that cannot be one is a bad option (exit 2,
    one line naming it and the system's reason), not a traceback or a failure at the first recording."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # exist_ok covers a folder only: this is a file
        raise MockbayError(f"--out {out} is not a folder") from None
    except OSError as exc:
        raise MockbayError(f"cannot create --out {out}: {exc.strerror or exc}") from None
    return out
