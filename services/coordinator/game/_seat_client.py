"""The coordinator's side of the A2A seat conversation: one client per agent, replies checked at the seam."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
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
from google.protobuf.json_format import MessageToDict, ParseError
from google.protobuf.struct_pb2 import Struct

from collabgap.protocol import DATA_KEY, REFEREE_EXTENSION, ModelCall, SeatEnvelope, SeatMessage, Usage
from collabgap.services.shared import describe

from .._errors import (
    AgentError,
    AgentTimeoutError,
    AgentUnreachableError,
    AuthFailureError,
    InfrastructureError,
    ProtocolViolationError,
    UnexpectedError,
    VersionError,
)
from ._http import CONNECT_RETRIES, pool_size, tls_context

logger = logging.getLogger(__name__)
MAX_REPLY_BYTES = 1 << 20
"""Hard cap on one HTTP response from an agent; a larger one is cut off and the game ends as an error."""
MAX_REPLY_CHARS = 20_000
"""Cap on the text of one reply; about five times a long LLM message."""
CARD_DEADLINE_S = 10.0
"""The most an agent card may take to arrive whole, connecting included (the turn timeout, when that is shorter).
A card is a small static document; one that arrives a byte at a time must not hold up the games of a run."""
_DONE = {TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_INPUT_REQUIRED}


class _ReplyTooLarge(httpx.ReadError):
    """Raised inside the transport; translated into ProtocolViolationError at the seat boundary."""


class _NotJsonRpc2(httpx.DecodingError):
    """A JSON-RPC reply that does not say `"jsonrpc": "2.0"`; a ProtocolViolationError at the seat boundary."""


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


def _jsonrpc_request(request: httpx.Request) -> bool:
    """A JSON-RPC call of ours (the A2A client sends its body whole, never streamed)."""
    if request.method != "POST" or not isinstance(request.stream, httpx.ByteStream):
        return False
    try:
        body = json.loads(request.content)
    except ValueError:
        return False
    return isinstance(body, dict) and "jsonrpc" in body


async def _check_jsonrpc_version(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """Read a successful JSON answer to a JSON-RPC call (within the cap) and refuse it unless it is JSON-RPC 2.0.

    The A2A SDK reads `result` or `error` and never the version, so `"jsonrpc": "1.0"` would pass unnoticed.
    A body that is not a JSON object is left to the SDK, which refuses it in its own words.
    """
    if not (response.is_success and "json" in response.headers.get("content-type", "")
            and _jsonrpc_request(request)):
        return response
    assert isinstance(response.stream, httpx.AsyncByteStream)
    try:
        body = b"".join([chunk async for chunk in response.stream])
    finally:
        await response.stream.aclose()
    try:
        reply = json.loads(body)
    except ValueError:
        reply = None
    if isinstance(reply, dict) and reply.get("jsonrpc") != "2.0":
        raise _NotJsonRpc2(f'the reply says "jsonrpc": {json.dumps(reply.get("jsonrpc"))}; JSON-RPC 2.0 replies say '
                           '"2.0"', request=request)
    response.stream = httpx.ByteStream(body)
    return response


class _CappedTransport(httpx.AsyncBaseTransport):
    """Stops reading an agent's response once it passes `limit` bytes, so no agent can exhaust memory, and
    refuses a JSON-RPC reply of another version than 2.0.

    Its pool keeps up to `connections` connections (see `pool_size`) and tries a refused connection again.
    """

    def __init__(self, limit: int, connections: int | None = None) -> None:
        self._inner = httpx.AsyncHTTPTransport(verify=tls_context(), limits=httpx.Limits(**pool_size(connections)),
                                               retries=CONNECT_RETRIES)
        self._limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CappedStream(response.stream, self._limit)
        return await _check_jsonrpc_version(request, response)

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
    calls: tuple[ModelCall, ...] = ()
    """The model requests that made the reply, from its metadata `collabgap.calls` (ignored when malformed)."""


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an A2A client error, when one caused it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx.HTTPStatusError):
            return seen.response.status_code
        seen = seen.__cause__ or seen.__context__
    match = re.search(r"HTTP Error (\d{3})", str(exc))
    return int(match.group(1)) if match else None


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of type `kind` in the chain behind `exc`, itself included."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


_FROM_THE_AGENT: tuple[type[Exception], ...] = (A2AError, httpx.HTTPError, ParseError, pydantic.ValidationError,
                                                ValueError)
"""What the A2A client raises when the agent's bytes (or their absence) are at fault: an error it answered, an
HTTP failure, or a body that is not JSON, protobuf or a result (the SDK's ValueError). Nothing else is the agent's."""


@contextlib.contextmanager
def seat_boundary(seat: str, url: str, timeout: float) -> Iterator[None]:
    """Turn one seat's transport and protocol failures into that agent's faults, naming the seat.

    An exception this cannot map is not the agent's: it is re-raised as `UnexpectedError`, the platform's.
    """
    try:
        yield
    except InfrastructureError:
        raise
    except (TimeoutError, A2AClientTimeoutError, httpx.TimeoutException) as exc:
        raise AgentTimeoutError(f"seat {seat} ({url}): no reply within {timeout:g} s") from exc
    except _FROM_THE_AGENT as exc:
        if _cause(exc, _ReplyTooLarge) is not None:
            raise ProtocolViolationError(f"seat {seat} ({url}): reply larger than {MAX_REPLY_BYTES} bytes") from exc
        if (wrong_version := _cause(exc, _NotJsonRpc2)) is not None:
            raise ProtocolViolationError(f"seat {seat} ({url}): {wrong_version}") from exc
        if _cause(exc, httpx.TransportError) is not None:
            raise AgentUnreachableError(f"seat {seat} ({url}): {describe(exc)}") from exc
        if isinstance(exc, InternalError):
            raise AgentError(f"seat {seat} ({url}): the agent failed: {exc}") from exc
        if isinstance(exc, VersionNotSupportedError):
            raise VersionError(f"seat {seat} ({url}): the agent does not speak our A2A version: {exc}") from exc
        if _http_status(exc) in (401, 403):
            raise AuthFailureError(f"seat {seat} ({url}): credentials refused ({_http_status(exc)}); "
                                   "check the agent's token variable") from exc
        raise ProtocolViolationError(f"seat {seat} ({url}): unusable reply: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - the seam re-raises what it cannot map, as ours (httpx's rule)
        raise UnexpectedError(f"seat {seat} ({url}): collabgap failed while talking to the agent: "
                              f"{type(exc).__name__}: {exc}") from exc


_CALLS = pydantic.TypeAdapter(tuple[ModelCall, ...])


def _reported(metadata: Struct, seat: str) -> tuple[Usage | None, tuple[ModelCall, ...]]:
    """The usage and model calls a reply's metadata reports under `collabgap`.

    Both are the agent's claim: a malformed one is logged and left out, and costs the record nothing else.
    """
    reported = MessageToDict(metadata).get(DATA_KEY)
    if not isinstance(reported, dict):
        return None, ()
    usage: Usage | None = None
    calls: tuple[ModelCall, ...] = ()
    try:
        usage = None if reported.get("usage") is None else Usage.model_validate(reported["usage"])
    except pydantic.ValidationError as exc:
        logger.warning("seat %s reported malformed usage; ignored: %s", seat, exc.errors()[:1])
    try:
        calls = _CALLS.validate_python(reported.get("calls") or ())
    except pydantic.ValidationError as exc:
        logger.warning("seat %s reported malformed model calls; ignored: %s", seat, exc.errors()[:1])
    return usage, calls


def _says_no_reply(metadata: Struct) -> bool:
    """A failed task's status message says `{"collabgap": {"failure": "timeout"}}`: the seat's player (a person)
    did not reply within its own time, which is this seat's timeout (docs/seat-messages.md)."""
    reported = MessageToDict(metadata).get(DATA_KEY)
    return isinstance(reported, dict) and reported.get("failure") == "timeout"


def _reply_parts(event: StreamResponse, seat: str, context_id: str) -> tuple[list[Part], Struct]:
    kind = event.WhichOneof("payload")
    if kind == "message":
        message = event.message
        if message.context_id and message.context_id != context_id:
            raise ProtocolViolationError(f"seat {seat}: reply belongs to another conversation")
        return list(message.parts), message.metadata
    if kind == "task":
        task = event.task
        if task.context_id and task.context_id != context_id:
            raise ProtocolViolationError(f"seat {seat}: reply belongs to another conversation")
        if task.status.state not in _DONE:
            detail = " ".join(p.text for p in task.status.message.parts if p.HasField("text"))
            state = TaskState.Name(task.status.state)
            if task.status.state == TaskState.TASK_STATE_FAILED and _says_no_reply(task.status.message.metadata):
                raise AgentTimeoutError(f"seat {seat}: the agent says it had no reply in time: {detail}".strip())
            failure = AgentError if task.status.state == TaskState.TASK_STATE_FAILED else ProtocolViolationError
            raise failure(f"seat {seat}: task ended in {state} {detail}".strip())
        parts = [part for artifact in task.artifacts for part in artifact.parts]
        return parts or list(task.status.message.parts), task.metadata
    raise ProtocolViolationError(f"seat {seat}: expected a message or a task, got {kind}")


def read_reply(parts: list[Part], metadata: Struct, seat: str, started: float) -> SeatReply:
    """Check a reply against the seat contract: some text (or a move), within the size cap."""
    texts = [part.text for part in parts if part.HasField("text")]
    moves = [item["move"] for item in get_data_parts(parts)
             if isinstance(item, dict) and isinstance(item.get("move"), str)]
    text = "\n".join(texts)
    if not text.strip() and not moves:
        why = "empty reply" if texts or not parts else "reply has no text part"
        raise ProtocolViolationError(f"seat {seat}: {why}")
    if len(text) > MAX_REPLY_CHARS:
        raise ProtocolViolationError(
            f"seat {seat}: reply of {len(text)} characters exceeds the cap of {MAX_REPLY_CHARS}")
    usage, calls = _reported(metadata, seat)
    return SeatReply(text=text, data_move=moves[0] if moves else None, latency_s=time.perf_counter() - started,
                     usage=usage, calls=calls)


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
                   connections: int | None = None) -> AsyncIterator[AgentConnection]:
        """Read the agent card at `url` and open a client on its first interface among `bindings` (and, when
        given, among protocol `versions`, e.g. `["0.3"]` to drive an agent the way AgentBeats-era clients do).
        One pool of `connections` (the games that may talk to the agent at once; None: unbounded) serves every
        call for as long as the connection is open.

        Raises:
            AgentUnreachableError: no card could be read, or it had not arrived whole within `CARD_DEADLINE_S`.
        """
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        deadline = min(timeout, CARD_DEADLINE_S)
        async with httpx.AsyncClient(transport=_CappedTransport(MAX_REPLY_BYTES, connections), headers=headers,
                                     timeout=httpx.Timeout(timeout, connect=10.0)) as http:
            with seat_boundary("?", url, timeout):
                try:
                    async with asyncio.timeout(deadline):  # httpx's timeouts bound each read, not the whole card
                        card = await A2ACardResolver(http, url).get_agent_card()
                except TimeoutError as exc:
                    raise AgentUnreachableError(f"no agent card at {url}: it had not arrived whole after "
                                                f"{deadline:g} s") from exc
                except A2AError as exc:
                    raise AgentUnreachableError(f"no agent card at {url}: {describe(exc)}") from exc
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
            AgentFault: the agent did not answer within the contract.
            UnexpectedError: collabgap or the A2A client failed, not the agent.
        """
        envelope = SeatEnvelope(collabgap=data).model_dump(mode="json")
        message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, context_id=context_id,
                          parts=[*(new_text_part(text) for text in texts),
                                 new_data_part(envelope, media_type="application/json")])
        request = SendMessageRequest(message=message)  # built outside the boundary: a failure here is ours
        started = time.perf_counter()
        with seat_boundary(seat, self.url, self._timeout):
            async with asyncio.timeout(self._timeout):
                events = [event async for event in self._client.send_message(request)]
            if not events:
                raise ProtocolViolationError(f"seat {seat}: no reply")
            parts, metadata = _reply_parts(events[-1], seat, context_id)
            return read_reply(parts, metadata, seat, started)
