"""Any A2A client may talk to a seat: a message that is no seat message gets a completed task saying what the agent
is and how a game reaches it, over both bindings; a malformed seat message is still refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from a2a.client import Client, ClientConfig, create_client
from a2a.helpers import get_artifact_text, get_message_text, new_data_part
from a2a.types import Message, Part, Role, SendMessageRequest, StreamResponse, TaskState
from a2a.utils.errors import InvalidParamsError

from collabgap.protocol import SEAT_SKILL
from tests.conftest import Stack

BINDINGS = ["JSONRPC", "HTTP+JSON"]


@asynccontextmanager
async def plain_client(url: str, binding: str, *, streaming: bool = False) -> AsyncIterator[Client]:
    """An off-the-shelf a2a-sdk client on one binding, knowing nothing of collabgap."""
    config = ClientConfig(streaming=streaming, supported_protocol_bindings=[binding])
    async with await create_client(url, client_config=config) as client:
        yield client


def message(*parts: Part) -> SendMessageRequest:
    return SendMessageRequest(message=Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=list(parts)))


async def send(client: Client, request: SendMessageRequest) -> list[StreamResponse]:
    return [event async for event in client.send_message(request)]


def assert_introduces_the_seat(text: str) -> None:
    assert "scripted:cartographer" in text and SEAT_SKILL in text
    assert '"collabgap"' in text and '"start"' in text and "docs/seat-messages.md" in text


@pytest.mark.parametrize("binding", BINDINGS)
async def test_plain_text_gets_a_completed_task_that_introduces_the_seat(stack: Stack, binding: str) -> None:
    async with plain_client(stack.cartographer.url, binding) as client:
        [event] = await send(client, message(Part(text="Hello! Who are you?")))
    task = event.task
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert_introduces_the_seat(get_message_text(task.status.message))
    [artifact] = task.artifacts
    assert artifact.name == "about" and get_artifact_text(artifact) == get_message_text(task.status.message)
    assert [get_message_text(m) for m in task.history if m.role == Role.ROLE_USER] == ["Hello! Who are you?"]


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_streamed_plain_message_streams_the_task_to_completion(stack: Stack, binding: str) -> None:
    async with plain_client(stack.cartographer.url, binding, streaming=True) as client:
        events = await send(client, message(Part(text="hi")))
    assert events[0].HasField("task")
    kinds = [event.WhichOneof("payload") for event in events[1:]]
    assert kinds == ["artifact_update", "status_update"]
    assert_introduces_the_seat(get_artifact_text(events[1].artifact_update.artifact))
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED


@pytest.mark.parametrize("binding", BINDINGS)
async def test_data_without_a_seat_part_is_answered_like_text(stack: Stack, binding: str) -> None:
    async with plain_client(stack.cartographer.url, binding) as client:
        [event] = await send(client, message(new_data_part({"question": "what are you?"})))
    assert event.task.status.state == TaskState.TASK_STATE_COMPLETED


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_malformed_seat_part_is_still_invalid_params(stack: Stack, binding: str) -> None:
    """The seat contract keeps its errors: a `collabgap` part must match the seat schema."""
    broken = new_data_part({"collabgap": {"kind": "start", "seat": "C"}})
    async with plain_client(stack.cartographer.url, binding) as client:
        with pytest.raises(InvalidParamsError, match="does not match the seat schema"):
            await send(client, message(Part(text="task prompt"), broken))


async def test_a_follow_up_to_the_completed_task_is_refused(stack: Stack) -> None:
    """The answer is final: the task is terminal, and the SDK refuses to continue it (-32004 on JSON-RPC)."""
    async with plain_client(stack.cartographer.url, "JSONRPC") as client:
        [event] = await send(client, message(Part(text="hi")))
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": {
        "messageId": uuid.uuid4().hex, "taskId": event.task.id, "role": "ROLE_USER", "parts": [{"text": "again"}]}}}
    async with httpx.AsyncClient(headers={"A2A-Version": "1.0"}) as http:
        answer = (await http.post(f"{stack.cartographer.url}/a2a/jsonrpc/", json=body)).json()
    assert answer["error"]["code"] == -32004
