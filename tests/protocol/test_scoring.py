"""The weighted score and binary success, measured on the true maze (DESIGN.md §2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgap.protocol import Direction, Maze, shortest_route, walk, weighted_score

PROTOCOL = settings.get_profile("protocol")
UP, DOWN, LEFT, RIGHT = Direction.UP, Direction.DOWN, Direction.LEFT, Direction.RIGHT

PAPER_MAZE_6 = Maze.parse(["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"])
PAPER_MAZE_5 = Maze.parse(["@....", "....#", "##...", "#....", ".###*"])
DETOUR_MAZE = Maze.parse([".@.", ".##", "..*"])
"""Start (0, 1) is 5 moves from the goal; the open cell (0, 2) beside it is 6 moves away."""


def _optimal_route(maze: Maze) -> list[Direction]:
    route = shortest_route(maze.rows, maze.start, maze.goal)
    assert route is not None
    return route


@pytest.mark.parametrize("maze", [PAPER_MAZE_6, PAPER_MAZE_5, DETOUR_MAZE], ids=["6x6", "5x5", "detour"])
def test_score_is_one_at_the_goal_and_zero_at_the_start(maze: Maze) -> None:
    """w = 1 − d(last_valid, goal) / d(start, goal): 1.0 at the goal, 0 for no progress (DESIGN.md §2)."""
    assert weighted_score(maze, maze.goal) == 1.0
    assert weighted_score(maze, maze.start) == 0.0


def test_score_is_negative_when_the_walk_ends_farther_than_the_start() -> None:
    """The score is not clamped: ending farther from the goal than the start scores below 0 (DESIGN.md §2)."""
    assert DETOUR_MAZE.optimal_length == 5
    result = walk(DETOUR_MAZE, [RIGHT])
    assert result.last_valid == (0, 2)
    assert weighted_score(DETOUR_MAZE, result.last_valid) == pytest.approx(1 - 6 / 5)
    assert weighted_score(DETOUR_MAZE, result.last_valid) < 0


def test_one_step_away_from_the_goal_on_the_paper_maze_scores_minus_a_tenth() -> None:
    """On the 6×6 reference maze, (0, 1) is 11 moves from the goal against the start's 10 (DESIGN.md §2)."""
    assert weighted_score(PAPER_MAZE_6, walk(PAPER_MAZE_6, [RIGHT]).last_valid) == pytest.approx(-0.1)


@pytest.mark.parametrize(
    ("maze", "optimal"), [(PAPER_MAZE_6, 10), (PAPER_MAZE_5, 8)], ids=["6x6", "5x5"]
)
def test_each_step_along_the_optimal_route_adds_one_over_its_length(maze: Maze, optimal: int) -> None:
    """After k of the optimal route's moves the score is k / optimal (DESIGN.md §2)."""
    route = _optimal_route(maze)
    assert len(route) == optimal
    for k in range(optimal + 1):
        result = walk(maze, route[:k])
        assert result.valid_moves == k
        assert not result.invalid_step
        assert weighted_score(maze, result.last_valid) == pytest.approx(k / optimal, abs=1e-12)


@pytest.mark.parametrize(
    ("moves", "last_valid", "valid_moves"),
    [
        pytest.param([UP], (0, 0), 0, id="off-the-top-edge-at-once"),
        pytest.param([LEFT, DOWN, DOWN], (0, 0), 0, id="off-the-left-edge-then-ignored"),
        pytest.param([RIGHT, RIGHT], (0, 1), 1, id="into-the-wall-at-0-2"),
        pytest.param([DOWN, RIGHT, RIGHT, DOWN], (1, 1), 2, id="into-the-wall-at-1-2"),
        pytest.param([DOWN] * 5 + [DOWN, RIGHT], (5, 0), 5, id="off-the-bottom-edge"),
        pytest.param([DOWN, DOWN, RIGHT, UP], (2, 0), 2, id="into-the-wall-at-2-1"),
    ],
)
def test_walk_stops_at_the_first_invalid_step(
    moves: list[Direction], last_valid: tuple[int, int], valid_moves: int
) -> None:
    """`last_valid` is the last cell reached before the first move into a wall or off the grid (DESIGN.md §2)."""
    result = walk(PAPER_MAZE_6, moves)
    assert result.invalid_step
    assert result.last_valid == last_valid
    assert result.valid_moves == valid_moves
    assert not result.success(PAPER_MAZE_6)


def test_walk_without_invalid_steps_ends_where_the_moves_lead() -> None:
    """A walk that never leaves open cells ends at its last cell, not a success unless at the goal (DESIGN.md §2)."""
    result = walk(PAPER_MAZE_6, [DOWN, RIGHT, UP, LEFT, DOWN, DOWN])
    assert result.last_valid == (2, 0)
    assert result.valid_moves == 6
    assert not result.invalid_step
    assert not result.success(PAPER_MAZE_6)
    assert weighted_score(PAPER_MAZE_6, result.last_valid) == pytest.approx(1 - 8 / 10)


def test_walk_stops_at_the_goal_and_ignores_later_moves() -> None:
    """Reaching the goal ends the game as solved, so moves after it neither count nor fail (DESIGN.md §2)."""
    result = walk(PAPER_MAZE_6, [*_optimal_route(PAPER_MAZE_6), RIGHT, DOWN])
    assert result.last_valid == PAPER_MAZE_6.goal
    assert result.valid_moves == 10
    assert not result.invalid_step
    assert result.success(PAPER_MAZE_6)


def test_empty_walk_stays_at_the_start_and_scores_zero() -> None:
    """No moves is no progress: weighted score 0 and no success (DESIGN.md §2)."""
    result = walk(PAPER_MAZE_6, [])
    assert result.last_valid == PAPER_MAZE_6.start
    assert (result.valid_moves, result.invalid_step, result.success(PAPER_MAZE_6)) == (0, False, False)
    assert weighted_score(PAPER_MAZE_6, result.last_valid) == 0.0


@settings(PROTOCOL, max_examples=300)
@given(st.booleans(), st.lists(st.sampled_from(Direction), max_size=40))
def test_score_never_exceeds_one_and_is_one_exactly_on_success(from_optimal: bool, tail: list[Direction]) -> None:
    """w ≤ 1 for any walk, and w = 1 exactly when the goal was reached with no invalid step (DESIGN.md §2)."""
    prefix = _optimal_route(PAPER_MAZE_6)[: len(tail)] if from_optimal else []
    moves = [*prefix, *tail]
    result = walk(PAPER_MAZE_6, moves)
    score = weighted_score(PAPER_MAZE_6, result.last_valid)
    assert score <= 1.0
    assert (score == 1.0) == result.success(PAPER_MAZE_6)
    assert result.valid_moves <= len(moves)
    assert PAPER_MAZE_6.is_open(result.last_valid)


def test_weighted_score_refuses_an_unsolvable_maze() -> None:
    """An unsolvable maze has no d(start, goal) to divide by (DESIGN.md §2)."""
    with pytest.raises(ValueError, match="unsolvable"):
        weighted_score(Maze.parse(["@.#", "..#", "##*"]), (0, 0))
