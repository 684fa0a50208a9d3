"""GET /v1/models and /v1/models/{id}: the catalog, paginated like upstream (reference §12)."""

from __future__ import annotations

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.server.auth import authenticate
from mockbay.server.responses import json_response
from mockbay.state import ServerState
from mockbay.wire.models import find_model, list_models_page, model_info_json


def list_models(request: web.Request, state: ServerState, headers: dict[str, str]) -> web.Response:
    authenticate(headers, state.config)
    query = {key: request.query.getall(key) for key in request.query}
    return json_response(list_models_page(query))


def get_model(state: ServerState, model_id: str, headers: dict[str, str]) -> web.Response:
    authenticate(headers, state.config)
    info = find_model(model_id)
    if info is None:
        raise ApiError(404, "not_found_error", f"model: {model_id}")
    return json_response(model_info_json(info))
