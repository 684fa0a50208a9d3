"""The admin API under /_mockbay/: health, journal, unmatched requests, scenarios, reset, metrics.

Without `--admin-token` it is open when bound to loopback and answers 404 when bound elsewhere;
with one, every request needs the token, on loopback too. /_mockbay/health is always open, since
orchestrator probes must reach it.
"""

from __future__ import annotations

import hmac
import os

from aiohttp import web

from mockbay.errors import ApiError, ScenarioError
from mockbay.loading import load_yaml
from mockbay.scenario.model import Scenario
from mockbay.server import inspector
from mockbay.server.messages import read_body
from mockbay.server.prometheus import metrics_response
from mockbay.server.responses import json_response
from mockbay.state import ServerState
from mockbay.wire.errors import error_body

PREFIX = "/_mockbay/"


def _authorised(request: web.Request, state: ServerState) -> bool:
    token = state.config.admin_token
    if not token:  # none, or empty (an optional secret left blank): open on loopback only
        return state.config.is_loopback
    given = request.headers.get("x-mockbay-admin-token", "")
    if request.path.rstrip("/").endswith("/ui"):  # a browser cannot send a header to open a page
        given = given or request.query.get("token", "")
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        given = given or authorization[7:].strip()
    return hmac.compare_digest(given.encode(errors="surrogateescape"), token.encode())


async def handle_admin(
    request: web.Request, state: ServerState, path: str, request_id: str
) -> web.StreamResponse:
    """Route one admin request; unknown admin paths are the usual 404 envelope. `request_id`: the
    answer's, for an error body this builds itself."""
    name = path[len(PREFIX) :].strip("/")
    method = request.method
    if name == "health" and method in ("GET", "HEAD"):
        return json_response({"status": "ok", "scenarios": len(state.registry), "pid": os.getpid()})
    if not _authorised(request, state):
        raise ApiError(404, "not_found_error", "Not found")
    if name == "requests" and method == "GET":
        after = inspector.sequence_after(request.query.get("after"))
        return json_response({"requests": await state.store.exchanges(after)})
    if name.startswith("requests/") and method == "GET":
        request_id, _, view = name[len("requests/") :].partition("/")
        if view in ("", "scenario"):
            exchange = await inspector.find(state, request_id)
            return await inspector.scenario_file(state, exchange) if view else inspector.detail(exchange)
    if name == "ui" and method == "GET":
        return inspector.ui_page()
    if name == "requests" and method == "DELETE":
        state.journal.clear()
        await state.store.clear_journal()
        return json_response({"status": "ok"})
    if name == "unmatched" and method == "GET":
        return json_response({"unmatched": await state.store.unmatched()})
    if name == "scenarios" and method in ("GET", "POST"):
        await state.store.refresh_scenarios()  # with --state: what other replicas loaded, too
        if method == "POST":
            return await _load(request, state, request_id)
        return json_response({"scenarios": [_summary(s) for s in state.registry]})
    if name == "metrics" and method == "GET":
        return metrics_response(state.metrics, state.journal)
    if name == "reset" and method == "POST":
        state.reset()
        await state.store.reset()
        return json_response({"status": "ok"})
    raise ApiError(404, "not_found_error", "Not found")


def _summary(scenario: Scenario) -> dict[str, object]:
    return {
        "name": scenario.name,
        "description": scenario.description,
        "file": scenario.mark.path,
        "line": scenario.mark.line,
        "priority": scenario.priority,
    }


async def _load(request: web.Request, state: ServerState, request_id: str) -> web.Response:
    """Load scenarios from a YAML body with the same validation as files; a refusal lists every
    problem beside the envelope's message."""
    try:
        text = (await read_body(request)).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "invalid_request_error", f"scenario YAML is not UTF-8 (byte {exc.start})"
        ) from None
    try:
        scenarios = load_yaml(text, "<admin>")
        state.registry.merged(scenarios)  # refuses a name the body defines twice
    except ScenarioError as exc:
        problems = [f"{mark}: {message}" for mark, message in exc.problems]
        envelope = error_body("invalid_request_error", "\n".join(problems), request_id)
        return json_response({**envelope, "problems": problems}, status=400)
    await state.store.add_scenarios(text)  # with --state: every replica and worker loads them too
    state.load_admin(scenarios)
    return json_response({"loaded": [s.name for s in scenarios], "scenarios": len(state.registry)})
