"""Where a memo hit's time goes beyond the bare server: the HTTP layer's share, then mockbay's steps.

mockbay answers a memo hit inline, as aiohttp's parser hands it over (`mockbay/server/inline.py`).
This separates what that path costs from what mockbay's bookkeeping on it costs. It runs three
servers in interleaved wrk rounds (c=64, one body repeated) and reports each one's req/s and
server CPU per request, as medians:

- `baseline`: the bare aiohttp server (`baseline.py`) with mockbay's reply bytes;
- `mockbay`: `mockbay serve`, as `make bench` runs it;
- `floor`: the same server and app with memo hits answered inline (as mockbay's are, see
  `mockbay/server/inline.py`) from the memo's bytes alone (aiohttp's parser, the header view, the
  memo key and lookup, the head). Nothing is journaled, numbered, counted or checked, so it is not
  a server anyone should run: it measures what is left when mockbay's own bookkeeping is gone.

With `--spin 15,30,60` the comparison adds a floor per figure that spins that many microseconds
(a busy loop on `perf_counter`) before answering: what each microsecond of work in the answer
costs in server CPU per request under this load, beyond itself.
With `--distinct` every body is distinct (the memo never answers, so there is no floor to show).
With `--free STEP,...` a server with those steps of the pipeline made costless (`FREE`: each
replaced by a stub that returns what the benchmark's body would get) is measured beside mockbay:
an upper bound on what compiling or caching them could gain. Its answers are not mockbay's (every
message has one id, for one), so it is nothing to run but a measurement.
With `--steps` a fourth server times the named steps of the real pipeline in place (each wrapped
with `perf_counter_ns`, inclusive; a wrapper adds ~0.5 us to each of its callers' figures) and
prints microseconds and calls per request for each step the load reached. Everything targets
127.0.0.1 and stops by itself.

Run: `.venv/bin/python bench/attribution.py [--rounds 5] [--seconds 3] [--distinct] [--steps]
[--spin US,...] [--free STEP,...]` (about a minute per five rounds, plus ~15 s per round for each
spin). The same script is the floor's, the timed server's and the freed server's entry point
(`--serve floor|steps|free ...`); `bench/instructions.py --free` counts the freed server's
instructions.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import inspect
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import baseline
import throughput
from common import PYTHON, Server
from run import JSON_SCENARIO, baseline_argv, mockbay_argv, starter

CONNECTIONS = 64
MIN_CALLS = 0.01  # per request: a step below it was reached only by the first (or warm-up) requests

# The steps `--steps` times: (module, attribute) pairs, looked up where the pipeline calls them.
STEPS = (
    # a memo hit, answered as the protocol parses it (`mockbay/server/inline.py`)
    ("mockbay.server.inline", "answer"),
    ("mockbay.server.inline", "lowered_headers"),
    ("mockbay.server.inline", "authenticate"),
    ("mockbay.server.inline", "require_version"),
    ("mockbay.server.inline", "memo_key"),
    ("mockbay.lru", "Lru.get"),
    ("mockbay.server.inline", "open_exchange"),
    ("mockbay.server.exchanges", "mask_lowered"),
    ("mockbay.server.exchanges", "Exchange"),
    ("mockbay.render.ids", "request_id"),
    ("mockbay.journal", "Journal.append"),
    ("mockbay.journal", "Journal.charge"),
    ("mockbay.metrics", "Metrics.started"),
    ("mockbay.metrics", "Metrics.finished"),
    ("mockbay.server.inline", "begin_answer"),
    ("mockbay.server.memo", "Memoized.replay"),
    ("mockbay.logs", "log_exchange"),
    ("mockbay.server.inline", "date_and_server"),
    # a new body where no reply waits, computed as the protocol parses it too
    ("mockbay.server.inline", "pipeline"),
    ("mockbay.server.inline", "answer_bytes"),
    # the handler aiohttp calls for every other request
    ("mockbay.server.app", "dispatch"),
    ("mockbay.server.app", "_answer"),
    ("mockbay.server.app", "_route"),
    ("mockbay.server.app", "lowered_headers"),
    ("mockbay.server.app", "resolve_dot_segments"),
    ("mockbay.store.memory", "MemoryStore.next_sequence"),
    ("mockbay.store.memory", "MemoryStore.record"),
    ("mockbay.server.paths", "doubled_prefix"),
    ("mockbay.server.messages", "refuse_declared_oversize"),
    ("mockbay.server.messages", "create_message"),
    ("mockbay.server.messages", "authenticate"),
    ("mockbay.server.messages", "require_version"),
    ("mockbay.server.messages", "read_body"),
    ("mockbay.server.messages", "answer_message"),
    # the whole pipeline's steps, which a memo hit skips (`--distinct`)
    ("mockbay.server.messages", "_journal_body"),
    ("mockbay.server.messages", "_validated"),
    ("mockbay.server.messages", "decide"),
    ("mockbay.server.messages", "admit"),
    ("mockbay.server.messages", "render"),
    ("mockbay.fingerprint", "fingerprint"),  # read once per request, through MessagesRequest.fingerprint
    ("mockbay.server.rendering", "render_message"),
    ("mockbay.server.messages", "plan"),
    ("mockbay.server.messages", "dumps"),
    ("mockbay.server.messages", "remember"),
    ("mockbay.server.messages", "send_json"),
)


# Steps `--free` can make costless: name -> (module, attribute, stub). Each stub returns what the
# benchmark's body (bench/request.json: no tools, no cache breakpoints, valid) gets from the step.
FREE: dict[str, tuple[str, str, Callable[..., Any]]] = {
    "schema": ("mockbay.wire.validate", "check_shape", lambda body, headers, counting: None),
    "facts": (
        "mockbay.wire.validate",
        "typed_facts",
        lambda body, counting: (0 if counting else int(body["max_tokens"]), (), 0, False),
    ),
    "fingerprint": ("mockbay.fingerprint", "fingerprint", lambda body: "0" * 16),
    "estimate": ("mockbay.server.admission", "estimate_input_tokens", lambda body: 100),
    "memo-store": ("mockbay.server.messages", "remember", lambda *args, **kwargs: None),
}


# -- the servers' side (`--serve`) -------------------------------------------------------------


def _owner(module_name: str, attribute: str) -> tuple[Any, str]:
    """Where a step is looked up (`Lru.get`: the class in its module) and its name there."""
    import importlib

    owner: Any = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def patch_free(names: Sequence[str]) -> None:
    """Replace each named step (`FREE`) with its stub, where the pipeline looks it up."""
    for name in names:
        module_name, attribute, stub = FREE[name]
        setattr(*_owner(module_name, attribute), stub)


def patch_floor(spin_us: float) -> None:
    """Answer memo hits of POST /v1/messages inline from the memo's bytes and nothing else (see
    the module docstring), after `spin_us` microseconds of busy work."""
    from aiohttp.http import RawRequestMessage

    from mockbay.server import head, inline
    from mockbay.server.memo import memo_key
    from mockbay.server.request_headers import lowered_headers
    from mockbay.state import ServerState

    def floor(state: ServerState, message: RawRequestMessage, body: bytes) -> bytes | None:
        if message.method != "POST" or message.path != "/v1/messages":
            return None
        hit = state.memo.get(memo_key(state, body, lowered_headers(message.headers), None, "anthropic"))
        if hit is None or hit.json_head is None:
            return None
        until = time.perf_counter() + spin_us / 1e6
        while time.perf_counter() < until:
            pass
        return head.OK_LINE + b"request-id: req_floor\r\n" + hit.json_head + head.date_and_server() + hit.body

    inline.answer = floor


def patch_steps(report: Path) -> Callable[[], None]:
    """Wrap every step in STEPS with a timer; the returned function writes the figures to `report`."""
    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    for module_name, attribute in STEPS:
        owner, name = _owner(module_name, attribute)
        setattr(owner, name, _timed(getattr(owner, name), attribute, spent, calls))

    def write() -> None:
        requests = max(calls["dispatch"], calls["answer"], 1)  # a memo hit never reaches `dispatch`
        figures = {step: [spent[step] / requests / 1000, calls[step] / requests] for _, step in STEPS}
        report.write_text(json.dumps({"requests": requests, "per_request": figures}))

    return write


def _timed(
    function: Callable[..., Any], step: str, spent: collections.Counter[str], calls: collections.Counter[str]
) -> Callable[..., Any]:
    """`function` adding its time (ns) and one call to `step`'s counts."""
    clock = time.perf_counter_ns
    if inspect.iscoroutinefunction(function):

        async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[step] += clock() - started
                calls[step] += 1

        return timed_coroutine

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return function(*args, **kwargs)
        finally:
            spent[step] += clock() - started
            calls[step] += 1

    return timed


def serve(role: str, argv: list[str]) -> int:
    """Run `mockbay serve` as the floor (`floor SPIN_US ARGS`), the timed server (`steps REPORT
    ARGS`) or the freed one (`free STEP,... ARGS`)."""
    write = None
    if role == "floor":
        spin_us, *argv = argv
        patch_floor(float(spin_us))
    elif role == "free":
        names, *argv = argv
        patch_free(names.split(","))
    else:
        report, *argv = argv
        write = patch_steps(Path(report))
    from mockbay.cli import main

    try:
        return main(argv)
    finally:
        if write is not None:
            write()


# -- the measuring side ------------------------------------------------------------------------


def serve_argv(port: int) -> list[str]:
    """`mockbay serve` on the JSON scenario, answering at once, as `make bench` runs it."""
    return mockbay_argv(port, JSON_SCENARIO, "--timing", "instant")


def served_by_me(role: str, *extra: str) -> Callable[[int], list[str]]:
    """`mockbay serve` as `make bench` runs it, through this script's `--serve ROLE`."""
    me = str(Path(__file__).resolve())
    return lambda port: [PYTHON, me, "--serve", role, *extra, *serve_argv(port)[1:]]


@contextlib.contextmanager
def servers(
    payload: Path,
    steps_report: Path | None,
    *,
    floor: bool,
    spins: Sequence[float] = (),
    free: Sequence[str] = (),
) -> Iterator[dict[str, Server]]:
    """Every server of the comparison, up at once on fresh ports."""

    with contextlib.ExitStack() as stack:
        up: dict[str, Server] = {}
        up["mockbay"] = stack.enter_context(starter("mockbay", serve_argv)())
        if floor:
            up["floor"] = stack.enter_context(starter("floor", served_by_me("floor", "0"))())
            for spin in spins:
                spinning = served_by_me("floor", f"{spin:g}")
                up[f"floor + {spin:g} us"] = stack.enter_context(starter("floor", spinning)())
        if free:
            freed = served_by_me("free", ",".join(free))
            up[f"free: {', '.join(free)}"] = stack.enter_context(starter("free", freed)())
        payload.write_text(
            json.dumps({**baseline.synthetic(), "json": baseline.capture_json(up["mockbay"].port)})
        )
        up["baseline"] = stack.enter_context(starter("baseline", lambda port: baseline_argv(port, payload))())
        if steps_report is not None:
            timed = served_by_me("steps", str(steps_report))
            up["steps"] = stack.enter_context(starter("steps", timed)())
        yield up


def rounds(
    up: dict[str, Server], count: int, seconds: float, *, distinct: bool
) -> dict[str, dict[str, float]]:
    """Interleaved wrk rounds; medians of req/s and server CPU us per request for each server."""
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in up if name != "steps"}
    for name in seen:
        throughput.warm_up(up[name])
    for number in range(1, count + 1):
        line = []
        for name in seen:
            server = up[name]
            figures = throughput.wrk(server.url, CONNECTIONS, seconds, server.proc.pid, distinct=distinct)
            cpu_us = figures["server_cpu_us_per_request"]
            seen[name].append((figures["rps"], cpu_us))
            line.append(f"{name} {figures['rps']:,.0f} req/s {cpu_us:.0f} us")
        print(f"round {number}/{count}: " + ", ".join(line), flush=True)
    return {
        name: {
            "rps": statistics.median(rps for rps, _ in figures),
            "cpu_us": statistics.median(cpu for _, cpu in figures),
        }
        for name, figures in seen.items()
    }


def spin_list(text: str) -> tuple[float, ...]:
    """`15,30,60`: microseconds, each at least 0."""
    try:
        spins = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of microseconds: {text!r}") from None
    if any(spin < 0 for spin in spins):
        raise argparse.ArgumentTypeError(f"a spin cannot be negative: {text!r}")
    return spins


def free_list(text: str) -> tuple[str, ...]:
    """`schema,fingerprint`: names from `FREE`, each at most once."""
    names = tuple(text.split(","))
    unknown = [name for name in names if name not in FREE]
    if unknown or len(set(names)) != len(names):
        valid = ", ".join(FREE)
        raise argparse.ArgumentTypeError(f"not a list of distinct steps from {valid}: {text!r}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved wrk rounds (default 5)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per wrk run (default 3)")
    parser.add_argument("--distinct", action="store_true", help="every body distinct (no memo hits)")
    parser.add_argument("--steps", action="store_true", help="also time the pipeline's steps in place")
    parser.add_argument(
        "--spin", type=spin_list, default=(), metavar="US,...", help="also floors that spin this long first"
    )
    parser.add_argument(
        "--free",
        type=free_list,
        default=(),
        metavar="STEP,...",
        help=f"also a server with these steps made costless: {', '.join(FREE)}",
    )
    args = parser.parse_args()
    if args.spin and args.distinct:
        parser.error("--spin adds floors, and --distinct has none (the memo never answers)")
    with tempfile.TemporaryDirectory() as tmp:
        steps_report = Path(tmp) / "steps.json" if args.steps else None
        floor = not args.distinct
        payload = Path(tmp) / "payload.json"
        with servers(payload, steps_report, floor=floor, spins=args.spin, free=args.free) as up:
            medians = rounds(up, args.rounds, args.seconds, distinct=args.distinct)
            if "steps" in up:  # not warmed up: every request it answers is in its figures
                steps = up["steps"]
                throughput.wrk(
                    steps.url, CONNECTIONS, args.seconds * 2, steps.proc.pid, distinct=args.distinct
                )
        base = medians["baseline"]
        bodies = "every body distinct" if args.distinct else "one body"
        print(f"\n| c={CONNECTIONS}, {bodies} | req/s | server CPU us/request | req/s vs baseline |")
        print("| --- | ---: | ---: | ---: |")
        for name, figures in medians.items():
            versus = figures["rps"] / base["rps"]
            print(f"| {name} | {figures['rps']:,.0f} | {figures['cpu_us']:.0f} | {versus:.2f}x |")
        if steps_report is not None:
            timed = json.loads(steps_report.read_text())
            print(
                f"\n| step (inclusive, {timed['requests']:,} requests) | us per request | calls per request |"
            )
            print("| --- | ---: | ---: |")
            for step, (micros, calls) in timed["per_request"].items():
                if calls >= MIN_CALLS:
                    print(f"| `{step}` | {micros:.2f} | {calls:.2f} |")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        sys.exit(serve(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
