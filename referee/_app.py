"""The referee as an MCP server over streamable HTTP (DESIGN §3.1): thin tool adapters over `GameRegistry`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pydantic
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from collabgap.protocol import (
    CollabgapError,
    CreatedGame,
    Direction,
    GameRecord,
    Maze,
    MazeParams,
    SEATS,
    SeatStatus,
    SeatView,
    VoteResult,
    check_views,
    generate_maze,
    split_views,
)

from ._games import GameRegistry

READ_ONLY = ToolAnnotations(read_only_hint=True)
MAX_SEATS = len(SEATS)


class RefereeSettings(BaseModel):
    """How a referee is served; validated once, at the edge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    coordinator_token: SecretStr
    """The bearer token that opens the coordinator tools."""
    public_url: str | None = None
    """The base URL others reach this referee at, when it is not the bind address (containers)."""
    max_games: int = Field(10_000, ge=1)
    """Games kept in memory; the oldest are forgotten first."""


@contextlib.contextmanager
def _tool_boundary() -> Iterator[None]:
    """Expected failures reach the caller as tool errors in our words; state is unchanged."""
    try:
        yield
    except CollabgapError as exc:
        raise ToolError(str(exc)) from exc
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        raise ToolError(f"invalid game parameters: {problems}") from exc


def _bearer(ctx: Context) -> str | None:
    header = (ctx.headers or {}).get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def build_referee(registry: GameRegistry) -> MCPServer:
    """The MCP server with the coordinator tools and the seat tools; callable in memory or over HTTP."""
    server = MCPServer("collabgap-referee", version="1", instructions="Owns the true mazes of collabgap games.")

    @server.tool(annotations=ToolAnnotations(destructive_hint=False))
    async def create_game(
        ctx: Context,
        mode: Literal["pair", "solo"] = "pair",
        feedback: Literal["none", "position"] = "none",
        size: Annotated[int, Field(ge=3, le=30)] = 6,
        wall_density: Annotated[float, Field(ge=0.0, le=0.8)] = 0.30,
        seed: int = 0,
        min_path: Annotated[int, Field(ge=1)] | None = None,
        max_path: Annotated[int, Field(ge=1)] | None = None,
        start: Literal["top-left", "top-right", "bottom-left", "bottom-right", "random"] = "top-left",
        goal: Literal["any", "bottom-right"] = "bottom-right",
        maze: list[str] | None = None,
        views: list[list[str]] | None = None,
        max_votes: Annotated[int, Field(ge=1, le=100_000)] = 1000,
        seats: Annotated[int, Field(ge=2, le=MAX_SEATS)] = 2,
        overlap: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0,
    ) -> CreatedGame:
        """Coordinator: start a game from generation parameters, or from explicit `maze` rows (and `views`).

        `seats` (pair mode): 2 plays a pair (A, B), 3 to 6 a team (A, B, C, ...); the maze is split into one view
        per seat, each cell other than start and goal shown to exactly one seat, or to every seat with
        probability `overlap`. Explicit `views` give one view per seat.
        """
        with _tool_boundary():
            registry.check_coordinator(_bearer(ctx))
            if maze is None:
                params = MazeParams(size=size, wall_density=wall_density, seed=seed, min_path=min_path,
                                    max_path=max_path, start=start, goal=goal)
                true_maze = generate_maze(params)
            else:
                true_maze = Maze.parse(maze)
            if true_maze.optimal_length is None:
                raise ToolError("the maze has no route from @ to *")
            if mode == "solo" and seats != 2:
                raise ToolError("a solo game has one seat, which sees both views; `seats` is for pair mode")
            if views is not None and overlap:
                raise ToolError("`overlap` shapes a generated split; give it or explicit `views`, not both")
            if views is not None:
                split = check_views(true_maze, views)
            else:
                split = split_views(true_maze, seed, parts=seats, overlap=overlap)
            if len(split) != seats:
                raise ToolError(f"give exactly {seats} views, one per seat, got {len(split)}")
            return registry.create(true_maze, split, mode, feedback, max_votes)

    @server.tool(annotations=READ_ONLY)
    async def get_game(game_id: str, ctx: Context) -> GameRecord:
        """Coordinator: the full record of a game: status, moves, votes, scores, the maze and its views."""
        with _tool_boundary():
            registry.check_coordinator(_bearer(ctx))
            return registry.get(game_id).record()

    @server.tool()
    async def end_game(game_id: str, reason: str, ctx: Context) -> GameRecord:
        """Coordinator: stop a game where it stands (a finished game keeps its outcome)."""
        with _tool_boundary():
            registry.check_coordinator(_bearer(ctx))
            game = registry.get(game_id)
            game.end(reason)
            return game.record()

    @server.tool()
    async def grade_route(game_id: str, route: list[str], ctx: Context) -> GameRecord:
        """Coordinator, paper mode: score a grader's route under every convention, keeping the most favourable.

        Each entry is a direction (`up`, `d`, `north`...) or a cell: `2,1`, `(2, 1)`, `[2, 1]`, `B1`, `1B`,
        `B,C` (letter_letter) or `r2c1`. A cell named again right after itself counts once.
        """
        with _tool_boundary():
            registry.check_coordinator(_bearer(ctx))
            game = registry.get(game_id)
            game.grade(route)
            return game.record()

    @server.tool(annotations=READ_ONLY)
    async def get_view(ctx: Context) -> SeatView:
        """Seat: your own map (the seat token decides game and seat)."""
        with _tool_boundary():
            game, seat = registry.for_token(_bearer(ctx))
            return game.view(seat)

    @server.tool()
    async def propose_move(direction: str, ctx: Context) -> VoteResult:
        """Seat: vote for a move; it executes once every seat's pending vote names the same direction."""
        with _tool_boundary():
            game, seat = registry.for_token(_bearer(ctx))
            return game.vote(seat, Direction.parse(direction))

    @server.tool(annotations=READ_ONLY)
    async def game_status(ctx: Context) -> SeatStatus:
        """Seat: the game's status, moves made, and whether another seat has a pending vote (teams: which)."""
        with _tool_boundary():
            game, seat = registry.for_token(_bearer(ctx))
            return game.seat_status(seat)

    return server


def _allowed_hosts(public_url: str | None) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback names, plus the host (and origin) of the public URL."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if public_url:
        parts = urlsplit(public_url)
        host = parts.hostname or ""
        hosts += [host, f"{host}:*"]
        origins += [f"{parts.scheme}://{host}", f"{parts.scheme}://{host}:*"]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": "collabgap-referee"})


def create_referee_app(settings: RefereeSettings) -> Starlette:
    """The referee's ASGI app: MCP at `/mcp`, liveness at `/healthz`, readiness at `/readyz`.

    Both answer once the lifespan has started, i.e. once the MCP session manager runs.
    """
    server = build_referee(GameRegistry(settings.coordinator_token.get_secret_value(), max_games=settings.max_games))
    mcp_app = server.streamable_http_app(transport_security=_allowed_hosts(settings.public_url))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return Starlette(routes=[Route("/healthz", _health), Route("/readyz", _health), Mount("/", app=mcp_app)],
                     lifespan=lifespan)
