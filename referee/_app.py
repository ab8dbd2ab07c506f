"""The referee as an MCP server over streamable HTTP (DESIGN §3.1): thin tool adapters over `GameRegistry`."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pydantic
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.fields import FieldInfo
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from collabgap.protocol import (
    CREATE_GAME,
    END_GAME,
    GAME_STATUS,
    GET_GAME,
    GET_VIEW,
    GRADE_ROUTE,
    PROPOSE_MOVE,
    CollabgapError,
    CreatedGame,
    CreateGameArgs,
    Direction,
    EndGameArgs,
    GameArgs,
    GameRecord,
    GradeRouteArgs,
    Maze,
    ProposeMoveArgs,
    RefereeTool,
    SeatArgs,
    SeatStatus,
    SeatView,
    VoteResult,
    check_views,
    generate_maze,
    split_views,
)

from ._games import GameRegistry

READ_ONLY = ToolAnnotations(read_only_hint=True)
ArgsT = TypeVar("ArgsT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


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


def _parameter(name: str, field: FieldInfo) -> inspect.Parameter:
    """A tool function parameter that carries the field's type, constraints, description and default."""
    # The field itself as the default: the SDK hands it to pydantic, which reads its default and constraints.
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=field.annotation, default=field)


def _serve(server: MCPServer, tool: RefereeTool[ArgsT, ResultT],
           handler: Callable[[ArgsT, str | None], ResultT], annotations: ToolAnnotations | None = None) -> None:
    """Serve `tool` with `handler`, which takes its validated arguments and the caller's bearer token.

    The SDK builds a tool's input schema from its function's signature, so the function presents the argument
    model's fields as its parameters; the model itself then validates them as a whole (cross-field rules
    included) inside the tool boundary.
    """

    async def run(ctx: Context, **arguments: Any) -> ResultT:
        with _tool_boundary():
            return handler(tool.arguments.model_validate(arguments), _bearer(ctx))

    fields = [_parameter(name, field) for name, field in tool.arguments.model_fields.items()]
    context = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    run.__name__ = tool.name  # names the published input schema
    signature = inspect.Signature([*fields, context], return_annotation=tool.result)
    run.__signature__ = signature  # type: ignore[attr-defined]
    server.tool(name=tool.name, description=inspect.getdoc(handler), annotations=annotations)(run)


def build_referee(registry: GameRegistry) -> MCPServer:
    """The MCP server with the coordinator tools and the seat tools; callable in memory or over HTTP."""
    server = MCPServer("collabgap-referee", version="1", instructions="Owns the true mazes of collabgap games.")

    def create_game(args: CreateGameArgs, token: str | None) -> CreatedGame:
        """Coordinator: start a game from generation parameters, or from explicit `maze` rows (and `views`).

        `seats` (pair mode): 2 plays a pair (A, B), 3 to 6 a team (A, B, C, ...); the maze is split into one view
        per seat, each cell other than start and goal shown to exactly one seat, or to every seat with
        probability `overlap`. Explicit `views` give one view per seat.
        """
        registry.check_coordinator(token)
        true_maze = generate_maze(args.maze_params()) if args.maze is None else Maze.parse(args.maze)
        if true_maze.optimal_length is None:
            raise ToolError("the maze has no route from @ to *")
        if args.mode == "solo" and args.seats != 2:
            raise ToolError("a solo game has one seat, which sees both views; `seats` is for pair mode")
        if args.views is not None and args.overlap:
            raise ToolError("`overlap` shapes a generated split; give it or explicit `views`, not both")
        if args.views is not None:
            split = check_views(true_maze, args.views)
        else:
            split = split_views(true_maze, args.seed, parts=args.seats, overlap=args.overlap)
        if len(split) != args.seats:
            raise ToolError(f"give exactly {args.seats} views, one per seat, got {len(split)}")
        return registry.create(true_maze, split, args.mode, args.feedback, args.max_votes)

    def get_game(args: GameArgs, token: str | None) -> GameRecord:
        """Coordinator: the full record of a game: status, moves, votes, scores, the maze and its views."""
        registry.check_coordinator(token)
        return registry.get(args.game_id).record()

    def end_game(args: EndGameArgs, token: str | None) -> GameRecord:
        """Coordinator: stop a game where it stands (a finished game keeps its outcome)."""
        registry.check_coordinator(token)
        game = registry.get(args.game_id)
        game.end(args.reason)
        return game.record()

    def grade_route(args: GradeRouteArgs, token: str | None) -> GameRecord:
        """Coordinator, paper mode: score a grader's route under every convention, keeping the most favourable.

        Each entry is a direction (`up`, `d`, `north`...) or a cell: `2,1`, `(2, 1)`, `[2, 1]`, `B1`, `1B`,
        `B,C` (letter_letter) or `r2c1`. A cell named again right after itself counts once.
        """
        registry.check_coordinator(token)
        game = registry.get(args.game_id)
        game.grade(args.route)
        return game.record()

    def get_view(args: SeatArgs, token: str | None) -> SeatView:
        """Seat: your own map (the seat token decides game and seat)."""
        game, seat = registry.for_token(token)
        return game.view(seat)

    def propose_move(args: ProposeMoveArgs, token: str | None) -> VoteResult:
        """Seat: vote for a move; it executes once every seat's pending vote names the same direction."""
        game, seat = registry.for_token(token)
        return game.vote(seat, Direction.parse(args.direction))

    def game_status(args: SeatArgs, token: str | None) -> SeatStatus:
        """Seat: the game's status, moves made, and whether another seat has a pending vote (teams: which)."""
        game, seat = registry.for_token(token)
        return game.seat_status(seat)

    _serve(server, CREATE_GAME, create_game, ToolAnnotations(destructive_hint=False))
    _serve(server, GET_GAME, get_game, READ_ONLY)
    _serve(server, END_GAME, end_game)
    _serve(server, GRADE_ROUTE, grade_route)
    _serve(server, GET_VIEW, get_view, READ_ONLY)
    _serve(server, PROPOSE_MOVE, propose_move)
    _serve(server, GAME_STATUS, game_status, READ_ONLY)
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
