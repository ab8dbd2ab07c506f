"""A misbehaving A2A agent: a real HTTP server (plain Starlette, no a2a-sdk) whose every path prefix is one fault.

`http://HOST:PORT/<fault>` is an agent whose card advertises a JSON-RPC interface at `/<fault>/rpc/`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.system._cards import plain_card

FAULTS = ("garbage", "silent", "nontext", "oversized", "huge", "slow", "stranger", "error", "loris", "jsonrpc1")
TEXT_CAP_PLUS = 25_000
LORIS_PAUSE_S = 2.0
"""The `loris` agent sends its card one byte per pause: every read succeeds, the card never ends."""


def _card(request: Request) -> Response:
    fault = request.path_params["fault"]
    base = f"{request.url.scheme}://{request.url.netloc}/{fault}"
    card = plain_card(base, f"rude {fault}", "misbehaves on purpose")
    if fault == "loris":
        return StreamingResponse(_drip(json.dumps(card).encode()), media_type="application/json")
    return JSONResponse(card)


async def _drip(body: bytes) -> AsyncIterator[bytes]:
    for byte in body:
        yield bytes([byte])
        await asyncio.sleep(LORIS_PAUSE_S)


def _reply(request_id: Any, context_id: str, parts: list[dict[str, Any]], version: str = "2.0") -> JSONResponse:
    message = {"messageId": "m-1", "contextId": context_id, "role": "ROLE_AGENT", "parts": parts}
    return JSONResponse({"jsonrpc": version, "id": request_id, "result": {"message": message}})


async def _rpc(request: Request) -> Response:
    fault = request.path_params["fault"]
    body = await request.json()
    request_id, context_id = body.get("id"), body["params"]["message"].get("contextId", "")
    if fault == "garbage":
        return PlainTextResponse("<html>definitely not JSON-RPC")
    if fault == "silent":
        return _reply(request_id, context_id, [])
    if fault == "nontext":
        return _reply(request_id, context_id, [{"url": "https://example.invalid/map.png", "mediaType": "image/png"}])
    if fault == "oversized":
        return _reply(request_id, context_id, [{"text": "blah " * (TEXT_CAP_PLUS // 5)}])
    if fault == "huge":
        return _reply(request_id, context_id, [{"text": "x" * (2 << 20)}])
    if fault == "slow":
        await asyncio.sleep(30)  # the coordinator's turn timeout must fire long before this
        return _reply(request_id, context_id, [{"text": "sorry, late"}])
    if fault == "stranger":
        return _reply(request_id, "someone-elses-game", [{"text": "MOVE: down"}])
    if fault == "jsonrpc1":
        return _reply(request_id, context_id, [{"text": "MOVE: down"}], version="1.0")
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32603, "message": "agent crashed"}})


app = Starlette(routes=[
    Route("/{fault}/.well-known/agent-card.json", _card),
    Route("/{fault}/rpc/", _rpc, methods=["POST"]),
])
