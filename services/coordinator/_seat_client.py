"""The coordinator's side of the A2A seat conversation: one client per agent, replies checked at the seam."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pydantic
from a2a.client import (
    A2ACardResolver,
    A2AClientTimeoutError,
    Client,
    ClientConfig,
    ClientFactory,
)
from a2a.helpers import get_data_parts, new_data_part, new_text_part
from a2a.types import Message, Part, Role, SendMessageRequest, StreamResponse, TaskState
from a2a.utils.errors import A2AError, InternalError, VersionNotSupportedError
from google.protobuf.json_format import MessageToDict

from protocol import DATA_KEY, REFEREE_EXTENSION, SeatEnvelope, SeatMessage, Usage

from ._errors import (
    AgentError,
    AgentTimeoutError,
    AgentUnreachableError,
    AuthFailureError,
    InfrastructureError,
    ProtocolViolationError,
    VersionError,
)

logger = logging.getLogger(__name__)
MAX_REPLY_BYTES = 1 << 20
"""Hard cap on one HTTP response from an agent; a larger one is cut off and the game ends as an error."""
MAX_REPLY_CHARS = 20_000
"""Cap on the text of one reply; about five times a long LLM message."""
_DONE = {TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_INPUT_REQUIRED}


class _ReplyTooLarge(httpx.ReadError):
    """Raised inside the transport; translated into ProtocolViolationError at the seat boundary."""


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner, self._limit = inner, limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise _ReplyTooLarge(f"response exceeds {self._limit} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class _CappedTransport(httpx.AsyncBaseTransport):
    """Stops reading an agent's response once it passes `limit` bytes, so no agent can exhaust memory."""

    def __init__(self, limit: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CappedStream(response.stream, self._limit)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class SeatReply:
    """What an agent said, as the coordinator relays and records it."""

    text: str
    data_move: str | None
    """A vote given as a data part `{"move": ...}` instead of a `MOVE:` line."""
    latency_s: float
    usage: Usage | None = None
    """What the agent says the reply cost, from its metadata `collabgap.usage` (ignored when malformed)."""


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an A2A client error, when one caused it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx.HTTPStatusError):
            return seen.response.status_code
        seen = seen.__cause__ or seen.__context__
    match = re.search(r"HTTP Error (\d{3})", str(exc))
    return int(match.group(1)) if match else None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextlib.contextmanager
def seat_boundary(seat: str, url: str, timeout: float) -> Iterator[None]:
    """Turn one seat's transport and protocol failures into our own errors, naming the seat."""
    try:
        yield
    except InfrastructureError:
        raise
    except (TimeoutError, A2AClientTimeoutError, httpx.TimeoutException) as exc:
        raise AgentTimeoutError(f"seat {seat} ({url}): no reply within {timeout:g} s") from exc
    except Exception as exc:  # noqa: BLE001 - the seam: every failure of a foreign agent is recorded, never raised raw
        if _caused_by(exc, _ReplyTooLarge):
            raise ProtocolViolationError(f"seat {seat} ({url}): reply larger than {MAX_REPLY_BYTES} bytes") from exc
        if _caused_by(exc, httpx.TransportError):
            raise AgentUnreachableError(f"seat {seat} ({url}): {exc}") from exc
        if isinstance(exc, InternalError):
            raise AgentError(f"seat {seat} ({url}): the agent failed: {exc}") from exc
        if isinstance(exc, VersionNotSupportedError):
            raise VersionError(f"seat {seat} ({url}): the agent does not speak our A2A version: {exc}") from exc
        if _http_status(exc) in (401, 403):
            raise AuthFailureError(f"seat {seat} ({url}): credentials refused ({_http_status(exc)}); "
                                   "check the agent's token variable") from exc
        if isinstance(exc, A2AError):
            raise ProtocolViolationError(f"seat {seat} ({url}): {type(exc).__name__}: {exc}") from exc
        raise ProtocolViolationError(f"seat {seat} ({url}): unusable reply: {type(exc).__name__}: {exc}") from exc


def _usage(metadata: object) -> Usage | None:
    reported = MessageToDict(metadata).get(DATA_KEY, {}).get("usage")
    if reported is None:
        return None
    try:
        return Usage.model_validate(reported)
    except pydantic.ValidationError:
        return None  # usage is the agent's claim; a malformed claim costs the record nothing but the figure


def _reply_parts(event: StreamResponse, seat: str, context_id: str) -> tuple[list[Part], Usage | None]:
    kind = event.WhichOneof("payload")
    if kind == "message":
        message = event.message
        if message.context_id and message.context_id != context_id:
            raise ProtocolViolationError(f"seat {seat}: reply belongs to another conversation")
        return list(message.parts), _usage(message.metadata)
    if kind == "task":
        task = event.task
        if task.context_id and task.context_id != context_id:
            raise ProtocolViolationError(f"seat {seat}: reply belongs to another conversation")
        if task.status.state not in _DONE:
            detail = " ".join(p.text for p in task.status.message.parts if p.HasField("text"))
            state = TaskState.Name(task.status.state)
            failure = AgentError if task.status.state == TaskState.TASK_STATE_FAILED else ProtocolViolationError
            raise failure(f"seat {seat}: task ended in {state} {detail}".strip())
        parts = [part for artifact in task.artifacts for part in artifact.parts]
        return parts or list(task.status.message.parts), _usage(task.metadata)
    raise ProtocolViolationError(f"seat {seat}: expected a message or a task, got {kind}")


def read_reply(parts: list[Part], usage: Usage | None, seat: str, started: float) -> SeatReply:
    """Check a reply against the seat contract: some text (or a move), within the size cap."""
    texts = [part.text for part in parts if part.HasField("text")]
    moves = [item["move"] for item in get_data_parts(parts) if isinstance(item, dict) and isinstance(item.get("move"), str)]
    text = "\n".join(texts)
    if not text.strip() and not moves:
        raise ProtocolViolationError(f"seat {seat}: reply has no text part" if parts else f"seat {seat}: empty reply")
    if len(text) > MAX_REPLY_CHARS:
        raise ProtocolViolationError(f"seat {seat}: reply of {len(text)} characters exceeds the cap of {MAX_REPLY_CHARS}")
    return SeatReply(text=text, data_move=moves[0] if moves else None, latency_s=time.perf_counter() - started,
                     usage=usage)


async def connect_agents(stack: contextlib.AsyncExitStack, urls: list[str], *, timeout: float,
                         tokens: dict[str, str | None] | None = None) -> dict[str, AgentConnection]:
    """Open every agent of a plan on `stack`; an agent that cannot be reached is left out, and every episode it
    plays ends as an `agent_unreachable` error naming it (the reason is logged here)."""
    agents: dict[str, AgentConnection] = {}
    for url in urls:
        try:
            agents[url] = await stack.enter_async_context(
                AgentConnection.open(url, token=(tokens or {}).get(url), timeout=timeout))
        except InfrastructureError as exc:
            logger.warning("agent %s is unavailable; its episodes will be errors: %s", url, exc)
    return agents


class AgentConnection:
    """One agent service, shared by every game it plays in a run."""

    def __init__(self, url: str, client: Client, timeout: float, card_digest: str,
                 referee_direct: bool = False) -> None:
        self.url = url
        self.referee_direct = referee_direct
        """The agent declares `urn:collabgap:referee-mcp:v1`: it votes at the referee with its seat token."""
        self.card_digest = card_digest
        """SHA-256 of the agent card as served: provenance for every episode this agent plays."""
        self._client = client
        self._timeout = timeout

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, *, token: str | None = None, timeout: float = 60.0,
                   bindings: list[str] | None = None, versions: list[str] | None = None,
                   ) -> AsyncIterator[AgentConnection]:
        """Read the agent card at `url` and open a client on its first interface among `bindings` (and, when
        given, among protocol `versions`, e.g. `["0.3"]` to drive an agent the way AgentBeats-era clients do).

        Raises:
            AgentUnreachableError: no card could be read.
        """
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(transport=_CappedTransport(MAX_REPLY_BYTES), headers=headers,
                                     timeout=httpx.Timeout(timeout, connect=10.0)) as http:
            with seat_boundary("?", url, timeout):
                try:
                    card = await A2ACardResolver(http, url).get_agent_card()
                except A2AError as exc:
                    raise AgentUnreachableError(f"no agent card at {url}: {exc}") from exc
            if versions is not None:
                kept = [i for i in card.supported_interfaces if i.protocol_version in versions]
                if not kept:
                    raise AgentUnreachableError(f"{url} declares no interface of A2A version {', '.join(versions)}")
                del card.supported_interfaces[:]
                card.supported_interfaces.extend(kept)
            config = ClientConfig(httpx_client=http, streaming=False,
                                  supported_protocol_bindings=bindings or ["JSONRPC", "HTTP+JSON"])
            client = ClientFactory(config).create(card)
            digest = hashlib.sha256(card.SerializeToString(deterministic=True)).hexdigest()
            try:
                direct = any(e.uri == REFEREE_EXTENSION for e in card.capabilities.extensions)
                yield cls(url, client, timeout, digest, direct)
            finally:
                await client.close()

    async def send(self, seat: str, context_id: str, texts: list[str], data: SeatMessage) -> SeatReply:
        """Send one seat message and wait (at most the turn timeout) for the agent's reply.

        Raises:
            InfrastructureError: the agent did not answer within the contract.
        """
        envelope = SeatEnvelope(collabgap=data).model_dump(mode="json")
        message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, context_id=context_id,
                          parts=[*(new_text_part(text) for text in texts),
                                 new_data_part(envelope, media_type="application/json")])
        started = time.perf_counter()
        with seat_boundary(seat, self.url, self._timeout):
            async with asyncio.timeout(self._timeout):
                events = [event async for event in self._client.send_message(SendMessageRequest(message=message))]
            if not events:
                raise ProtocolViolationError(f"seat {seat}: no reply")
            parts, usage = _reply_parts(events[-1], seat, context_id)
            return read_reply(parts, usage, seat, started)
