"""The MCP baseline of every benchmark figure: a bare `mcp` server with one trivial tool, nothing of collabgap in it.

Run: `python benchmarks/_bare_mcp.py PORT` (binds 127.0.0.1). MCP at `/mcp` over streamable HTTP with the SDK's
defaults, liveness at `/healthz`. Its one tool, `propose_move`, takes a direction as the referee's does and answers a
structured result of the same shape as the referee's vote verdict, without any game behind it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

import uvicorn
from mcp.server import MCPServer
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

HOST = "127.0.0.1"


class Verdict(BaseModel):
    """As many fields, of the same kinds, as the referee's answer to a vote."""

    executed: bool
    status: str
    moves_made: int
    position: tuple[int, int] | None = None


def build_app() -> Starlette:
    server = MCPServer("bare")

    @server.tool()
    async def propose_move(direction: str) -> Verdict:
        """Vote for a move (answers at once; no game behind it)."""
        return Verdict(executed=True, status="active", moves_made=len(direction))

    mcp_app = server.streamable_http_app()

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return Starlette(routes=[Route("/healthz", health), Mount("/", app=mcp_app)], lifespan=lifespan)


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not argv[0].isdigit():
        raise SystemExit("usage: python benchmarks/_bare_mcp.py PORT")
    uvicorn.run(build_app(), host=HOST, port=int(argv[0]), log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
