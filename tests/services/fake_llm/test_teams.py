"""The fake vendor's seat models in teams of three and four, over the OpenAI wire: each model sees only its task
(its own map) and the other seats' messages, relayed with their authors' labels, as an LLM player would pass them
on (issue 14, part 6)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml

from collabgap.protocol import SEATS, Direction, Maze, Seat, find_votes, label_message, render_map, split_views
from collabgap.referee import Game

from ._wire import OPENAI_HEADERS
from .conftest import Connect

MAZE_6 = ("@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*")
WORDS = {3: "three", 4: "four"}
TOOLS = [{"type": "function", "function": {"name": name, "description": name, "parameters": {"type": "object"}}}
         for name in ("get_view", "propose_move", "game_status")]


def team_task(seats: int, view: tuple[str, ...], mode: str) -> str:
    """A team task as the coordinator's team prompts state it: the team's size, the seat's own map, the rules."""
    voting = ("To vote for a move, write it on its own line as `MOVE: <direction>`." if mode == "referee"
              else "Agree on each move with the other agents before you make it.")
    return (f"You are one of {WORDS[seats]} agents solving a 6x6 maze as a team. Each of you sees a different part "
            f"of the maze; messages from the other agents arrive labelled with their author, e.g. [agent 2]:.\n\n"
            f"Your map (rows top to bottom):\n{render_map(view)}\n\n{voting}")


async def ask(client: httpx.AsyncClient, model: str, messages: list[dict[str, Any]],
              tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body = {"model": model, "messages": messages, **({"tools": tools} if tools else {})}
    response = await client.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
    response.raise_for_status()
    message: dict[str, Any] = response.json()["choices"][0]["message"]
    return message


async def reply(client: httpx.AsyncClient, game: Game, seat: Seat, messages: list[dict[str, Any]],
                direct: bool) -> str:
    """The seat's next message; a referee-direct model's tool calls are run at the referee first."""
    while True:
        answer = await ask(client, "sim-cartographer", messages, TOOLS if direct else None)
        calls = answer.get("tool_calls") or []
        messages.append({"role": "assistant", "content": answer.get("content"), **({"tool_calls": calls} if calls
                                                                                    else {})})
        if not calls:
            return str(answer["content"])
        for call in calls:
            name, arguments = call["function"]["name"], json.loads(call["function"]["arguments"] or "{}")
            result = (game.view(seat) if name == "get_view"
                      else game.vote(seat, Direction.parse(arguments["direction"])))
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": result.model_dump_json()})


async def play_team(client: httpx.AsyncClient, seats: int, mode: str, *, prefixed: bool,
                    direct: bool = False) -> tuple[Game, list[tuple[Seat, str]]]:
    """A round-robin relay of `seats` sim-cartographers: each hears every message since it last spoke in one user
    turn, each message labelled `[agent N]:` (after `[other agent]:` when `prefixed`); `MOVE:` lines are
    submitted to the referee for the seat that wrote them."""
    maze = Maze.parse(list(MAZE_6))
    team = SEATS[:seats]
    game = Game("team", maze, split_views(maze, 3, parts=seats), "pair", "none")
    conversations = {seat: [{"role": "system", "content": "A relay forwards messages verbatim."},
                            {"role": "user", "content": f"[user]: {team_task(seats, game.views[i], mode)}"}]
                     for i, seat in enumerate(team)}
    unheard: dict[Seat, list[str]] = {seat: [] for seat in team}
    transcript: list[tuple[Seat, str]] = []
    for index in range(50):
        seat = team[index % seats]
        if unheard[seat]:
            relayed = "\n\n".join(unheard[seat])
            conversations[seat].append({"role": "user",
                                        "content": f"[other agent]: {relayed}" if prefixed else relayed})
            unheard[seat] = []
        text = await reply(client, game, seat, conversations[seat], direct)
        transcript.append((seat, text))
        for other in team:
            if other != seat:
                unheard[other].append(label_message(seat, text))
        if mode == "referee" and not direct and (votes := find_votes(text)):
            game.vote(seat, Direction.parse(votes[0]))
        if game.status != "active" or "ACTI!" in text:
            break
    return game, transcript


@pytest.mark.parametrize("prefixed", [True, False], ids=["after-other-agent", "label-alone"])
@pytest.mark.parametrize("seats", [3, 4])
async def test_a_team_of_sim_cartographers_solves_the_maze_by_talking(vendor: Connect, seats: int,
                                                                      prefixed: bool) -> None:
    game, transcript = await play_team(vendor(), seats, "referee", prefixed=prefixed)
    assert game.status == "solved" and len(game.moves) == 10
    assert sum(vote.conflict for vote in game.votes) == 0
    assert {seat for seat, _ in transcript} == set(SEATS[:seats])


async def test_team_models_voting_at_the_referee_read_each_others_votes(vendor: Connect) -> None:
    """Offered the seat tools, each model votes with `propose_move` and says so; the others read it back."""
    game, transcript = await play_team(vendor(), 3, "referee", prefixed=True, direct=True)
    assert game.status == "solved" and len(game.moves) == 10
    assert not any("MOVE:" in text for _, text in transcript)
    assert len(game.votes) == 30 and sum(vote.conflict for vote in game.votes) == 0


async def test_a_paper_mode_team_agrees_a_route_the_sim_grader_reads(vendor: Connect) -> None:
    """Free dialogue: the models agree each move by replaying the team's `Proposal:`/`Agreed:` lines; the grader
    model extracts the route and the referee's grading solves the maze."""
    client = vendor()
    game, transcript = await play_team(client, 3, "paper", prefixed=True)
    assert "ACTI!" in transcript[-1][1]
    dialogue = "\n\n".join(f"[agent_{SEATS.index(seat) + 1}]: {text}" for seat, text in transcript)
    answer = await ask(client, "sim-grader", [{"role": "user", "content": f"Grade this.\n# Dialogue\n{dialogue}"}])
    route = yaml.safe_load(str(answer["content"]).strip("`\nyaml"))["route"]
    game.grade([entry["coordinates"][0] for entry in route if entry["turn_type"] == "move"])
    assert game.status == "solved" and len(game.moves) == 10
