"""The practical limit: bare aiohttp answering /v1/messages with bytes prepared at start-up.

It does the least a Messages API server must do per request (read and parse the JSON body, pick
JSON or SSE from `stream`) and then writes precomputed bytes, so whatever mockbay costs beyond
it is mockbay's own. Streams are paced by absolute deadlines (delta i leaves at request start +
ttft + i*gap), never by sleeping after each write, so a late write does not delay every later
event. The bytes are mockbay's own when it is available (`capture_*`), else `synthetic`.

Run: `python bench/baseline.py --port N --payload FILE`; prints `baseline listening on ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from common import HOST, SCENARIOS, post, request_body

# A payload file: {"json": reply body, "head"/"deltas"/"tail": SSE event blocks, "ttft_ms", "gap_ms"}.
Payload = dict[str, Any]


def sse_block(data: dict[str, Any]) -> str:
    """One SSE event as the Messages API frames it: `event:` line, compact `data:` line, blank line."""
    return f"event: {data['type']}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _stream_timing() -> tuple[list[str], float, float]:
    """The chunks, ttft and gap of the stream scenario: the one source for both servers."""
    scenario = yaml.safe_load((SCENARIOS / "stream.yaml").read_text())
    timing = scenario["timing"]
    chunks = scenario["rules"][0]["reply"]["text"]["chunks"]
    return chunks, float(timing["ttft_ms"]), float(timing["gap_ms"])


def synthetic() -> Payload:
    """Messages-API-shaped bytes for the benchmark replies, for when mockbay cannot serve them yet."""
    chunks, ttft_ms, gap_ms = _stream_timing()
    reply_text = yaml.safe_load((SCENARIOS / "json.yaml").read_text())["rules"][0]["reply"]["text"]
    message = {
        "id": "msg_01BenchBaseline000000000",
        "type": "message",
        "role": "assistant",
        "model": json.loads(request_body())["model"],
        "content": [{"type": "text", "text": reply_text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 92, "output_tokens": 25},
    }
    start = {**message, "content": [], "stop_reason": None, "usage": {"input_tokens": 92, "output_tokens": 1}}
    return {
        "json": json.dumps(message, separators=(",", ":")),
        "head": [
            sse_block({"type": "message_start", "message": start}),
            sse_block(
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
            ),
            sse_block({"type": "ping"}),
        ],
        "deltas": [
            sse_block({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": c}})
            for c in chunks
        ],
        "tail": [
            sse_block({"type": "content_block_stop", "index": 0}),
            sse_block(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": len(chunks)},
                }
            ),
            sse_block({"type": "message_stop"}),
        ],
        "ttft_ms": ttft_ms,
        "gap_ms": gap_ms,
    }


def capture_json(port: int) -> str:
    """mockbay's JSON reply body for the benchmark request."""
    status, body = post(port, request_body())
    if status != 200:
        raise RuntimeError(f"mockbay JSON reply: HTTP {status}: {body[:300]!r}")
    return body.decode()


def capture_stream(port: int) -> Payload:
    """mockbay's SSE events for the benchmark request, split around the deltas the schedule paces.

    The stream is read at its scheduled pace (about four seconds).
    """
    status, raw = post(port, request_body(stream=True))
    if status != 200:
        raise RuntimeError(f"mockbay stream reply: HTTP {status}: {raw[:300]!r}")
    blocks = [b + "\n\n" for b in raw.decode().replace("\r\n", "\n").split("\n\n") if b.strip()]
    deltas = [i for i, b in enumerate(blocks) if b.startswith("event: content_block_delta")]
    return {
        "head": blocks[: deltas[0]],
        "deltas": blocks[deltas[0] : deltas[-1] + 1],
        "tail": blocks[deltas[-1] + 1 :],
    }


def event_names(payload: Payload) -> list[str]:
    """The `event:` names of the stream, in order: what a complete stream must deliver."""
    blocks = [*payload["head"], *payload["deltas"], *payload["tail"]]
    return [b.split("\n", 1)[0].removeprefix("event: ") for b in blocks]


def make_app(payload: Payload) -> web.Application:
    """The baseline application: one route, all bytes encoded once."""
    json_bytes = payload["json"].encode()
    head = "".join(payload["head"]).encode()
    deltas = [d.encode() for d in payload["deltas"]]
    tail = "".join(payload["tail"]).encode()
    ttft, gap = payload["ttft_ms"] / 1000, payload["gap_ms"] / 1000

    async def messages(request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        start = loop.time()
        if not json.loads(await request.read()).get("stream"):
            return web.Response(body=json_bytes, content_type="application/json")
        resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
        await resp.prepare(request)
        await resp.write(head)
        for i, delta in enumerate(deltas):
            delay = start + ttft + i * gap - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await resp.write(delta)
        await resp.write(tail)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post("/v1/messages", messages)
    return app


async def serve(port: int, payload: Payload) -> None:
    """Serve until SIGTERM or SIGINT; in-flight streams are simply dropped at exit."""
    runner = web.AppRunner(make_app(payload), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    print(f"baseline listening on http://{HOST}:{port}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payload", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, json.loads(args.payload.read_text())))


if __name__ == "__main__":
    main()
