"""The `fixture:tck` agent acts out the A2A TCK's messageId-prefix scenarios (docs/a2a-tck.md), over both bindings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.helpers import get_artifact_text, get_data_parts, get_message_text
from a2a.types import Message, Part, Role, SendMessageRequest, StreamResponse, TaskState
from a2a.utils.errors import ContentTypeNotSupportedError

from collabgap.services.agent import AgentSettings, create_agent_app
from collabgap.services.agent._tck import scenario_prefix

BASE = "http://tck-fixture.test"
BINDINGS = ["JSONRPC", "HTTP+JSON"]


@asynccontextmanager
async def fixture_client(binding: str, *, streaming: bool = False) -> AsyncIterator[Client]:
    app = create_agent_app(AgentSettings(player="fixture:tck", public_url=BASE))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        card = await A2ACardResolver(http, BASE).get_agent_card()
        client = ClientFactory(ClientConfig(httpx_client=http, streaming=streaming,
                                            supported_protocol_bindings=[binding])).create(card)
        async with client:
            yield client


def tck_message(prefix: str, task_id: str = "", parts: list[Part] | None = None) -> SendMessageRequest:
    return SendMessageRequest(message=Message(
        role=Role.ROLE_USER, message_id=f"{prefix}-{uuid.uuid4().hex[:8]}", task_id=task_id,
        parts=parts or [Part(text="TCK fixture test")],
    ))


async def send(client: Client, request: SendMessageRequest) -> list[StreamResponse]:
    return [event async for event in client.send_message(request)]


def test_prefixes_match_longest_first() -> None:
    assert scenario_prefix("tck-artifact-file-url-abc") == "tck-artifact-file-url"
    assert scenario_prefix("tck-artifact-file-abc") == "tck-artifact-file"
    assert scenario_prefix("tck-stream-artifact-chunked-1") == "tck-stream-artifact-chunked"
    assert scenario_prefix("tck-mismatch-1") is None  # the default: complete the task


@pytest.mark.parametrize("binding", BINDINGS)
async def test_complete_task_completes_with_its_message(binding: str) -> None:
    async with fixture_client(binding) as client:
        [event] = await send(client, tck_message("tck-complete-task"))
    assert event.task.status.state == TaskState.TASK_STATE_COMPLETED
    assert get_message_text(event.task.status.message) == "Hello from TCK"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_input_required_parks_the_task_until_a_follow_up_completes_it(binding: str) -> None:
    async with fixture_client(binding) as client:
        [parked] = await send(client, tck_message("tck-input-required"))
        assert parked.task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        # Follow-ups name only the task, as the TCK's do: the replies stay in the task's context.
        [still] = await send(client, tck_message("tck-input-required", task_id=parked.task.id))
        assert still.task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        [done] = await send(client, tck_message("tck-complete-task", task_id=parked.task.id))
    assert (done.task.id, done.task.status.state) == (parked.task.id, TaskState.TASK_STATE_COMPLETED)
    assert done.task.status.message.context_id == still.task.status.message.context_id == parked.task.context_id


async def test_reject_task_is_rejected() -> None:
    async with fixture_client("JSONRPC") as client:
        [event] = await send(client, tck_message("tck-reject-task"))
    assert event.task.status.state == TaskState.TASK_STATE_REJECTED


@pytest.mark.parametrize(("prefix", "check"), [
    ("tck-artifact-text", lambda part: part.text == "Generated text content"),
    ("tck-artifact-file", lambda part: part.raw and (part.filename, part.media_type) == ("output.txt", "text/plain")),
    ("tck-artifact-file-url", lambda part: part.url == "https://example.com/output.txt"),
    ("tck-artifact-data", lambda part: get_data_parts([part]) == [{"key": "value", "count": 42}]),
])
async def test_artifact_scenarios_yield_one_artifact_of_their_kind(prefix: str, check: Callable[[Part], bool]) -> None:
    async with fixture_client("HTTP+JSON") as client:
        [event] = await send(client, tck_message(prefix))
    assert event.task.status.state == TaskState.TASK_STATE_COMPLETED
    [artifact] = event.task.artifacts
    assert artifact.artifact_id and len(artifact.parts) == 1 and check(artifact.parts[0])


async def test_message_response_is_a_message_not_a_task() -> None:
    async with fixture_client("JSONRPC") as client:
        [event] = await send(client, tck_message("tck-message-response"))
    assert get_message_text(event.message) == "Direct message response"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_stream_001_streams_task_then_updates_until_completed(binding: str) -> None:
    async with fixture_client(binding, streaming=True) as client:
        events = await send(client, tck_message("tck-stream-001"))
    assert [event.WhichOneof("payload") for event in events] == ["task", "status_update", "artifact_update",
                                                                 "status_update"]
    assert events[1].status_update.status.state == TaskState.TASK_STATE_WORKING
    assert get_artifact_text(events[2].artifact_update.artifact) == "Stream hello from TCK"
    assert events[3].status_update.status.state == TaskState.TASK_STATE_COMPLETED


async def test_chunked_stream_appends_to_one_artifact() -> None:
    async with fixture_client("JSONRPC", streaming=True) as client:
        events = await send(client, tck_message("tck-stream-artifact-chunked"))
    chunks = [event.artifact_update for event in events if event.HasField("artifact_update")]
    assert [(c.append, c.last_chunk, get_artifact_text(c.artifact)) for c in chunks] == [
        (False, False, "chunk-1 "), (True, True, "chunk-2")]
    assert chunks[0].artifact.artifact_id == chunks[1].artifact.artifact_id


async def test_undeclared_media_type_is_refused() -> None:
    odd = [Part(raw=b"tck", media_type="application/x-unsupported-tck-type")]
    async with fixture_client("JSONRPC") as client:
        with pytest.raises(ContentTypeNotSupportedError):
            await send(client, tck_message("tck-send-003", parts=odd))
