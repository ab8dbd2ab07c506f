"""Whole games over HTTP: real referee and agent processes, the real coordinator; nothing of ours is mocked."""

from __future__ import annotations

import pytest

from collabgap.protocol import MazeParams
from collabgap.services.coordinator import EpisodeRecord, EpisodeSpec, ExplicitMaze, SeatSpec, run_episodes
from tests.conftest import Stack

MAZE_6 = ["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"]
VIEWS_6 = [["@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"],
           ["@.?..#", "??##..", "?#?..?", ".?#?..", "????#?", "..???*"]]
MAZE_5 = ["@....", "....#", "##...", "#....", ".###*"]
VIEWS_5 = [["@.???", ".?..?", "#???.", "?...?", ".??#*"], ["@?...", "?.??#", "?#..?", "#???.", "?##?*"]]


async def play(stack: Stack, a: SeatSpec, b: SeatSpec | None, maze: ExplicitMaze | MazeParams,
               condition: str = "pair", **options: object) -> EpisodeRecord:
    spec = EpisodeSpec(episode_id="test", condition=condition, seat_a=a, seat_b=b, maze=maze, **options)
    [record] = await run_episodes([spec], stack.referee_url, stack.token, turn_timeout_s=10)
    return record


async def test_two_cartographers_solve_the_paper_6x6_maze_optimally(stack: Stack) -> None:
    """Both seats share their halves and agree each step, so they take the optimal route (DESIGN §2)."""
    record = await play(stack, stack.cartographer, stack.cartographer, ExplicitMaze(rows=MAZE_6, views=VIEWS_6))
    assert record.status == "solved" and record.end_reason == "goal"
    assert record.score is not None
    score = record.score
    assert (score.weighted, score.success, score.moves, score.conflicts) == (1.0, True, 10, 0)
    assert record.moves[-1].target == (5, 5)
    assert record.messages[0].seat == "A" and "@?#???" in record.messages[0].text  # A shares its map first
    turns = len(record.messages)
    assert [m.seat for m in record.messages] == ["A", "B"] * (turns // 2) + ["A"] * (turns % 2)


async def test_two_cartographers_solve_the_paper_5x5_maze_optimally(stack: Stack) -> None:
    record = await play(stack, stack.cartographer, stack.cartographer, ExplicitMaze(rows=MAZE_5, views=VIEWS_5))
    assert record.score is not None and (record.score.moves, record.score.weighted) == (8, 1.0)


async def test_agreed_step_into_hidden_wall_ends_game_with_exact_score(stack: Stack) -> None:
    """Two followers walk greedily down into a wall A cannot see: failed, scored from the last valid cell."""
    maze = ExplicitMaze(rows=["@....", ".....", ".....", "#....", "....*"],
                        views=[["@....", ".....", ".?...", "?....", "....*"],
                               ["@????", "?????", "?.???", "#????", "????*"]])
    record = await play(stack, stack.follower, stack.follower, maze)
    assert record.status == "failed" and record.end_reason == "wall"
    assert [(m.direction, m.valid) for m in record.moves] == [("down", True), ("down", True), ("down", False)]
    assert record.score is not None
    # Last valid cell (2, 0) is 6 moves from the goal once (3, 0) is a wall; the optimum is 8.
    assert record.score.weighted == pytest.approx(1 - 6 / 8) and record.score.success is False


async def test_disagreement_executes_nothing(stack: Stack) -> None:
    """Different votes are a conflict and move nobody; the move waits until both name it (DESIGN §3.1)."""
    maze = ExplicitMaze(rows=["@..", "#..", "..*"], views=[["@??", "?..", "..*"], ["@..", "#..", "..*"]])
    record = await play(stack, stack.follower, stack.cartographer, maze)
    first, second, third = record.votes[:3]
    assert (first.seat, first.direction, first.executed) == ("A", "down", False)
    assert (second.seat, second.direction, second.executed, second.conflict) == ("B", "right", False, True)
    assert (third.seat, third.direction, third.executed) == ("A", "right", True)
    assert record.moves[0].direction == "right"  # the disputed "down" never ran
    assert record.status == "solved" and record.score is not None and record.score.conflicts == 1


@pytest.mark.parametrize("condition", ["solo-full", "solo-split"])
async def test_a_cartographer_solves_alone(stack: Stack, condition: str) -> None:
    record = await play(stack, stack.cartographer, None, MazeParams(size=6, seed=11), condition=condition)
    assert record.status == "solved" and record.score is not None and record.score.weighted == 1.0
    assert {m.seat for m in record.messages} == {"A"}


async def test_message_limit_ends_the_game_as_ended(stack: Stack) -> None:
    record = await play(stack, stack.cartographer, stack.cartographer, MazeParams(size=6, seed=2), message_limit=3)
    assert (record.status, record.end_reason, len(record.messages)) == ("ended", "message_limit", 3)
    assert record.score is not None and record.score.weighted < 1.0


async def test_same_seed_gives_the_same_game(stack: Stack) -> None:
    """DESIGN §5: same seed, same maze, same split, same scripted behaviour."""
    first = await play(stack, stack.follower, stack.cartographer, MazeParams(size=7, seed=5))
    second = await play(stack, stack.follower, stack.cartographer, MazeParams(size=7, seed=5))
    assert first.maze == second.maze and first.views == second.views
    assert [m.text for m in first.messages] == [m.text for m in second.messages]
    assert first.score == second.score
