"""Agents for `check-agent` to judge: a real HTTP server (plain Starlette, no a2a-sdk), one agent per path prefix.

- `/broken`: a card without `skills` and `version`, an HTTP+JSON interface that is not served, and one of an A2A
  version nobody speaks; it answers seat messages without a vote, and the end message with a data part only.
- `/slow`: a good card, but it never answers a seat message (it waits until the caller hangs up).
- `/locked`: follows the contract, behind a bearer token (`TOKEN`); votes with a data part.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.system._cards import plain_card

TOKEN = "letmein"


def _card(request: Request) -> JSONResponse:
    fault = request.path_params["fault"]
    base = f"{request.url.scheme}://{request.url.netloc}/{fault}"
    card = plain_card(base, f"{fault} agent", "judged by check-agent")
    if fault == "broken":
        del card["skills"], card["version"]
        card["supportedInterfaces"] += [
            {"url": f"{base}/rest", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"},
            {"url": f"{base}/rpc/", "protocolBinding": "JSONRPC", "protocolVersion": "2.0"},
        ]
    if fault == "locked":
        card["securitySchemes"] = {"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}}
        card["securityRequirements"] = [{"schemes": {"bearer": {"list": []}}}]
    return JSONResponse(card)


def _result(request_id: Any, context_id: str, parts: list[dict[str, Any]]) -> JSONResponse:
    message = {"messageId": "m-1", "contextId": context_id, "role": "ROLE_AGENT", "parts": parts}
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "result": {"message": message}})


def _error(request_id: Any, code: int, message: str) -> JSONResponse:
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def _seat_kind(message: dict[str, Any]) -> str:
    for part in message.get("parts", []):
        data = part.get("data")
        if isinstance(data, dict) and isinstance(data.get("collabgap"), dict):
            return str(data["collabgap"].get("kind"))
    return "none"


async def _rpc(request: Request) -> Response:
    fault = request.path_params["fault"]
    if fault == "locked" and request.headers.get("authorization") != f"Bearer {TOKEN}":
        return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
    body = await request.json()
    request_id, method = body.get("id"), body.get("method")
    if method in ("GetTask", "tasks/get"):
        return _error(request_id, -32001, "Task not found")
    if method != "SendMessage":
        return _error(request_id, -32601, f"unknown method {method!r}")
    message = body["params"]["message"]
    context_id, kind = message.get("contextId", ""), _seat_kind(message)
    if fault == "slow":
        while (await request.receive())["type"] != "http.disconnect":
            pass  # never answers: waits for the caller to give up
        return Response(status_code=499)
    if fault == "broken":
        if kind == "end":
            return _result(request_id, context_id, [{"data": {"ok": True}, "mediaType": "application/json"}])
        return _result(request_id, context_id, [{"text": "Hello partner. I am not sure where to go."}])
    replies: dict[str, list[dict[str, Any]]] = {"start": [{"text": "Hello partner, please share your map."}],
                                                "turn": [{"text": "Agreed."},
                                                         {"data": {"move": "down"}, "mediaType": "application/json"}],
                                                "end": [{"text": "Thanks for the game."}]}
    return _result(request_id, context_id, replies.get(kind, [{"text": "?"}]))


app = Starlette(routes=[
    Route("/{fault}/.well-known/agent-card.json", _card),
    Route("/{fault}/rpc/", _rpc, methods=["POST"]),
])
