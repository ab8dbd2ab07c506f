"""The coordinator's side of the referee's MCP tools: typed calls over the shared referee session, and every
failure of the referee raised as the coordinator's `RefereeFault` (a platform fault, never an agent's)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx2

from collabgap.protocol import (
    CREATE_GAME,
    END_GAME,
    GET_GAME,
    GRADE_ROUTE,
    PROPOSE_MOVE,
    CreatedGame,
    CreateGameArgs,
    Direction,
    EndGameArgs,
    GameArgs,
    GameRecord,
    GradeRouteArgs,
    ProposeMoveArgs,
    VoteResult,
)
from collabgap.services.shared import RefereeSession, RefereeUnavailableError, open_referee

from .._errors import RefereeFault
from ._http import CONNECT_RETRIES, pool_size, tls_context


@contextlib.contextmanager
def _platform_fault() -> Iterator[None]:
    """The seam: the referee's failures become the coordinator's platform fault (kind `referee_error`)."""
    try:
        yield
    except RefereeUnavailableError as exc:
        raise RefereeFault(str(exc)) from exc


@contextlib.asynccontextmanager
async def _opened(url: str, token: str, timeout: float,
                  transport: httpx2.AsyncHTTPTransport) -> AsyncIterator[RefereeSession]:
    """A referee session whose opening, and only that, fails as `RefereeFault`."""
    async with contextlib.AsyncExitStack() as stack:
        with _platform_fault():
            session = await stack.enter_async_context(open_referee(url, token, timeout=timeout, transport=transport))
        yield session


class SeatChannel:
    """Votes on behalf of one seat, with that seat's token (for agents that vote with `MOVE:` lines)."""

    def __init__(self, session: RefereeSession) -> None:
        self._session = session

    async def propose_move(self, direction: Direction) -> VoteResult:
        with _platform_fault():
            return await self._session.call(PROPOSE_MOVE, ProposeMoveArgs(direction=direction.value))


class RefereeClient:
    """Coordinator tools over one MCP session; `seat()` opens a seat's own session. Every session shares one
    pool of HTTP connections, and each sends its own token. Every call raises `RefereeFault` when the referee
    fails or refuses it."""

    def __init__(self, url: str, session: RefereeSession, transport: httpx2.AsyncHTTPTransport,
                 timeout: float) -> None:
        self.url = url
        self._session = session
        self._transport = transport
        self._timeout = timeout

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, token: str, *, timeout: float = 30.0,
                      connections: int | None = None) -> AsyncIterator[RefereeClient]:
        """Open the coordinator's connection to the referee at `url` (ending in `/mcp`), with a pool of
        `connections` (the games in flight; None: unbounded) for it and every seat session."""
        transport = httpx2.AsyncHTTPTransport(verify=tls_context(), limits=httpx2.Limits(**pool_size(connections)),
                                              retries=CONNECT_RETRIES)
        try:
            async with _opened(url, token, timeout, transport) as session:
                yield cls(url, session, transport, timeout)
        finally:
            await transport.aclose()

    @property
    def lost(self) -> bool:
        """The connection failed after it opened: every call raises `RefereeFault`; open a new one."""
        return self._session.lost

    async def create_game(self, arguments: CreateGameArgs) -> CreatedGame:
        with _platform_fault():
            return await self._session.call(CREATE_GAME, arguments)

    async def get_game(self, game_id: str) -> GameRecord:
        with _platform_fault():
            return await self._session.call(GET_GAME, GameArgs(game_id=game_id))

    async def grade_route(self, game_id: str, route: list[str]) -> GameRecord:
        with _platform_fault():
            return await self._session.call(GRADE_ROUTE, GradeRouteArgs(game_id=game_id, route=route))

    async def end_game(self, game_id: str, reason: str) -> GameRecord:
        with _platform_fault():
            return await self._session.call(END_GAME, EndGameArgs(game_id=game_id, reason=reason))

    @contextlib.asynccontextmanager
    async def seat(self, token: str) -> AsyncIterator[SeatChannel]:
        """A session that votes with one seat's `token`, for one game; it opens no connection of its own."""
        async with _opened(self.url, token, self._timeout, self._transport) as session:
            yield SeatChannel(session)
