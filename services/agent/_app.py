"""The agent service's ASGI app: agent card, JSON-RPC and HTTP+JSON interfaces over one `SeatExecutor`."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from a2a.server.agent_execution import AgentExecutor
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from mcp.server.transport_security import RequestBodyLimitMiddleware
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    SimpleUser,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from collabgap.protocol import REFEREE_EXTENSION, SEAT_SKILL

from ._card_route import card_routes
from ._errors import PlayerSpecError
from ._executor import SeatExecutor, about_text
from ._player_spec import HUMAN_PLAYER, canonical_player, player_forms
from ._players import PLAYERS, LLMPlayer, PlayerFactory, load_system_prompt
from ._tck import FIXTURE_PLAYER, TckFixtureExecutor
from ._vendors import EndpointClient, VendorSpec, open_vendor

JSONRPC_PATH = "/a2a/jsonrpc/"
REST_PATH = "/a2a/rest"
SKILL_ID = SEAT_SKILL
MAX_BODY_BYTES = 1 << 20
"""The default cap on a request body: a seat message is a few kilobytes."""


class AgentSettings(BaseModel):
    """How an agent service is served; validated once, at the edge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    player: str
    """The player spec: `scripted:<name>`, `openai:<model>` or `anthropic:<model>` (or `openai/<model>`,
    `anthropic/<model>`), kept in its `kind:name` form; `fixture:tck` serves the A2A TCK's deterministic scenarios
    instead of a player (docs/a2a-tck.md). An unknown spec raises PlayerSpecError, listing the accepted forms."""
    vendor: VendorSpec | None = None
    """How an LLM player reaches its model; built from the spec when omitted."""
    system_prompt: Path | None = None
    """A replacement for the packaged system prompt of LLM players."""
    referee_direct: bool = False
    """LLM players only: vote by calling the referee's seat tools; the card declares the referee extension."""
    public_url: str | None = None
    """The base URL the agent card advertises (where clients reach this service); None: the address it is served
    at (`collabgap.services._serve.serve_settings` fills it in)."""
    token: SecretStr | None = None
    """When set, every A2A call needs `Authorization: Bearer <token>`; the card stays public."""
    max_contexts: int = Field(4096, ge=1)
    """Games remembered at once; the least recently used is forgotten first."""
    context_idle_s: float = Field(3600.0, gt=0)
    """A game no message has reached for this long is forgotten (its coordinator is gone without ending it)."""
    max_body: int = Field(MAX_BODY_BYTES, ge=1)
    """Bytes one request body may hold; a larger one gets 413 before it is read whole, declared or streamed."""

    @field_validator("player")
    @classmethod
    def _known_player(cls, spec: str) -> str:
        return canonical_player(spec, tck_fixture=True, human=True)  # PlayerSpecError passes through pydantic as it is


def resolve_player(settings: AgentSettings) -> tuple[PlayerFactory, EndpointClient | None]:
    """The factory the player spec names, and the vendor endpoint to close when the service stops.

    Raises:
        PlayerSpecError: the spec names no known player.
    """
    kind, _, name = settings.player.partition(":")
    if kind == HUMAN_PLAYER:
        raise PlayerSpecError("a person takes a seat through `collabgap human serve` (docs/human.md)")
    if settings.referee_direct and kind not in ("openai", "anthropic"):
        raise PlayerSpecError(f"only LLM players vote at the referee themselves; {settings.player!r} cannot be "
                              "referee-direct")
    if kind == "scripted" and name in PLAYERS:
        return PLAYERS[name], None
    if kind in ("openai", "anthropic"):
        spec = settings.vendor or VendorSpec(kind=kind, model=name)
        if (spec.kind, spec.model) != (kind, name):
            raise PlayerSpecError(f"player {settings.player!r} does not match its vendor {spec.kind}:{spec.model}")
        vendor, endpoint = open_vendor(spec)
        system_prompt = load_system_prompt(settings.system_prompt)
        return (lambda: LLMPlayer(vendor, system_prompt)), endpoint
    raise PlayerSpecError(f"{settings.player!r} serves no player; accepted: {player_forms()}")


def build_card(settings: AgentSettings) -> AgentCard:
    """The agent card. A referee-direct player declares the referee extension, so the coordinator hands it the
    referee's URL and its seat token and lets it vote at the referee itself."""
    if settings.public_url is None:
        raise ValueError("an agent card needs the public URL; serving fills in the address it listens at")
    base = settings.public_url.rstrip("/")
    voting = ("Votes by calling the referee's propose_move tool when a game hands it a seat token, else with "
              "'MOVE: <direction>' lines." if settings.referee_direct else "Votes with 'MOVE: <direction>' lines.")
    extensions = [AgentExtension(
        uri=REFEREE_EXTENSION, required=False,
        description="Calls the referee's MCP seat tools (get_view, propose_move, game_status) itself, with the "
                    "seat token from the start message as bearer token; its MOVE: lines are not votes.",
    )] if settings.referee_direct else []
    card = AgentCard(
        name=f"collabgap {settings.player}",
        description=f"A collabgap maze seat played by {settings.player}. {voting}",
        version="1",
        supported_interfaces=[
            AgentInterface(protocol_binding="JSONRPC", protocol_version="1.0", url=f"{base}{JSONRPC_PATH}"),
            AgentInterface(protocol_binding="HTTP+JSON", protocol_version="1.0", url=f"{base}{REST_PATH}"),
            # AgentBeats-era clients speak A2A 0.3 JSON-RPC; the same endpoint answers them.
            AgentInterface(protocol_binding="JSONRPC", protocol_version="0.3", url=f"{base}{JSONRPC_PATH}"),
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False, extensions=extensions),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(
            id=SKILL_ID, name="Maze seat",
            description="Plays one seat of a two-player collabgap maze: talks with its partner, votes on moves.",
            tags=["collabgap", "maze", "collaboration"],
            examples=["Here is my map ... MOVE: down"],
        )],
    )
    if settings.token is not None:
        card.security_schemes["bearer"].CopyFrom(
            SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="Bearer"))
        )
        card.security_requirements.append(SecurityRequirement(schemes={"bearer": StringList(list=[])}))
    return card


@dataclass(frozen=True)
class Pages:
    """A web interface the agent's app serves beside the A2A routes, behind the same token (the human seat's)."""

    routes: Sequence[BaseRoute]
    open_paths: tuple[str, ...] = ()
    """Paths reachable without the token (where a browser hands it over)."""
    token_cookie: str | None = None
    """The cookie in which a browser carries the token, instead of an `Authorization` header."""
    refused: Callable[[HTTPConnection, Exception], Response] | None = None
    """The answer to a request without the token; default: 401 JSON."""


class _BearerBackend(AuthenticationBackend):
    def __init__(self, token: SecretStr, open_paths: tuple[str, ...] = (), cookie: str | None = None) -> None:
        self._token = token.get_secret_value().encode()
        self._expected = b"Bearer " + self._token
        self._open = ("/healthz", "/readyz", *open_paths)
        self._cookie = cookie

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        if conn.url.path.startswith("/.well-known/") or conn.url.path in self._open:
            return None
        if hmac.compare_digest(conn.headers.get("authorization", "").encode(), self._expected):
            return AuthCredentials(["authenticated"]), SimpleUser("coordinator")
        if self._cookie is not None and hmac.compare_digest(conn.cookies.get(self._cookie, "").encode(), self._token):
            return AuthCredentials(["authenticated"]), SimpleUser("browser")
        raise AuthenticationError("missing or wrong bearer token")


def _unauthorized(conn: HTTPConnection, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": "collabgap-agent"})


def create_agent_app(settings: AgentSettings, *, executor: AgentExecutor | None = None,
                     pages: Pages | None = None) -> Starlette:
    """The agent service: card at the well-known path, JSON-RPC at `/a2a/jsonrpc/`, HTTP+JSON at `/a2a/rest`.

    `executor` replaces the one the player spec makes (the human seat brings its own), and `pages` adds a web
    interface behind the same token.
    """
    card = build_card(settings)
    endpoint: EndpointClient | None
    if executor is not None:
        endpoint = None
    elif settings.player == FIXTURE_PLAYER:  # conformance runs only: the same card and routes, no player
        executor, endpoint = TckFixtureExecutor(), None
    else:
        factory, endpoint = resolve_player(settings)
        executor = SeatExecutor(factory, about=about_text(settings.player), max_contexts=settings.max_contexts,
                                idle_s=settings.context_idle_s)
    handler = DefaultRequestHandler(
        agent_executor=executor,
        task_store=InMemoryTaskStore(),
        agent_card=card,
        validate_input_modes=True,  # a part whose stated media type the card does not declare: -32005
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await handler.aclose()
        if endpoint is not None:
            await endpoint.aclose()

    middleware = []
    if settings.token is not None:
        backend = _BearerBackend(settings.token, pages.open_paths if pages else (),
                                 pages.token_cookie if pages else None)
        middleware.append(Middleware(AuthenticationMiddleware, backend=backend,
                                     on_error=pages.refused if pages and pages.refused else _unauthorized))
    # The MCP SDK's cap, the one the referee runs behind: Content-Length first, then a count of what streams in.
    middleware.append(Middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body))
    return Starlette(
        routes=[
            Route("/healthz", _health),
            Route("/readyz", _health),
            *card_routes(card, cache_control="public, max-age=60"),
            *(pages.routes if pages else ()),  # before the REST routes, whose tenant mount takes any first segment
            *create_jsonrpc_routes(handler, rpc_url=JSONRPC_PATH, enable_v0_3_compat=True),
            *create_rest_routes(handler, path_prefix=REST_PATH),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
