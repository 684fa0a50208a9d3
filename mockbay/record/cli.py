"""`mockbay record` options and entry point; the main CLI (mockbay/cli.py) wires them in.

Options also come from the environment (`MOCKBAY_UPSTREAM`, `MOCKBAY_OUT`, `MOCKBAY_RECORD_MODE`,
`MOCKBAY_HOST`, `MOCKBAY_PORT`); the command line wins. The only prints of the recorder are here:
the ready line and one line per exchange, on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from mockbay.config import DEFAULT_HOST, DEFAULT_PORT
from mockbay.environment import env, env_int
from mockbay.errors import MockbayError
from mockbay.record.modes import MODES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    upstream, out = env("UPSTREAM"), env("OUT")
    parser.add_argument(
        "--upstream",
        default=upstream,
        required=upstream is None,
        metavar="URL",
        help="the real API's base URL",
    )
    parser.add_argument("--out", default=out, required=out is None, metavar="DIR", help="where scenarios go")
    parser.add_argument("--host", default=env("HOST", DEFAULT_HOST), help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=env_int("PORT", DEFAULT_PORT))
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=env("RECORD_MODE", "once"),
        help="none: replay only; once: record groups with no file yet; "
        "new_episodes: replay known requests, record new ones; all: always record (default once)",
    )
    parser.add_argument(
        "--timing",
        choices=["instant", "realistic", "recorded"],
        default="recorded",
        help="timing of replayed answers (default recorded: as upstream sent them)",
    )
    parser.add_argument(
        "--scrub-header",
        action="append",
        default=[],
        metavar="NAME",
        help="also scrub this header (repeatable)",
    )
    parser.add_argument(
        "--scrub-pattern",
        action="append",
        default=[],
        metavar="REGEX",
        help="also scrub text matching REGEX; a (?P<secret>...) group scrubs only that part (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    """Start the proxy; its modules load here, so `mockbay serve` does not pay for them."""
    from mockbay.record.proxy import ProxyConfig, serve_proxy
    from mockbay.record.scrub import Scrubber
    from mockbay.server.serve import configure_logging

    parts = urlsplit(args.upstream)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MockbayError(
            f"--upstream must be an http(s) URL such as https://api.anthropic.com, got {args.upstream!r}"
        )
    if not 0 <= args.port <= 65535:
        raise MockbayError(f"--port must be between 0 and 65535, got {args.port}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise MockbayError(f"--out {out} is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    config = ProxyConfig(
        upstream=args.upstream,
        out=out,
        host=args.host,
        port=args.port,
        mode=args.mode,
        timing=args.timing,
        scrubber=Scrubber.build(args.scrub_header, args.scrub_pattern),
    )
    configure_logging("text", "warning")  # what could not be recorded, on stderr
    asyncio.run(serve_proxy(config, lambda line: print(line, flush=True)))
    return 0
