"""The agent card route: the plain A2A 1.0 card to 1.0 clients, the card with the 0.3 fields to 0.3 clients.

a2a-sdk 1.3's own card route serves one shape to everyone. When a card declares a 0.3 interface, it adds the 0.3
top-level fields (`url`, `preferredTransport`, `protocolVersion`, `security`, and `type`/`scheme` inside each
security scheme) to the 1.0 ones, and a strict 1.0 parser rejects the card: the spec's JSON schema forbids
unknown fields. Here the client's version decides: a request
naming 0.3 (`A2A-Version` header or query parameter) gets the card with the 0.3 fields, which 0.3 clients need
(a2a-sdk 0.3 requires `url`). Any other request, a version-less one included, gets the 1.0 card alone, still
listing the 0.3 interface: the card is how a client discovers the versions an agent speaks, so it is fetched
before any version is agreed, and strict 1.0 clients and the A2A TCK fetch it with no header. A 0.3 client
reaches its shape with the card path `/.well-known/agent-card.json?A2A-Version=0.3`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.types import AgentCard
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH, VERSION_HEADER
from google.protobuf.json_format import MessageToDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def card_shape(version: str | None) -> str:
    """The card shape for a client of A2A `version` (`Major.Minor`, as sent): "0.3" or "1.0"."""
    return "0.3" if (version or "").strip().startswith("0.") else "1.0"


def _etag(body: dict[str, Any]) -> str:
    return f'W/"{hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()}"'


def card_routes(card: AgentCard, *, cache_control: str) -> list[Route]:
    """The card at the well-known path in the shape of the client's version, with `Cache-Control`, a weak `ETag`
    per shape and `Vary: A2A-Version`; a matching `If-None-Match` gets 304."""
    bodies = {"1.0": MessageToDict(card), "0.3": agent_card_to_dict(card)}
    tags = {shape: _etag(body) for shape, body in bodies.items()}

    async def serve_card(request: Request) -> Response:
        shape = card_shape(request.headers.get(VERSION_HEADER) or request.query_params.get(VERSION_HEADER))
        headers = {"ETag": tags[shape], "Cache-Control": cache_control, "Vary": VERSION_HEADER}
        wanted = [tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")]
        if "*" in wanted or tags[shape].removeprefix("W/") in wanted:
            return Response(status_code=304, headers=headers)
        return JSONResponse(bodies[shape], headers=headers)

    return [Route(AGENT_CARD_WELL_KNOWN_PATH, serve_card, methods=["GET"])]
