"""Referee-direct LLM players: agents that declare the referee extension vote by calling `propose_move` at the
referee themselves, through their model's function calls, over both vendors' APIs (fake vendor)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collabgap.protocol import REFEREE_EXTENSION
from collabgap.services.coordinator import SeatSpec, ServiceGroup
from tests.conftest import Stack

from .conftest import FAKE_KEY, LLMStack, llm_agent
from .test_llm_games import episode, play


@dataclass(frozen=True)
class DirectStack:
    """A fake vendor and LLM agents on it that vote at the referee themselves."""

    logs: Path
    openai: SeatSpec
    anthropic: SeatSpec
    grader: SeatSpec


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DirectStack]:
    logs = tmp_path_factory.mktemp("referee-direct-logs")
    with ServiceGroup(log_dir=logs) as services:
        vendor = services.start_fake_vendor()

        def agent(name: str, spec: str, *, referee_direct: bool = False) -> SeatSpec:
            return SeatSpec(name=name, url=services.start_agent(llm_agent(spec, vendor, referee_direct=referee_direct),
                                                                env={"COLLABGAP_TEST_KEY": FAKE_KEY}))

        yield DirectStack(
            logs=logs,
            openai=agent("gpt-direct", "openai:sim-cartographer", referee_direct=True),
            anthropic=agent("claude-direct", "anthropic:sim-cartographer", referee_direct=True),
            grader=agent("grader", "openai:sim-grader"),
        )


async def test_the_card_declares_the_referee_extension(direct: DirectStack) -> None:
    async with httpx.AsyncClient() as http:
        card = (await http.get(f"{direct.openai.url}/.well-known/agent-card.json")).json()
    [extension] = card["capabilities"]["extensions"]
    assert extension["uri"] == REFEREE_EXTENSION and not extension.get("required", False)
    assert "propose_move" in extension["description"]


async def test_direct_players_solve_the_paper_maze_voting_at_the_referee(stack: Stack, direct: DirectStack) -> None:
    """Every vote is a `propose_move` call the models made; no message carries a `MOVE:` line."""
    [record] = await play(stack, episode("direct", direct.openai, direct.anthropic))
    assert record.status == "solved" and record.score is not None, record.error
    assert (record.score.weighted, record.score.moves, record.score.conflicts) == (1.0, 10, 0)
    assert not any("MOVE:" in m.text for m in record.messages)
    assert len(record.votes) == 20 and {v.seat for v in record.votes} == {"A", "B"}
    assert [v.direction for v in record.votes if v.executed] == [m.direction for m in record.moves]
    assert [m.vote for m in record.messages if m.vote] == [v.direction for v in record.votes]
    # A vote takes a tool round and the message another: more model calls than messages, all paid for.
    calls = sum(m.usage.calls for m in record.messages if m.usage)
    assert calls >= len(record.messages) + len(record.votes)
    assert {m.usage.model for m in record.messages if m.usage} == {"sim-cartographer"}
    assert record.cost_usd > 0


async def test_voting_at_the_referee_casts_the_votes_move_lines_would(stack: Stack, direct: DirectStack,
                                                                      llm: LLMStack) -> None:
    """The same models, offered the seat tools, vote exactly as they do when they write `MOVE:` lines."""
    at_referee, in_lines = await play(stack, episode("direct", direct.openai, direct.anthropic),
                                      episode("lines", llm.openai_cartographer, llm.anthropic_cartographer))
    assert [(v.seat, v.direction, v.executed) for v in at_referee.votes] == [
        (v.seat, v.direction, v.executed) for v in in_lines.votes]


async def test_a_direct_player_partners_an_agent_that_votes_with_move_lines(stack: Stack,
                                                                            direct: DirectStack) -> None:
    """One seat votes at the referee itself, the other through the coordinator: the game is the same."""
    records = await play(stack, episode("scripted-first", stack.cartographer, direct.anthropic),
                         episode("direct-first", direct.openai, stack.cartographer))
    for record, direct_seat in zip(records, ("B", "A"), strict=True):
        assert record.status == "solved" and record.score is not None, record.error
        assert (record.score.weighted, record.score.moves) == (1.0, 10)
        assert {v.seat for v in record.votes} == {"A", "B"}
        assert not any("MOVE:" in m.text for m in record.messages if m.seat == direct_seat)


async def test_without_the_referee_channel_a_direct_player_writes_as_before(stack: Stack,
                                                                          direct: DirectStack) -> None:
    """Paper mode hands no seat token: the same agents talk in plain text, graded from the transcript."""
    [record] = await play(stack, episode("paper", direct.anthropic, direct.openai, mode="paper",
                                         grader=direct.grader))
    assert record.status == "solved" and record.score is not None and record.score.weighted == 1.0
    assert record.votes == [] and all(m.usage and m.usage.calls == 1 for m in record.messages)
    assert not any("at the referee" in m.text for m in record.messages)
