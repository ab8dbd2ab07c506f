"""Issue 9, blame: every failure names who caused it; an agent's own failure is scored, the platform's is not."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from google.protobuf.json_format import ParseError

from collabgap.protocol import Maze, MazeParams
from collabgap.services.coordinator import (
    AgentConnection,
    AgentUnreachableError,
    EpisodeSpec,
    MessageRecord,
    ProtocolViolationError,
    RefereeClient,
    SeatSpec,
    ServiceGroup,
    play_episode,
    run_episodes,
)
from collabgap.services.coordinator._errors import AgentFault, PlatformFault, UnexpectedError
from collabgap.services.coordinator.game._seat_client import seat_boundary
from tests.conftest import Stack

from .conftest import FAKE_KEY, LLMStack, llm_agent

WAIT_S = 10.0
"""Bound on waiting for a fault to fire at the fake vendor: an LLM turn there takes milliseconds."""


def pair(episode_id: str, a: SeatSpec, b: SeatSpec, **options: object) -> EpisodeSpec:
    return EpisodeSpec(episode_id=episode_id, condition="pair", seat_a=a, seat_b=b, maze=MazeParams(seed=3),
                       **options)


@contextlib.contextmanager
def faults(llm: LLMStack, rules: list[dict[str, object]]) -> Iterator[None]:
    """Install fault rules at the fake vendor for the block, and none after it."""
    with httpx.Client(base_url=llm.vendor_url, headers={"Authorization": f"Bearer {FAKE_KEY}"}) as http:
        http.post("/_fake/faults", json={"faults": rules}).raise_for_status()
        try:
            yield
        finally:
            http.post("/_fake/faults", json={"faults": []}).raise_for_status()


async def hangs_fired(llm: LLMStack) -> int:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {FAKE_KEY}"}) as http:
        return int((await http.get(f"{llm.vendor_url}/_fake/stats")).json()["faults"]["hang"])


async def until_a_hang(llm: LLMStack, before: int) -> None:
    """Return once the vendor holds a request in a `hang`: the game is waiting on that model's agent."""
    async with asyncio.timeout(WAIT_S):
        while await hangs_fired(llm) == before:
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def connections(referee: str, token: str, *seats: SeatSpec) -> AsyncIterator[
        tuple[RefereeClient, dict[str, AgentConnection]]]:
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(RefereeClient.connect(referee, token))
        agents = {seat.url: await stack.enter_async_context(AgentConnection.open(seat.url, timeout=20))
                  for seat in seats}
        yield client, agents


async def test_a_referee_that_dies_mid_game_is_the_platforms_fault(llm: LLMStack, tmp_path: Path) -> None:
    """The referee process is killed, after moves were made, while a model is thinking: nobody's agent is blamed,
    nothing is scored, and the record keeps the maze, the messages and the moves made before the referee died."""
    token = secrets.token_urlsafe(16)
    a, b = llm.openai_cartographer, llm.openai_follower
    votes: list[str] = []
    moved = asyncio.Event()

    def heard(spec: EpisodeSpec, message: MessageRecord) -> None:
        votes.extend([message.vote] if message.vote else [])
        if len(votes) >= 4:  # both seats have voted twice: the cartographer's moves, which the follower takes
            moved.set()

    with ServiceGroup(log_dir=tmp_path) as services:
        referee = services.start_referee(token)
        async with connections(referee, token, a, b) as (client, agents):
            playing = asyncio.create_task(play_episode(pair("referee-dies", a, b), client, agents, on_message=heard))
            await asyncio.wait_for(moved.wait(), WAIT_S)
            before = await hangs_fired(llm)
            with faults(llm, [{"kind": "hang", "first": 1}]):
                await until_a_hang(llm, before)
                services.services[0].process.kill()
                record = await asyncio.wait_for(playing, WAIT_S * 3)
    assert record.status == "error" and record.score is None and record.error is not None
    assert (record.error.kind, record.error.blame) == ("referee_error", "platform")
    assert record.maze and record.views  # kept from the start of the game, though the referee is gone
    assert [m.seat for m in record.messages][:1] == ["A"]
    assert record.moves and all(move.valid for move in record.moves)  # replayed from the votes it executed
    assert record.moves[0].source == Maze.parse(record.maze).start and all(
        earlier.target == later.source for earlier, later in zip(record.moves, record.moves[1:]))


async def test_an_agent_that_crashes_mid_game_is_blamed_by_name_and_scored(stack: Stack, llm: LLMStack,
                                                                           tmp_path: Path) -> None:
    """Seat B's agent process is killed while it waits on its model: its failure, scored where the game stood."""
    with ServiceGroup(log_dir=tmp_path) as services, faults(llm, [{"kind": "hang", "models": ["sim-follower"]}]):
        doomed = SeatSpec(name="doomed", url=services.start_agent(
            llm_agent("openai:sim-follower", llm.vendor_url), env={"COLLABGAP_TEST_KEY": FAKE_KEY}))
        async with connections(stack.referee_url, stack.token.get_secret_value(), stack.cartographer,
                               doomed) as (client, agents):
            before = await hangs_fired(llm)
            playing = asyncio.create_task(play_episode(pair("crash", stack.cartographer, doomed), client, agents))
            await until_a_hang(llm, before)
            services.services[0].process.kill()
            record = await asyncio.wait_for(playing, WAIT_S * 3)
    assert record.error is not None and record.error.kind == "agent_unreachable"
    assert (record.error.seat, record.error.blame) == ("B", "agent:doomed")
    assert (record.status, record.end_reason) == ("ended", "agent_failure") and record.flagged
    assert record.score is not None and record.score.weighted == 0.0 and record.score.moves == len(record.moves)
    assert [m.seat for m in record.messages] == ["A"]


@pytest.mark.parametrize("mode", ["referee", "paper"])
async def test_an_empty_model_reply_is_a_scored_failure_of_that_agent(stack: Stack, llm: LLMStack,
                                                                      mode: str) -> None:
    """Referee mode scores the referee's position; paper mode grades what was said before the silence."""
    options = {"mode": mode, "grader": llm.grader} if mode == "paper" else {}
    with faults(llm, [{"kind": "empty", "models": ["sim-follower"]}]):
        [record] = await run_episodes([pair(f"empty-{mode}", llm.openai_cartographer, llm.openai_follower,
                                            **options)], stack.referee_url, stack.token, turn_timeout_s=20)
    assert record.error is not None and record.error.kind == "protocol_violation"
    assert "empty reply" in record.error.message
    assert (record.error.seat, record.error.blame) == ("B", "agent:gpt-sim-follower")
    assert record.status == "ended" and record.end_reason == "agent_failure"
    assert record.score is not None and [m.seat for m in record.messages] == ["A"]
    assert (record.grading is not None) == (mode == "paper")


def fault_of(raised: Exception) -> Exception:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the point is which type comes out
        with seat_boundary("B", "http://127.0.0.1:1", 5):
            raise raised
    return caught.value


@pytest.mark.parametrize(("raised", "becomes"), [
    (httpx.ConnectError("connection refused"), AgentUnreachableError),
    (ParseError("not an A2A message"), ProtocolViolationError),
    (json.JSONDecodeError("not JSON", "<html>", 0), ProtocolViolationError),
])
def test_what_the_agent_sent_or_failed_to_send_is_its_fault(raised: Exception, becomes: type[Exception]) -> None:
    fault = fault_of(raised)
    assert isinstance(fault, becomes) and isinstance(fault, AgentFault) and fault.__cause__ is raised


@pytest.mark.parametrize("raised", [KeyError("usage"), AttributeError("'NoneType' has no attribute 'parts'"),
                                    TypeError("unhashable type"), RuntimeError("the client has been closed")])
def test_an_exception_the_seat_boundary_cannot_map_is_the_platforms(raised: Exception) -> None:
    """Never the agent's `protocol_violation`: a bug of ours or of a library surfaces as ours (kind `internal`)."""
    fault = fault_of(raised)
    assert isinstance(fault, UnexpectedError) and isinstance(fault, PlatformFault) and fault.__cause__ is raised
    assert fault.kind == "internal"

