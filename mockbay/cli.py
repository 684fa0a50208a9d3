"""Command line: serve | validate | schema | record. `main(argv) -> int` is tested in-process.

Every option can also come from the environment (`MOCKBAY_PORT`, `MOCKBAY_SCENARIOS` joined with
`:`, ...); the command line wins. Exit codes: 0 success, 2 bad input, 1 anything else.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mockbay import __version__, interrupt
from mockbay.config import (
    ADMIN_SCENARIOS_MAX,
    ADMIN_SCENARIOS_MAX_MB,
    JOURNAL_MAX_MB,
    REPLY_MEMO_MAX_MB,
    FallbackMode,
    FingerprintMode,
    LogFormat,
    LogLevel,
    ValidationMode,
    choices,
)
from mockbay.errors import MockbayError, ScenarioError
from mockbay.options import (
    EnvParser,
    add_connection_timeouts,
    add_flag,
    add_listen,
    add_option,
    add_repeated,
    day_seconds,
    integer,
    path_argument,
    positive,
    size,
)
from mockbay.scenario.model import CacheMode, TimingMode

log = logging.getLogger("mockbay")


def _add_serve(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="run the mock server")
    add_listen(serve)
    add_repeated(
        serve,
        "--scenarios",
        "scenario file or folder (every *.yaml/*.yml below it)",
        env_name="SCENARIOS",
        separator=":",
        shown="the bundled scenarios",
        type=path_argument,
        metavar="PATH",
    )
    add_option(
        serve,
        "--timing",
        "instant: no delays; realistic: paced like upstream; recorded: a recording's own gaps",
        env_name="TIMING",
        default="realistic",
        choices=choices(TimingMode),
    )
    add_option(
        serve,
        "--fallback",
        "what answers a request no scenario matches: strict: a 400 naming the near misses; "
        "generate: an invented reply marked x-mockbay-generated: true",
        env_name="FALLBACK",
        default="generate",
        choices=choices(FallbackMode),
    )
    add_option(
        serve,
        "--validation",
        "strict: refuse request bodies the API's own schema refuses (generated from the SDK's "
        "types); lenient: only the classic rules, for clients ahead of that schema",
        env_name="VALIDATION",
        default="strict",
        choices=choices(ValidationMode),
    )
    add_option(
        serve,
        "--seed",
        "seed of generated text and ids",
        env_name="SEED",
        default=0,
        type=integer,
        metavar="N",
    )
    add_option(
        serve,
        "--cache",
        "simulate: report prompt-cache reads and writes in usage; off: never",
        env_name="CACHE",
        default="off",
        choices=choices(CacheMode),
    )
    add_option(
        serve,
        "--fingerprints",
        "exact: a recording answers only its own request; loose: its last user text and turn, "
        "surviving edits elsewhere",
        env_name="FINGERPRINTS",
        default="exact",
        choices=choices(FingerprintMode),
    )
    add_repeated(
        serve,
        "--api-key",
        "accept only this key (also a Bedrock API key, SigV4 access-key id or Vertex token)",
        env_name="API_KEYS",
        separator=",",
        shown="any key",
        dest="api_keys",
        metavar="KEY",
    )
    add_option(
        serve,
        "--admin-token",
        "once set, every /_mockbay/ request except health needs this token, on loopback too",
        env_name="ADMIN_TOKEN",
        shown="none: admin answers on loopback only, 404 elsewhere",
        metavar="TOKEN",
    )
    add_option(
        serve,
        "--rate-limits",
        "e.g. requests_per_minute=50,input_tokens_per_minute=20000,output_tokens_per_minute=8000",
        env_name="RATE_LIMITS",
        shown="no limits",
        metavar="SPEC",
    )
    add_connection_timeouts(serve)
    add_flag(serve, "--watch", "reload scenario files when they change", env_name="WATCH")
    add_option(
        serve,
        "--workers",
        "processes sharing the port; without --state each keeps its own sequences, prompt cache, "
        "rate limits, threads, journal and admin-loaded scenarios",
        env_name="WORKERS",
        default=1,
        type=positive,
        metavar="N",
    )
    add_option(
        serve,
        "--state",
        "where sequences, rate limits, the prompt cache, threads and the journal live: memory (this process) "
        "or redis://HOST:PORT/DB, shared by every replica and worker pointed at it",
        env_name="STATE",
        default="memory",
        metavar="URL",
    )
    add_option(
        serve,
        "--state-namespace",
        "prefix of every key in the shared store, so two mockbays can share one Redis",
        env_name="STATE_NAMESPACE",
        default="mockbay",
        metavar="PREFIX",
    )
    add_option(
        serve,
        "--log-format",
        "text, or json: one JSON object a line, an exchange's with its request id, endpoint, status, "
        "scenario and duration (the ready line stays as it is)",
        env_name="LOG_FORMAT",
        default="text",
        choices=choices(LogFormat),
    )
    add_option(
        serve,
        "--log-level",
        "least severe level logged: info logs one line an exchange naming what answered it; "
        "debug adds why each other scenario did not",
        env_name="LOG_LEVEL",
        default="info",
        choices=choices(LogLevel),
    )
    for flag, env_name, default, what in SIZES:
        add_option(serve, flag, what, env_name=env_name, default=default, type=size, metavar="N")
    _add_batches_and_files(serve)


def _add_batches_and_files(serve: argparse.ArgumentParser) -> None:
    """Options of /v1/messages/batches, /v1/files and /v1/skills (docs/wire-notes.md)."""
    add_option(
        serve,
        "--batch-seconds",
        "a Message Batch ends this long after its create, 0 to 86400; 0: by the next read",
        env_name="BATCH_SECONDS",
        default=0.0,
        type=day_seconds,
        metavar="S",
    )
    for flag, env_name, default, what in STORE_CAPS:
        add_option(serve, flag, what, env_name=env_name, default=default, type=positive, metavar="N")
    add_flag(
        serve,
        "--files-downloadable",
        "serve uploaded files' bytes; else their download is upstream's 400 file_not_downloadable",
        env_name="FILES_DOWNLOADABLE",
    )


# The caps of a long-running server's stores: flag, variable, default, what is kept.
SIZES = (
    ("--journal-size", "JOURNAL_SIZE", 10_000, "exchanges the journal keeps"),
    ("--max-sessions", "MAX_SESSIONS", 10_000, "sequence cursors kept (one per session and step)"),
    ("--cache-entries", "CACHE_ENTRIES", 10_000, "prompt-cache entries kept"),
    ("--rate-limit-buckets", "RATE_LIMIT_BUCKETS", 10_000, "rate-limit buckets kept (one per key)"),
    ("--reply-memo", "REPLY_MEMO", 4_096, "pure replies remembered by request (0 turns the memo off)"),
    (
        "--journal-max-mb",
        "JOURNAL_MAX_MB",
        JOURNAL_MAX_MB,
        "megabytes the journal keeps (estimated: headers, path, parsed body, reply bytes or events"
        " and their offsets; the newest always stays)",
    ),
    (
        "--reply-memo-max-mb",
        "REPLY_MEMO_MAX_MB",
        REPLY_MEMO_MAX_MB,
        "megabytes the reply memo keeps (estimated: request bytes and the headers it reads, parsed body,"
        " reply)",
    ),
    (
        "--admin-scenarios-max",
        "ADMIN_SCENARIOS_MAX",
        ADMIN_SCENARIOS_MAX,
        "scenario loads kept from POST /_mockbay/scenarios (a same-named reload counts too); "
        "a load beyond is refused with a 413",
    ),
    (
        "--admin-scenarios-max-mb",
        "ADMIN_SCENARIOS_MAX_MB",
        ADMIN_SCENARIOS_MAX_MB,
        "megabytes of YAML kept from POST /_mockbay/scenarios; a load beyond is refused the same way",
    ),
)


# The caps of the batch, file, skill, thread and fingerprint stores: flag, variable, default, what
# is kept.
STORE_CAPS = (
    ("--batches-max", "BATCHES_MAX", 1_000, "Message Batches kept, the oldest dropped first"),
    (
        "--batches-max-mb",
        "BATCHES_MAX_MB",
        256,
        "megabytes of batch requests and results kept, the oldest dropped first; also one create's cap",
    ),
    ("--files-max", "FILES_MAX", 10_000, "files kept; an upload beyond is upstream's storage_quota_exceeded"),
    (
        "--files-max-mb",
        "FILES_MAX_MB",
        256,
        "megabytes of files kept; an upload beyond is refused the same way",
    ),
    (
        "--skills-max",
        "SKILLS_MAX",
        1_000,
        "skills kept; an upload beyond is upstream's storage_quota_exceeded",
    ),
    (
        "--skills-max-mb",
        "SKILLS_MAX_MB",
        256,
        "megabytes of skill versions kept (their files, zipped); an upload beyond is refused the same way",
    ),
    (
        "--threads-max",
        "THREADS_MAX",
        1_000,
        "message threads held (the `thread` beta), the oldest dropped first; continuing a dropped one "
        "is upstream's thread_not_found",
    ),
    (
        "--threads-max-mb",
        "THREADS_MAX_MB",
        64,
        "megabytes of held thread conversations, the oldest dropped first",
    ),
    (
        "--diagnostics-max",
        "DIAGNOSTICS_MAX",
        10_000,
        "cache-diagnostics fingerprints kept (one per reply to a request sending `diagnostics`), the "
        "oldest dropped first; naming a dropped one's id is previous_message_not_found",
    ),
    (
        "--diagnostics-max-mb",
        "DIAGNOSTICS_MAX_MB",
        16,
        "megabytes of cache-diagnostics fingerprints kept, the oldest dropped first",
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = EnvParser(prog="mockbay", description="An offline stand-in for the Anthropic Messages API.")
    parser.add_argument("--version", action="version", version=f"mockbay {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    validate = sub.add_parser("validate", help="check scenario files; exit 0 when valid, else 2")
    validate.add_argument(
        "paths", nargs="+", type=path_argument, metavar="PATH", help="scenario file or folder (one or more)"
    )
    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.add_argument(
        "--output",
        type=path_argument,
        metavar="FILE",
        help="write the schema to FILE instead (default: stdout)",
    )
    from mockbay.record import cli as record_cli

    record_cli.add_arguments(sub.add_parser("record", help="proxy a real upstream and write scenario files"))
    return parser


def _serve(args: argparse.Namespace) -> int:
    """`mockbay serve` with the cyclic collector off until the server's modules and scenarios are
    loaded (`tune_process` freezes them and turns it back on). They live as long as the server, so
    collecting while they are made only walks them again and again: 4% of the instructions from
    start to first reply, and of importing and loading 10,000 scenarios (callgrind). The collector
    is left as it was found whatever happens, for a refused serve run in-process."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        from mockbay.server.serve import run_serve

        return run_serve(args)
    finally:  # a served run turned it on (`tune_process`): off again if it was off before
        (gc.enable if collecting else gc.disable)()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        interrupt.disarm()  # from here a Ctrl-C is the KeyboardInterrupt caught below
        try:
            args = build_parser().parse_args(argv)  # and the environment, for what argv leaves out
        except SystemExit as exc:
            return int(exc.code or 0)
        if args.command == "serve":
            return _serve(args)
        if args.command == "validate":
            return _validate(args.paths)
        if args.command == "schema":
            from mockbay.scenario.schema import json_schema

            text = json.dumps(json_schema(), indent=2) + "\n"
            if args.output is None:
                _print_out(text)
            else:
                _write_file(Path(args.output), text)
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
    except RuntimeError as exc:  # Python 3.11 wraps one raised in a class's __set_name__ (an import)
        if isinstance(exc.__cause__, KeyboardInterrupt):
            return 0
        raise
    except BrokenPipeError:  # `mockbay schema | head`: the reader had enough
        _discard_stdout()
        return 0
    except _OutputFailed as exc:
        print(f"mockbay: error: cannot write the output: {exc}", file=sys.stderr)
        _discard_stdout()
        return 1


class _OutputFailed(Exception):
    """stdout could not take a command's output (a full disk): exit 1 in one line, not a traceback."""


def _print_out(text: str) -> None:
    """A command's output on stdout, flushed here so that a failure to write it is reported as one."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _OutputFailed(exc.strerror or str(exc)) from None


def _write_file(path: Path, text: str) -> None:
    """A file named on the command line that cannot be written is bad input (exit 2), named."""
    try:
        path.write_text(text)
    except OSError as exc:
        raise MockbayError(f"cannot write {path}: {exc.strerror or exc}") from None


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush of what is left fails no more."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _validate(paths: list[str]) -> int:
    from mockbay.loading import load_registry

    registry = load_registry(paths)
    _print_out(f"ok: {len(registry)} scenarios in {len(paths)} path(s)\n")
    return 0
