"""The coordinator's side of the referee's MCP tools: typed results, errors translated at the seam."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import httpx2
import pydantic
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from pydantic import BaseModel

from protocol import CreatedGame, Direction, GameRecord, VoteResult

from ._errors import RefereeUnavailableError

ResultT = TypeVar("ResultT", bound=BaseModel)
PROTOCOL = "2026-07-28"


class RefereeToolError(RefereeUnavailableError):
    """The referee refused a call (a tool error); its words are the message."""


class _Session:
    """One MCP client holding one bearer token."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def call(self, tool: str, arguments: dict[str, Any], result: type[ResultT]) -> ResultT:
        try:
            outcome = await self._client.call_tool(tool, arguments)
        except (MCPError, httpx2.HTTPError, OSError) as exc:
            raise RefereeUnavailableError(f"referee call {tool} failed: {exc}") from exc
        if outcome.is_error:
            text = " ".join(getattr(part, "text", "") for part in outcome.content)
            raise RefereeToolError(f"referee refused {tool}: {text}")
        try:
            return result.model_validate(outcome.structured_content)
        except pydantic.ValidationError as exc:
            raise RefereeUnavailableError(f"referee answered {tool} outside its contract: {exc}") from exc


@contextlib.asynccontextmanager
async def _session(url: str, token: str, timeout: float) -> AsyncIterator[_Session]:
    headers = {"Authorization": f"Bearer {token}"}
    body_error: Exception | None = None
    try:
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(timeout)) as http:
            async with Client(streamable_http_client(url, http_client=http), mode=PROTOCOL,
                              read_timeout_seconds=timeout) as client:
                try:
                    yield _Session(client)
                except Exception as exc:  # noqa: BLE001 - re-raised below, outside the client's task group
                    body_error = exc
    except* (MCPError, httpx2.HTTPError, OSError) as group:
        raise RefereeUnavailableError(f"cannot reach the referee at {url}: {group.exceptions[0]}") from group
    if body_error is not None:
        # Raised here, the caller's own error arrives as itself rather than wrapped in an ExceptionGroup.
        raise body_error


class SeatChannel:
    """Votes on behalf of one seat, with that seat's token (for agents that vote with `MOVE:` lines)."""

    def __init__(self, session: _Session) -> None:
        self._session = session

    async def propose_move(self, direction: Direction) -> VoteResult:
        return await self._session.call("propose_move", {"direction": direction.value}, VoteResult)


class RefereeClient:
    """Coordinator tools over one MCP connection; `seat()` opens a seat's own connection."""

    def __init__(self, url: str, session: _Session, timeout: float) -> None:
        self.url = url
        self._session = session
        self._timeout = timeout

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, token: str, *, timeout: float = 30.0) -> AsyncIterator[RefereeClient]:
        """Open the coordinator's connection to the referee at `url` (ending in `/mcp`)."""
        async with _session(url, token, timeout) as session:
            yield cls(url, session, timeout)

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
        async with _session(self.url, token, self._timeout) as session:
            yield SeatChannel(session)
