"""GET /v1/models and /v1/models/{id}: the catalog, paginated like upstream (docs/wire.md §12)."""

from __future__ import annotations

from aiohttp import web

from mockbay.server.auth import authenticate
from mockbay.server.responses import json_response
from mockbay.state import ServerState
from mockbay.wire.models import list_models_page, retrieve_model_json


def list_models(request: web.Request, state: ServerState, headers: dict[str, str]) -> web.Response:
    authenticate(headers, state.config)
    query = {key: request.query.getall(key) for key in request.query}
    return json_response(list_models_page(query))


def get_model(state: ServerState, model_id: str, headers: dict[str, str]) -> web.Response:
    authenticate(headers, state.config)
    return json_response(retrieve_model_json(model_id))
