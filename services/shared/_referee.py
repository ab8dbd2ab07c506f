"""The one MCP client to the referee, for the coordinator and for referee-direct agents: a session that sends one
bearer token, calls the tools of `collabgap.protocol` with their argument models, parses their results, and turns
every way the referee can fail into `RefereeUnavailableError`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import anyio
import httpx2
import pydantic
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolRequest, CallToolRequestParams, CallToolResult

from collabgap.protocol import CollabgapError, RefereeTool, ToolName

from ._describe import describe

ArgsT = TypeVar("ArgsT", bound=pydantic.BaseModel)
ResultT = TypeVar("ResultT", bound=pydantic.BaseModel)
PROTOCOL = "2026-07-28"
"""In this MCP mode opening a client costs no handshake."""
_LOST = (MCPError, httpx2.HTTPError, OSError, anyio.ClosedResourceError, anyio.BrokenResourceError)
"""How the MCP client says the referee cannot be had: a protocol error, an HTTP failure, a closed stream."""
_Call = tuple[ToolName, pydantic.BaseModel, "asyncio.Future[CallToolResult]"]


class RefereeUnavailableError(CollabgapError):
    """The referee could not be reached, broke its contract, or refused a call: never a player's fault."""


class RefereeToolError(RefereeUnavailableError):
    """The referee refused a call (a tool error); its words are the message."""


class RefereeSession:
    """One MCP client holding one bearer token, open in a task of its own (see `open_referee`).

    Calls run side by side in that task's group (a run's episodes share the coordinator's session). When the
    referee fails, every waiting call and every later one raises `RefereeUnavailableError`, and the caller's own
    scope is never cancelled.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._calls: asyncio.Queue[_Call] = asyncio.Queue()
        self._waiting: set[asyncio.Future[CallToolResult]] = set()
        self._lost: str | None = None

    @property
    def lost(self) -> bool:
        """The connection failed after it opened: every call raises `RefereeUnavailableError`."""
        return self._lost is not None

    async def call(self, tool: RefereeTool[ArgsT, ResultT], arguments: ArgsT) -> ResultT:
        """The tool's result, as its result model.

        Raises:
            RefereeToolError: the referee refused the call.
            RefereeUnavailableError: the referee failed, or answered outside its contract.
        """
        outcome = await self.send(tool.name, arguments)
        if outcome.is_error:
            text = " ".join(getattr(part, "text", "") for part in outcome.content)
            raise RefereeToolError(f"referee refused {tool.name}: {text}")
        try:
            return tool.result.model_validate(outcome.structured_content)
        except pydantic.ValidationError as exc:
            raise RefereeUnavailableError(f"referee answered {tool.name} outside its contract: {exc}") from exc

    async def send(self, name: ToolName, arguments: pydantic.BaseModel) -> CallToolResult:
        """The referee's answer as it came, a refusal (`is_error`) included.

        Raises:
            RefereeUnavailableError: the referee could not be reached, or broke the protocol.
        """
        if self._lost is not None:
            raise RefereeUnavailableError(f"referee call {name} failed: {self._lost}")
        answer: asyncio.Future[CallToolResult] = asyncio.get_running_loop().create_future()
        self._waiting.add(answer)
        try:
            await self._calls.put((name, arguments, answer))
            return await answer
        finally:
            self._waiting.discard(answer)

    async def serve(self, client: Client) -> None:
        """Run the calls as they come, side by side."""
        async with anyio.create_task_group() as group:
            while True:
                group.start_soon(self._run, client, *await self._calls.get())

    @staticmethod
    async def _run(client: Client, name: ToolName, arguments: pydantic.BaseModel,
                   answer: asyncio.Future[CallToolResult]) -> None:
        # The session's own request, not `client.call_tool`: that one checks every result against the tool's
        # JSON Schema (listing the tools first, once per session), where `call` validates it with our model.
        request = CallToolRequest(params=CallToolRequestParams(name=name, arguments=arguments.model_dump()))
        try:
            outcome = await client.session.send_request(request, CallToolResult)
        except (*_LOST, pydantic.ValidationError) as exc:
            if not answer.done():
                answer.set_exception(RefereeUnavailableError(f"referee call {name} failed: {describe(exc)}"))
            return
        if not answer.done():  # done: its caller gave up waiting
            answer.set_result(outcome)

    def lose(self, reason: str) -> None:
        """The connection is gone: fail the calls still waiting, and every later one."""
        self._lost = reason
        for answer in self._waiting:
            if not answer.done():
                answer.set_exception(RefereeUnavailableError(f"referee call failed: {reason}"))


async def _hold(session: RefereeSession, http: httpx2.AsyncClient, timeout: float,
                opened: asyncio.Future[None]) -> None:
    """Hold the MCP client open and serve `session`'s calls until cancelled or the connection fails."""
    lost = "the connection to the referee closed"
    try:
        async with Client(streamable_http_client(session.url, http_client=http), mode=PROTOCOL,
                          read_timeout_seconds=timeout) as client:
            if not opened.done():  # done: the opener gave up waiting
                opened.set_result(None)
            await session.serve(client)
    except* _LOST as group:
        lost = f"cannot reach the referee at {session.url}: {describe(group.exceptions[0])}"
    finally:
        session.lose(lost)
        if not opened.done():
            opened.set_exception(RefereeUnavailableError(lost))


@contextlib.asynccontextmanager
async def open_referee(url: str, token: str, *, timeout: float = 30.0,
                       transport: httpx2.AsyncHTTPTransport | None = None) -> AsyncIterator[RefereeSession]:
    """A session with the referee at `url` (ending in `/mcp`) whose MCP client lives in a task of its own and
    sends `token` on every request, over `transport` (its pool and TLS context; the caller closes it) or, when
    None, a transport of its own.

    The SDK's transport fails its whole task group when a request cannot be posted (the referee died), which
    would cancel the scope that holds the client open: a whole run, for the coordinator's session. Held apart,
    that failure reaches only the calls, as `RefereeUnavailableError`. An mcp `Client` must also be entered and
    exited in one task, which its own task guarantees whatever task the caller answers in.

    Raises:
        RefereeUnavailableError: the referee cannot be reached, or refused the token.
    """
    own = transport is None
    shared = httpx2.AsyncHTTPTransport() if transport is None else transport
    session = RefereeSession(url)
    # Never entered nor closed: closing it would close the transport. It only carries the token.
    http = httpx2.AsyncClient(transport=shared, headers={"Authorization": f"Bearer {token}"},
                              timeout=httpx2.Timeout(timeout))
    opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    host = asyncio.create_task(_hold(session, http, timeout, opened))
    try:
        await opened
        yield session
    finally:
        host.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await host
        if own:
            await shared.aclose()
