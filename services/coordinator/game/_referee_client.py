"""The coordinator's side of the referee's MCP tools: typed results, errors translated at the seam."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import anyio
import httpx2
import pydantic
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolRequest, CallToolRequestParams, CallToolResult
from pydantic import BaseModel

from collabgap.protocol import CreatedGame, Direction, GameRecord, VoteResult

from .._errors import RefereeUnavailableError
from ._http import CONNECT_RETRIES, describe, pool_size, tls_context

ResultT = TypeVar("ResultT", bound=BaseModel)
PROTOCOL = "2026-07-28"


class RefereeToolError(RefereeUnavailableError):
    """The referee refused a call (a tool error); its words are the message."""


class _Session:
    """One MCP client holding one bearer token, open in a task of its own (see `_session`).

    Calls run in that task's group. When the referee fails, every waiting call and every later one raises
    `RefereeUnavailableError`, and the caller's own scope is never cancelled.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._calls: asyncio.Queue[tuple[str, dict[str, Any], asyncio.Future[CallToolResult]]] = asyncio.Queue()
        self._waiting: set[asyncio.Future[CallToolResult]] = set()
        self._lost: str | None = None

    @property
    def lost(self) -> bool:
        return self._lost is not None

    async def call(self, tool: str, arguments: dict[str, Any], result: type[ResultT]) -> ResultT:
        if self._lost is not None:
            raise RefereeUnavailableError(f"referee call {tool} failed: {self._lost}")
        answer: asyncio.Future[CallToolResult] = asyncio.get_running_loop().create_future()
        self._waiting.add(answer)
        try:
            await self._calls.put((tool, arguments, answer))
            outcome = await answer
        finally:
            self._waiting.discard(answer)
        if outcome.is_error:
            text = " ".join(getattr(part, "text", "") for part in outcome.content)
            raise RefereeToolError(f"referee refused {tool}: {text}")
        try:
            return result.model_validate(outcome.structured_content)
        except pydantic.ValidationError as exc:
            raise RefereeUnavailableError(f"referee answered {tool} outside its contract: {exc}") from exc

    async def serve(self, client: Client) -> None:
        """Run the calls as they come, side by side (a run's episodes share the coordinator's session)."""
        async with anyio.create_task_group() as group:
            while True:
                tool, arguments, answer = await self._calls.get()
                group.start_soon(self._run, client, tool, arguments, answer)

    @staticmethod
    async def _run(client: Client, tool: str, arguments: dict[str, Any],
                   answer: asyncio.Future[CallToolResult]) -> None:
        # The session's own request, not `client.call_tool`: that one checks every result against the tool's
        # JSON Schema (listing the tools first, once per session), where `call` validates it with our model.
        request = CallToolRequest(params=CallToolRequestParams(name=tool, arguments=arguments))
        try:
            outcome = await client.session.send_request(request, CallToolResult)
        except (*_LOST, pydantic.ValidationError) as exc:
            if not answer.done():
                answer.set_exception(RefereeUnavailableError(f"referee call {tool} failed: {describe(exc)}"))
            return
        if not answer.done():  # done: its caller gave up waiting
            answer.set_result(outcome)

    def lose(self, reason: str) -> None:
        """The connection is gone: fail the calls still waiting, and every later one."""
        self._lost = reason
        for answer in self._waiting:
            if not answer.done():
                answer.set_exception(RefereeUnavailableError(f"referee call failed: {reason}"))


_LOST = (MCPError, httpx2.HTTPError, OSError, anyio.ClosedResourceError, anyio.BrokenResourceError)
"""How the MCP client says the referee cannot be had: a protocol error, an HTTP failure, a closed stream."""


async def _hold(session: _Session, url: str, http: httpx2.AsyncClient, timeout: float,
                opened: asyncio.Future[None]) -> None:
    """Hold the MCP client open and serve `session`'s calls until cancelled or the connection fails."""
    lost = "the connection to the referee closed"
    try:
        async with Client(streamable_http_client(url, http_client=http), mode=PROTOCOL,
                          read_timeout_seconds=timeout) as client:
            if not opened.done():  # done: the opener gave up waiting
                opened.set_result(None)
            await session.serve(client)
    except* _LOST as group:
        lost = f"cannot reach the referee at {url}: {describe(group.exceptions[0])}"
    finally:
        session.lose(lost)
        if not opened.done():
            opened.set_exception(RefereeUnavailableError(lost))


@contextlib.asynccontextmanager
async def _session(url: str, transport: httpx2.AsyncHTTPTransport, token: str,
                   timeout: float) -> AsyncIterator[_Session]:
    """Open a session whose MCP client lives in a task of its own and sends `token` on every request, over the
    shared `transport` (its pool and TLS context; the caller closes it).

    The SDK's transport fails its whole task group when a request cannot be posted (the referee died), which
    would cancel the scope that holds the client open: the whole run, for the coordinator's session. Held apart,
    that failure reaches only the calls, as `RefereeUnavailableError`.

    Raises:
        RefereeUnavailableError: the referee cannot be reached, or refused the token.
    """
    session = _Session(url)
    # Never entered nor closed: closing it would close the shared transport. It only carries the token.
    http = httpx2.AsyncClient(transport=transport, headers={"Authorization": f"Bearer {token}"},
                              timeout=httpx2.Timeout(timeout))
    opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    host = asyncio.create_task(_hold(session, url, http, timeout, opened))
    try:
        await opened
        yield session
    finally:
        host.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await host


class SeatChannel:
    """Votes on behalf of one seat, with that seat's token (for agents that vote with `MOVE:` lines)."""

    def __init__(self, session: _Session) -> None:
        self._session = session

    async def propose_move(self, direction: Direction) -> VoteResult:
        return await self._session.call("propose_move", {"direction": direction.value}, VoteResult)


class RefereeClient:
    """Coordinator tools over one MCP session; `seat()` opens a seat's own session. Every session shares one
    pool of HTTP connections, and each sends its own token."""

    def __init__(self, url: str, session: _Session, transport: httpx2.AsyncHTTPTransport, timeout: float) -> None:
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
            async with _session(url, transport, token, timeout) as session:
                yield cls(url, session, transport, timeout)
        finally:
            await transport.aclose()

    @property
    def lost(self) -> bool:
        """The connection failed after it opened: every call raises `RefereeUnavailableError`; open a new one."""
        return self._session.lost

    async def create_game(self, **arguments: Any) -> CreatedGame:
        return await self._session.call("create_game", arguments, CreatedGame)

    async def get_game(self, game_id: str) -> GameRecord:
        return await self._session.call("get_game", {"game_id": game_id}, GameRecord)

    async def grade_route(self, game_id: str, route: list[str]) -> GameRecord:
        return await self._session.call("grade_route", {"game_id": game_id, "route": route}, GameRecord)

    async def end_game(self, game_id: str, reason: str) -> GameRecord:
        return await self._session.call("end_game", {"game_id": game_id, "reason": reason}, GameRecord)

    @contextlib.asynccontextmanager
    async def seat(self, token: str) -> AsyncIterator[SeatChannel]:
        """A session that votes with one seat's `token`, for one game; it opens no connection of its own."""
        async with _session(self.url, self._transport, token, self._timeout) as session:
            yield SeatChannel(session)
