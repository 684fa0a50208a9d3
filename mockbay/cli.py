"""Command line: serve | validate | schema | record. `main(argv) -> int` is tested in-process.

Every option can also come from the environment (`MOCKBAY_PORT`, `MOCKBAY_SCENARIOS` joined with
`:`, ...); the command line wins. Exit codes: 0 success, 2 bad input, 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from mockbay import __version__
from mockbay.config import DEFAULT_HOST, DEFAULT_PORT
from mockbay.environment import env, env_int
from mockbay.errors import MockbayError, ScenarioError

log = logging.getLogger("mockbay")


def _add_serve(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", default=env("HOST", DEFAULT_HOST), help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=env_int("PORT", DEFAULT_PORT))
    serve.add_argument(
        "--scenarios",
        action="append",
        metavar="PATH",
        help="scenario file or folder, repeatable (default: the bundled scenarios)",
    )
    serve.add_argument(
        "--timing", choices=["instant", "realistic", "recorded"], default=env("TIMING", "realistic")
    )
    serve.add_argument("--fallback", choices=["strict", "generate"], default=env("FALLBACK", "generate"))
    serve.add_argument("--seed", type=int, default=env_int("SEED", 0))
    serve.add_argument("--cache", choices=["simulate", "off"], default=env("CACHE", "off"))
    serve.add_argument(
        "--fingerprints",
        choices=["exact", "loose"],
        default=env("FINGERPRINTS", "exact"),
        help="loose: recordings match on their last user text and turn, surviving edits elsewhere",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only these keys (repeatable)",
    )
    serve.add_argument(
        "--admin-token", default=env("ADMIN_TOKEN"), help="required for /_mockbay/ off loopback"
    )
    serve.add_argument(
        "--rate-limits",
        default=env("RATE_LIMITS"),
        metavar="SPEC",
        help="e.g. requests_per_minute=50,input_tokens_per_minute=20000,output_tokens_per_minute=8000",
    )
    serve.add_argument("--watch", action="store_true", default=env("WATCH", "") in ("1", "true", "yes"))
    serve.add_argument("--workers", type=int, default=env_int("WORKERS", 1))
    serve.add_argument("--log-format", choices=["text", "json"], default=env("LOG_FORMAT", "text"))
    serve.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default=env("LOG_LEVEL", "info")
    )
    serve.add_argument("--journal-size", type=int, default=env_int("JOURNAL_SIZE", 10_000))
    serve.add_argument("--max-sessions", type=int, default=env_int("MAX_SESSIONS", 10_000))
    serve.add_argument("--cache-entries", type=int, default=env_int("CACHE_ENTRIES", 10_000))
    serve.add_argument("--rate-limit-buckets", type=int, default=env_int("RATE_LIMIT_BUCKETS", 10_000))
    serve.add_argument(
        "--reply-memo",
        type=int,
        default=env_int("REPLY_MEMO", 4_096),
        metavar="N",
        help="pure replies remembered by request (0 turns the memo off)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockbay", description="An offline stand-in for the Anthropic Messages API."
    )
    parser.add_argument("--version", action="version", version=f"mockbay {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    validate = sub.add_parser("validate", help="check scenario files; exit 0 when valid, else 2")
    validate.add_argument("paths", nargs="+", metavar="PATH")
    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    from mockbay.record import cli as record_cli

    record_cli.add_arguments(sub.add_parser("record", help="proxy a real upstream and write scenario files"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            args = build_parser().parse_args(argv)  # environment defaults are read here
        except SystemExit as exc:
            return int(exc.code or 0)
        if args.command == "serve":
            from mockbay.server.serve import run_serve

            return run_serve(args)
        if args.command == "validate":
            return _validate(args.paths)
        if args.command == "schema":
            from mockbay.scenario.schema import json_schema

            print(json.dumps(json_schema(), indent=2))
            return 0
        from mockbay.record import cli as record_cli

        return record_cli.run(args)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except MockbayError as exc:
        print(f"mockbay: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _validate(paths: list[str]) -> int:
    from mockbay.loading import load_registry

    registry = load_registry(paths)
    print(f"ok: {len(registry)} scenarios in {len(paths)} path(s)")
    return 0
