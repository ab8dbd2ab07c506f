"""Teams of three and four over the real stack: agent services over A2A, the referee over MCP, every seat voting
with its own seat token (issue 14, parts 1 and 6).

The relay here is the smallest round-robin a coordinator can run: each seat hears every message since it last
spoke, labelled with its author (`[agent 2]: …`), plus the referee's verdicts; each vote goes to the referee
under the token of the seat that wrote it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from collabgap.protocol import (
    COMPLETION_PHRASE,
    SEATS,
    HistoryEntry,
    SeatStart,
    SeatTurn,
    VoteOutcome,
    find_votes,
    label_message,
    render_map,
)
from collabgap.services.coordinator import AgentConnection, SeatSpec
from tests.conftest import Stack
from tests.referee.test_tools import MAZE_6, as_coordinator, call, mcp_as

from .conftest import LLMStack

LIMIT = 50
WORDS = {3: "three", 4: "four"}


def team_task(seats: int, rows: list[str]) -> str:
    return (f"You are one of {WORDS[seats]} agents solving a 6x6 maze as a team. Messages from the other agents "
            f"arrive labelled with their author, e.g. [agent 2]:.\n\nYour map (rows top to bottom):\n"
            f"{render_map(tuple(rows))}\n\nTo vote for a move, write it on its own line as `MOVE: <direction>`.")


async def play_team(stack: Stack, agent: SeatSpec, seats: int) -> tuple[dict[str, Any], list[str]]:
    """Play the paper's maze, split `seats` ways, with one agent service in every seat; the referee's record and
    the messages."""
    team = list(SEATS[:seats])
    async with as_coordinator(stack) as coordinator, contextlib.AsyncExitStack() as clients:
        game = await call(coordinator, "create_game", maze=MAZE_6, seats=seats, seed=2)
        game_id, tokens = game["game_id"], game["seat_tokens"]
        referee = {seat: await clients.enter_async_context(mcp_as(stack.referee_url, tokens[seat]))
                   for seat in team}
        connection = await clients.enter_async_context(AgentConnection.open(agent.url, timeout=20))
        views = {seat: (await call(referee[seat], "get_view"))["rows"] for seat in team}
        unheard: dict[str, list[HistoryEntry]] = {seat: [] for seat in team}
        verdicts: dict[str, list[VoteOutcome]] = {seat: [] for seat in team}
        transcript: list[str] = []
        for index in range(LIMIT):
            seat = team[index % seats]
            heard, unheard[seat] = unheard[seat], []
            text = "\n\n".join(label_message(h.seat, h.text) for h in heard) or None
            message: SeatStart | SeatTurn
            if index < seats:
                message = SeatStart(game_id=game_id, seat=seat, condition="team", speaks_first=index == 0,
                                    message_limit=LIMIT, size=6, maps=[views[seat]], legend="", team=team,
                                    partner_text=text, messages=heard)
                texts = [team_task(seats, views[seat]), *([text] if text else [])]
            else:
                message = SeatTurn(game_id=game_id, seat=seat, turn=index // seats + 1, partner_text=text,
                                   messages=heard, outcomes=verdicts[seat])
                texts = [text or ""]
            verdicts[seat] = []
            said = (await connection.send(seat, f"{game_id}-{seat}", texts, message)).text
            transcript.append(said)
            for other in team:
                if other != seat:
                    unheard[other].append(HistoryEntry(seat=seat, text=said))
            if votes := find_votes(said):
                result = await call(referee[seat], "propose_move", direction=votes[0])
                for listener in team:
                    verdicts[listener].append(VoteOutcome(seat=seat, direction=votes[0], executed=result["executed"],
                                                          status=result["status"]))
                if result["status"] != "active":
                    break
            if COMPLETION_PHRASE in said:
                break
        return await call(coordinator, "get_game", game_id=game_id), transcript


@pytest.mark.parametrize("seats", [3, 4])
async def test_scripted_cartographers_solve_a_team_game_at_the_referee(stack: Stack, seats: int) -> None:
    """Each seat shares its map, then every seat votes each move: the optimal route, no conflict (issue 14)."""
    record, transcript = await play_team(stack, stack.cartographer, seats)
    assert record["status"] == "solved" and len(record["moves"]) == 10 and record["conflicts"] == 0
    assert {vote["seat"] for vote in record["votes"]} == set(SEATS[:seats])
    assert len(record["votes"]) == 10 * seats and len(transcript) == seats + 10 * seats


@pytest.mark.parametrize("seats", [3, 4])
async def test_fake_vendor_cartographers_solve_a_team_game_at_the_referee(stack: Stack, llm: LLMStack,
                                                                          seats: int) -> None:
    """The same team with LLM players on the fake vendor: they read only their task and the labelled messages."""
    record, _ = await play_team(stack, llm.openai_cartographer, seats)
    assert record["status"] == "solved" and len(record["moves"]) == 10 and record["conflicts"] == 0
    assert {vote["seat"] for vote in record["votes"]} == set(SEATS[:seats])
