"""Amazon Bedrock's form of the Messages API, in front of the same pipeline (docs/cloud-platforms.md).

`POST …/model/{modelId}/invoke` answers JSON, `…/invoke-with-response-stream` answers an AWS
event-stream. The body carries `anthropic_version` (required) and `anthropic_beta`, never `model`
or `stream` (the path says both). Auth is SigV4 or a Bedrock API key (Bearer), accepted without
checking signatures; the SigV4 access-key id is the caller (rate-limit bucket, default session).
Every error leaves as Bedrock's `{"message": …}` with `x-amzn-ErrorType`, or mid-stream as an
exception frame, named by one status table. Every answer names its request in `x-amzn-RequestId`
alone: none of the first-party identity headers (`platforms.NAMED_BY_REQUEST_ID`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from mockbay.config import ServerConfig
from mockbay.errors import ApiError
from mockbay.journal import Exchange
from mockbay.platforms import BEDROCK
from mockbay.platforms.body import cloud_body, invalid, with_model
from mockbay.server.auth import accepted_key, presented_keys, sigv4_access_key
from mockbay.server.messages import Answer, Inbound, answer_message, read_body, refuse_declared_oversize
from mockbay.server.responses import dumps, json_response, raw_error_response
from mockbay.state import ServerState
from mockbay.wire import eventstream
from mockbay.wire.framing import Framing

ROUTE = re.compile(r"/model/([^/]+)/(invoke|invoke-with-response-stream)$")
STREAM_ACTION = "invoke-with-response-stream"
ERROR_TYPE_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"
ERROR_TYPE_HEADER = "x-amzn-ErrorType"
EXTRANEOUS = ("model", "stream")
BETA_FIELD = "anthropic_beta"
USER_PROFILE_FIELD = "user_profile_id"  # the SDK moves the first-party header into the body
USER_PROFILE_HEADER = "anthropic-user-profile-id"

# Anthropic status -> (Bedrock status, exception), the table of docs/cloud-platforms.md.
EXCEPTIONS: dict[int, tuple[int, str]] = {
    400: (400, "ValidationException"),
    401: (403, "AccessDeniedException"),
    403: (403, "AccessDeniedException"),
    404: (404, "ResourceNotFoundException"),
    408: (408, "ModelTimeoutException"),
    413: (400, "ValidationException"),
    429: (429, "ThrottlingException"),
    500: (500, "InternalServerException"),
    503: (503, "ServiceUnavailableException"),
    504: (408, "ModelTimeoutException"),
    529: (503, "ServiceUnavailableException"),
}


def exception_for(status: int) -> tuple[int, str]:
    """Bedrock's status and exception name for an Anthropic status; unlisted ones by class."""
    return EXCEPTIONS.get(status) or EXCEPTIONS[500 if status >= 500 else 400]


def error_response(error: ApiError, request_id: str) -> web.Response:
    """Bedrock's error shape; a raw body as written, named by the request id alone, with the
    `x-amzn-ErrorType` it was given or else the one its status maps to (boto3 and the AWS SDKs
    read the exception's name from that header, not from the body)."""
    if error.raw is not None:
        headers = {**error.headers, "x-amzn-RequestId": request_id}
        if not any(name.lower() == ERROR_TYPE_HEADER.lower() for name in error.headers):
            headers[ERROR_TYPE_HEADER] = _error_type(error.status)
        return raw_error_response(error, headers)
    status, _ = exception_for(error.status)
    headers = {**error.headers, ERROR_TYPE_HEADER: _error_type(error.status), "x-amzn-RequestId": request_id}
    return json_response({"message": error.message}, status=status, headers=headers)


def _error_type(status: int) -> str:
    """The `x-amzn-ErrorType` of an Anthropic status: Bedrock's exception name, namespaced."""
    return f"{exception_for(status)[1]}:{ERROR_TYPE_NAMESPACE}"


def _exception_frame(error: ApiError, request_id: str) -> bytes:
    """The frame that ends a stream cut by an error_event fault; the name camel-cased as Bedrock's."""
    _, name = exception_for(error.status)
    return eventstream.exception(name[0].lower() + name[1:], error.message)


FRAMING = Framing("application/vnd.amazon.eventstream", eventstream.chunk, _exception_frame)


def _denied(message: str) -> ApiError:
    return ApiError(403, "permission_error", message)


def caller_of(headers: Mapping[str, str], config: ServerConfig) -> tuple[str, str]:
    """(caller, default session): the SigV4 access-key id for both, or the Bedrock API key and no
    session. `--api-key` lists the accepted keys and access-key ids."""
    keys = presented_keys(headers)
    if not keys:
        raise _denied("Missing Authentication Token")
    caller = accepted_key(keys, config)
    if caller is None:
        raise _denied("The security token included in the request is invalid.")
    return caller, sigv4_access_key(headers) or ""


def _betas(body: dict[str, object], headers: dict[str, str]) -> dict[str, str]:
    """`anthropic_beta` from the body becomes the first-party `anthropic-beta` header."""
    betas = body.pop(BETA_FIELD, None)
    if betas is None:
        return headers
    if not isinstance(betas, list) or not all(isinstance(beta, str) for beta in betas):
        raise invalid(f"Malformed input request: #/{BETA_FIELD}: expected type: JSONArray of strings")
    return {**headers, "anthropic-beta": ",".join(betas)}


def _user_profile(body: dict[str, object], headers: dict[str, str]) -> dict[str, str]:
    """`user_profile_id` from the body becomes the first-party `anthropic-user-profile-id` header."""
    profile = body.pop(USER_PROFILE_FIELD, None)
    if profile is None:
        return headers
    if not isinstance(profile, str):
        raise invalid(f"Malformed input request: #/{USER_PROFILE_FIELD}: expected type: String")
    return {**headers, USER_PROFILE_HEADER: profile}


def first_party(
    found: re.Match[str], raw: bytes, headers: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The request in first-party form: the body with model and stream from the path, and the
    headers with the body's betas and user profile. Refuses what Bedrock refuses, in Bedrock's words."""
    body = cloud_body(
        raw,
        "Malformed input request: #: required key [anthropic_version] not found, "
        "please reformat your input and try again.",
    )
    for key in EXTRANEOUS:
        if key in body:
            raise invalid(
                f"Malformed input request: #: extraneous key [{key}] is not permitted, "
                "please reformat your input and try again."
            )
    headers = _user_profile(body, _betas(body, headers))
    return with_model(body, unquote(found.group(1)), stream=found.group(2) == STREAM_ACTION), headers


def _with_token_counts(response: web.StreamResponse) -> web.StreamResponse:
    """Real Bedrock repeats a JSON reply's token counts in headers (docs/cloud-platforms.md)."""
    if response.status == 200 and isinstance(response, web.Response) and isinstance(response.body, bytes):
        usage = json.loads(response.body)["usage"]
        response.headers["X-Amzn-Bedrock-Input-Token-Count"] = str(usage["input_tokens"])
        response.headers["X-Amzn-Bedrock-Output-Token-Count"] = str(usage["output_tokens"])
    return response


async def invoke(
    request: web.Request,
    state: ServerState,
    exchange: Exchange,
    pinned: str | None,
    headers: dict[str, str],
    found: re.Match[str],
) -> Answer:
    """One Bedrock invoke, translated for the pipeline; its errors leave in Bedrock's shape."""
    exchange.endpoint, exchange.platform = "messages", BEDROCK
    try:
        refuse_declared_oversize(request.headers)
        caller, session = caller_of(headers, state.config)
        body, headers = first_party(found, await read_body(request), headers)
        stream = body.get("stream") is True
        reply_headers = {"x-amzn-RequestId": exchange.request_id}
        if stream:
            reply_headers["x-amzn-bedrock-content-type"] = "application/json"
        inbound = Inbound(
            raw=dumps(body),
            parsed=body,
            headers=headers,
            caller=caller,
            platform=BEDROCK,
            framing=FRAMING,
            session=session,
            reply_headers=reply_headers,
        )
        answer = await answer_message(request, state, exchange, pinned, inbound)
        if stream or not isinstance(answer, web.StreamResponse):  # a stream: its writer, or an error
            return answer
        return _with_token_counts(answer)
    except ApiError as error:
        exchange.error_type = error.type
        return error_response(error, exchange.request_id)
