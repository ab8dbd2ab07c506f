"""Scripted players in teams of three to six, driven with the messages a round-robin relay sends: each seat knows
its own map and what the others said, labelled with their authors (issue 14, part 6).

The referee here is the plain `referee.Game` the MCP server wraps; tests/system/test_team_games.py plays the same
teams over A2A and MCP.
"""

from __future__ import annotations

import pytest
import yaml

from collabgap.protocol import (
    COMPLETION_PHRASE,
    SEATS,
    Direction,
    GradeRequest,
    HistoryEntry,
    Maze,
    Mode,
    SeatStart,
    SeatTurn,
    VoteOutcome,
    agent_name,
    find_votes,
    label_message,
    split_views,
)
from collabgap.referee import Game
from collabgap.services.agent import PLAYERS

MAZE_6 = ("@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*")
"""The paper's 6x6 maze; its shortest route takes 10 moves."""


async def play_team(players: list[str], mode: Mode, *, labelled: bool, limit: int = 50) -> tuple[Game, list[str]]:
    """A round-robin relay: seat after seat, each hears every message since it last spoke, with its author (as
    `messages`, or as `[agent N]:`-labelled text when `labelled`), and in referee mode the referee's verdicts."""
    maze = Maze.parse(list(MAZE_6))
    team = SEATS[:len(players)]
    game = Game("team", maze, split_views(maze, 5, parts=len(team)), "pair", "none")
    seats = {seat: PLAYERS[name]() for seat, name in zip(team, players, strict=True)}
    heard: dict[str, list[HistoryEntry]] = {seat: [] for seat in team}
    verdicts: dict[str, list[VoteOutcome]] = {seat: [] for seat in team}
    transcript: list[str] = []
    for index in range(limit):
        seat = team[index % len(team)]
        said, heard[seat] = heard[seat], []
        relay = ({"partner_text": "\n\n".join(label_message(h.seat, h.text) for h in said) or None} if labelled
                 else {"messages": said})
        message: SeatStart | SeatTurn
        if index < len(team):
            message = SeatStart(game_id="team", seat=seat, condition="team", speaks_first=index == 0,
                                message_limit=limit, size=6, maps=[list(game.view(seat).rows)], legend="",
                                mode=mode, team=list(team), **relay)
        else:
            message = SeatTurn(game_id="team", seat=seat, turn=index // len(team) + 1, outcomes=verdicts[seat],
                               **relay)
        verdicts[seat] = []
        text = (await seats[seat].reply(message, [])).text
        transcript.append(label_message(seat, text))
        for other in team:
            if other != seat:
                heard[other].append(HistoryEntry(seat=seat, text=text))
        if mode == "referee" and (votes := find_votes(text)):
            result = game.vote(seat, Direction.parse(votes[0]))
            for listener in team:
                verdicts[listener].append(VoteOutcome(seat=seat, direction=votes[0], executed=result.executed,
                                                      status=result.status))
            if result.status != "active":
                break
        if COMPLETION_PHRASE in text:
            break
    return game, transcript


@pytest.mark.parametrize("labelled", [False, True], ids=["messages", "labelled-text"])
@pytest.mark.parametrize("size", [3, 4])
async def test_a_team_of_cartographers_solves_the_maze_by_talking(size: int, labelled: bool) -> None:
    """Each shares its map, then all vote the same move: the optimal route, one move per round, no conflict."""
    game, transcript = await play_team(["cartographer"] * size, "referee", labelled=labelled)
    assert game.status == "solved" and len(game.moves) == 10
    assert sum(vote.conflict for vote in game.votes) == 0
    assert len(transcript) == size + 10 * size  # the openings, then one round of votes per move
    assert {vote.seat for vote in game.votes} == set(SEATS[:size])


async def test_six_cartographers_need_six_messages_a_move() -> None:
    """Every seat votes for every move, so a team of six spends 6 + 6 x 10 messages on the paper's maze."""
    game, transcript = await play_team(["cartographer"] * 6, "referee", labelled=True, limit=66)
    assert game.status == "solved" and len(game.moves) == 10 and len(transcript) == 66


@pytest.mark.parametrize("labelled", [False, True], ids=["messages", "labelled-text"])
async def test_a_paper_mode_team_agrees_a_route_the_grader_reads(labelled: bool) -> None:
    """Paper mode: `Proposal:`/`Agreed:` lines, moves followed by replaying the dialogue; the scripted grader's
    route, played at the referee, solves the maze."""
    game, transcript = await play_team(["cartographer"] * 3, "paper", labelled=labelled)
    assert COMPLETION_PHRASE in transcript[-1] and len(transcript) == 33
    dialogue = "\n\n".join(line.replace(f"[{agent_name(seat)}]", f"[{agent_name(seat).replace(' ', '_')}]")
                           for line, seat in zip(transcript, SEATS[:3] * 11, strict=True))
    grading = await PLAYERS["grader"]().reply(GradeRequest(game_id="team", size=6), [f"# Dialogue\n{dialogue}"])
    answer = yaml.safe_load(grading.text.strip("`\nyaml"))
    route = [entry["coordinates"][0] for entry in answer["route"] if entry["turn_type"] == "move"]
    game.grade(route)
    assert game.status == "solved" and len(game.moves) == 10
