"""Assessor mode: the coordinator as an A2A agent (AgentBeats green agent) that assesses the agents it is sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.helpers import get_data_parts, get_message_text, get_text_parts
from a2a.types import (
    CancelTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    TaskState,
)
from starlette.applications import Starlette

from collabgap.services.coordinator import AssessorSettings, create_assessor_app
from collabgap.services.coordinator.interop._assessor import ASSESS_SKILL_ID
from tests._serving import serving
from tests.conftest import Stack

ASSESSMENT_TIMEOUT_S = 120.0
"""Bound on one whole assessment: a few scripted episodes take seconds; this only stops a hang."""


@pytest.fixture(scope="module")
def assessor(stack: Stack) -> Iterator[str]:
    """Base URL of an assessor on the session referee, served by uvicorn in a thread on a loopback port."""
    def assessor(url: str) -> Starlette:
        return create_assessor_app(AssessorSettings(referee_url=stack.referee_url, referee_token=stack.token,
                                                    public_url=url))

    with serving(build=assessor) as url:
        yield url


@contextlib.asynccontextmanager
async def open_client(url: str, binding: str = "JSONRPC", version: str = "1.0") -> AsyncIterator[Client]:
    """A streaming client on the assessor's `binding` interface of A2A `version`."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(ASSESSMENT_TIMEOUT_S, connect=10.0)) as http:
        card = await A2ACardResolver(http, url).get_agent_card()
        kept = [i for i in card.supported_interfaces if i.protocol_version == version]
        del card.supported_interfaces[:]
        card.supported_interfaces.extend(kept)
        client = ClientFactory(ClientConfig(httpx_client=http, streaming=True,
                                            supported_protocol_bindings=[binding])).create(card)
        try:
            yield client
        finally:
            await client.close()


def request_message(text: str) -> SendMessageRequest:
    return SendMessageRequest(message=Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex,
                                              parts=[Part(text=text)]))


async def assess(url: str, text: str, binding: str = "JSONRPC", version: str = "1.0") -> list[StreamResponse]:
    """Send one request over `binding` in A2A `version`, streaming, and collect every event until the task ends."""
    async with open_client(url, binding, version) as client, asyncio.timeout(ASSESSMENT_TIMEOUT_S):
        return [event async for event in client.send_message(request_message(text))]


def states(events: list[StreamResponse]) -> list[int]:
    return [e.status_update.status.state for e in events if e.WhichOneof("payload") == "status_update"]


async def test_card_declares_streaming_both_interfaces_and_the_assess_skill(assessor: str) -> None:
    async with httpx.AsyncClient() as http:
        card = (await http.get(f"{assessor}/.well-known/agent-card.json")).json()
    current = {i["protocolBinding"]: i["url"] for i in card["supportedInterfaces"] if i["protocolVersion"] == "1.0"}
    assert current == {"JSONRPC": f"{assessor}/a2a/jsonrpc/", "HTTP+JSON": f"{assessor}/a2a/rest"}
    assert card["capabilities"]["streaming"] is True
    assert [skill["id"] for skill in card["skills"]] == [ASSESS_SKILL_ID]


@pytest.mark.parametrize(("binding", "version"), [("JSONRPC", "1.0"), ("HTTP+JSON", "1.0"), ("JSONRPC", "0.3")])
async def test_assessment_streams_progress_then_results_then_completes(assessor: str, stack: Stack,
                                                                      binding: str, version: str) -> None:
    """The AgentBeats request: a Task first, WORKING progress per episode, a `results` artifact, COMPLETED.

    Also over A2A 0.3 JSON-RPC, which AgentBeats-era clients speak.
    """
    request = {"participants": {"A": stack.cartographer.url, "B": stack.follower.url}, "config": {"mazes": 2}}
    events = await assess(assessor, json.dumps(request), binding, version)

    assert events[0].WhichOneof("payload") == "task"
    progress = [get_message_text(e.status_update.status.message) for e in events
                if e.WhichOneof("payload") == "status_update"
                and e.status_update.status.state == TaskState.TASK_STATE_WORKING]
    assert "2/2 episodes done" in progress[-1]
    assert any("1/2 episodes done" in text for text in progress)
    assert states(events)[-1] == TaskState.TASK_STATE_COMPLETED

    [artifact] = [e.artifact_update.artifact for e in events if e.WhichOneof("payload") == "artifact_update"]
    assert artifact.name == "results"
    results = json.loads("".join(get_text_parts(artifact.parts)))
    assert results["participants"] == request["participants"]
    assert results["config"]["mazes"] == 2 and results["config"]["conditions"] == ["pair"]
    assert [(e["seat_a"], e["seat_b"]) for e in results["episodes"]] == [("A", "B"), ("A", "B")]
    assert all(e["status"] != "error" and e["error"] is None for e in results["episodes"]), results["episodes"]
    assert [(c["condition"], c["seat_a"], c["seat_b"], c["n"]) for c in results["cells"]] == [("pair", "A", "B", 2)]
    [data] = get_data_parts(artifact.parts)
    assert [e["episode_id"] for e in data["episodes"]] == [e["episode_id"] for e in results["episodes"]]


async def test_named_roles_play_every_ordered_pair_and_solo(assessor: str, stack: Stack) -> None:
    """Role names other than A and B: every ordered pair (self-pairs too), plus solo when config asks."""
    request = {"participants": {"carto": stack.cartographer.url, "follow": stack.follower.url},
               "config": {"mazes": 1, "conditions": ["solo-full", "pair"], "seed": 3}}
    events = await assess(assessor, json.dumps(request))

    assert states(events)[-1] == TaskState.TASK_STATE_COMPLETED
    [artifact] = [e.artifact_update.artifact for e in events if e.WhichOneof("payload") == "artifact_update"]
    episodes = json.loads("".join(get_text_parts(artifact.parts)))["episodes"]
    assert [(e["condition"], e["seat_a"], e["seat_b"]) for e in episodes] == [
        ("solo-full", "carto", None), ("solo-full", "follow", None),
        ("pair", "carto", "carto"), ("pair", "carto", "follow"), ("pair", "follow", "carto"),
        ("pair", "follow", "follow"),
    ]
    assert all(e["status"] != "error" for e in episodes), episodes


@pytest.mark.parametrize(("request_text", "reason"), [
    ('{"participants": {"A": "http://127.0.0.1:1"}, "config": {"rounds": 3}}', "config.rounds"),
    ('{"participants": {"A": "ftp://127.0.0.1:1"}}', "not an http(s) URL"),
    ('{"participants": {"A": "http://127.0.0.1:1"}, "config": {"conditions": ["trio"]}}', "config.conditions"),
    ('{"participants": {}}', "participants"),
    ("play please", "Invalid JSON"),
    ('{"participants": {"A": "http://127.0.0.1:1"}, "config": {"mazes": 10000}}', "plans 10000 episodes"),
])
async def test_a_bad_request_is_rejected_with_its_reason(assessor: str, request_text: str, reason: str) -> None:
    """Validated at the edge (STYLE §2.5): nothing is played, and the task says what is wrong."""
    events = await assess(assessor, request_text)

    assert events[0].WhichOneof("payload") == "task"
    [final] = [e.status_update.status for e in events if e.WhichOneof("payload") == "status_update"]
    assert final.state == TaskState.TASK_STATE_REJECTED
    assert reason in get_message_text(final.message)
    assert not [e for e in events if e.WhichOneof("payload") == "artifact_update"]


async def test_a_canceled_assessment_ends_canceled_without_results(assessor: str, stack: Stack) -> None:
    """Cancelling stops the episodes still to play; no partial results are published as if complete."""
    request = {"participants": {"A": stack.cartographer.url, "B": stack.follower.url},
               "config": {"mazes": 50, "concurrency": 1}}
    task_id = ""
    async with open_client(assessor) as client, asyncio.timeout(ASSESSMENT_TIMEOUT_S):
        async for event in client.send_message(request_message(json.dumps(request))):
            if event.WhichOneof("payload") == "task":
                task_id = event.task.id
            elif "1/50 episodes done" in get_message_text(event.status_update.status.message):
                break
        task = await client.cancel_task(CancelTaskRequest(id=task_id))

    assert task.status.state == TaskState.TASK_STATE_CANCELED
    assert not task.artifacts
