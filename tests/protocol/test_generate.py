"""Seeded maze generation (DESIGN.md §2, docs/maze.md): solvable, in range, goal where asked, reproducible."""

from __future__ import annotations

import re
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from collabgap.protocol import MazeError, MazeParams, generate_maze, split_views

PROTOCOL = settings.get_profile("protocol")
PLACEMENTS: tuple[Any, ...] = get_args(MazeParams.model_fields["start"].annotation)
CORNERS = {"top-left": (0, 0), "top-right": (0, -1), "bottom-left": (-1, 0), "bottom-right": (-1, -1)}


@st.composite
def feasible_params(draw: st.DrawFn) -> MazeParams:
    """Parameters that some maze meets: a goal anywhere, a route no longer than the side plus three moves."""
    size = draw(st.integers(4, 10))
    min_path = draw(st.integers(1, size))
    return MazeParams(
        size=size,
        wall_density=draw(st.floats(0.0, 0.4)),
        start=draw(st.sampled_from(PLACEMENTS)),
        goal="any",
        min_path=min_path,
        max_path=min_path + draw(st.integers(0, 3)),
        seed=draw(st.integers()),
    )


@st.composite
def cornered_params(draw: st.DrawFn) -> MazeParams:
    """The default goal rule and route range, on any size and any start outside the goal's block."""
    return MazeParams(
        size=draw(st.integers(3, 20)),
        wall_density=draw(st.floats(0.0, 0.4)),
        start=draw(st.sampled_from(["top-left", "top-right", "bottom-left", "random"])),
        seed=draw(st.integers()),
    )


@settings(PROTOCOL, max_examples=150)
@given(feasible_params())
def test_generated_maze_is_solvable_within_the_requested_route_length(params: MazeParams) -> None:
    """The goal's BFS distance from the start lies in [min_path, max_path] (DESIGN.md §2)."""
    maze = generate_maze(params)
    assert maze.size == params.size
    assert maze.optimal_length is not None
    low, high = params.path_range
    assert low <= maze.optimal_length <= high


@settings(PROTOCOL, max_examples=60)
@given(feasible_params())
def test_generated_maze_puts_the_start_where_asked(params: MazeParams) -> None:
    """The start stands in the configured corner, or anywhere for `random` (DESIGN.md §2)."""
    maze = generate_maze(params)
    if params.start in CORNERS:
        r, c = CORNERS[params.start]
        assert maze.start == (r % params.size, c % params.size)
    assert maze.start != maze.goal


@settings(PROTOCOL, max_examples=60)
@given(feasible_params(), st.integers())
def test_same_params_and_seed_give_the_same_maze_and_views(params: MazeParams, split_seed: int) -> None:
    """Generation and splitting are fully determined by the parameters and seeds (DESIGN.md §2)."""
    again = MazeParams.model_validate(params.model_dump())
    first, second = generate_maze(params), generate_maze(again)
    assert first == second
    assert again.maze_id == params.maze_id
    assert split_views(first, split_seed) == split_views(second, split_seed)


@settings(PROTOCOL, max_examples=80)
@given(cornered_params())
def test_bottom_right_goal_lands_in_the_corner_block_within_the_default_range(params: MazeParams) -> None:
    """`goal="bottom-right"` (the default) puts `*` in the bottom-right 2x2 block, as in the paper's mazes."""
    maze = generate_maze(params)
    low, high = params.path_range
    assert maze.goal[0] >= params.size - 2 and maze.goal[1] >= params.size - 2
    assert maze.optimal_length is not None and low <= maze.optimal_length <= high


def test_bottom_right_goal_can_be_the_very_corner() -> None:
    """Each cell of the block is drawn, the corner (5, 5) of the paper's printed 6x6 maze included."""
    goals = {generate_maze(MazeParams(seed=seed)).goal for seed in range(40)}
    assert goals == {(4, 4), (4, 5), (5, 4), (5, 5)}
    assert generate_maze(MazeParams(min_path=10, max_path=10, seed=3)).goal == (5, 5)


def test_route_range_defaults_to_one_that_grows_with_the_size() -> None:
    """Unset, min_path and max_path are size + 1 and 2 * size, so 18x18 routes are longer than 6x6 ones."""
    assert MazeParams(size=6).path_range == (7, 12)
    assert MazeParams(size=12).path_range == (13, 24)
    assert MazeParams(size=18, max_path=40).path_range == (19, 40)
    for goal in ("any", "bottom-right"):
        small = [generate_maze(MazeParams(size=6, goal=goal, seed=seed)).optimal_length or 0 for seed in range(20)]
        large = [generate_maze(MazeParams(size=18, goal=goal, seed=seed)).optimal_length or 0 for seed in range(20)]
        assert max(small) <= 12 < 19 <= min(large), goal


@pytest.mark.parametrize(
    ("params", "rows", "maze_id"),
    [
        pytest.param(
            MazeParams(seed=0),
            ("@..#..", "......", "#..#..", "......", ".#....", "..#.*#"),
            "m6-0-26975ff10f1f",
            id="defaults-seed-0",
        ),
        pytest.param(
            MazeParams(size=6, seed=0, goal="any", min_path=7, max_path=9),
            ("@..#..", "......", "#..#..", "......", ".#...*", "..#..#"),
            "m6-0-2b7a45ed79f3",
            id="goal-any-seed-0-same-draws-as-before-the-goal-rule",
        ),
        pytest.param(
            MazeParams(size=8, seed=2024, start="random", goal="any", min_path=10, max_path=12),
            (".....##.", "......*.", ".#....##", ".#..#...", ".#..#.##", "##......", "#..#..#.", ".#@....#"),
            "m8-2024-aa9b63915c94",
            id="8x8-random-start-seed-2024",
        ),
    ],
)
def test_known_seed_always_yields_the_same_maze_and_id(params: MazeParams, rows: tuple[str, ...], maze_id: str) -> None:
    """A maze set saved today reloads identically tomorrow: params and seed fix maze and id (DESIGN.md §2)."""
    assert generate_maze(params).rows == rows
    assert params.maze_id == maze_id


def test_different_seeds_give_different_maze_ids() -> None:
    """The maze id is derived from the parameters and the seed (DESIGN.md §2)."""
    assert MazeParams(seed=0).maze_id != MazeParams(seed=1).maze_id
    assert MazeParams(seed=0).maze_id != MazeParams(seed=0, size=7).maze_id


@settings(PROTOCOL, max_examples=50)
@given(st.integers(1, 35), st.integers(1, 35))
def test_maze_params_reject_a_minimum_above_the_maximum(min_path: int, max_path: int) -> None:
    """A route range [min_path, max_path] must not be empty (DESIGN.md §2)."""
    if min_path > max_path:
        with pytest.raises(ValidationError, match="exceeds max_path"):
            MazeParams(goal="any", min_path=min_path, max_path=max_path)
    else:
        assert MazeParams(goal="any", min_path=min_path, max_path=max_path).max_path == max_path


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        pytest.param({"min_path": 20}, "min_path 20 exceeds max_path 12 (the default for size 6)",
                     id="min-above-default"),
        pytest.param({"size": 10, "max_path": 5}, "min_path 11 (the default for size 10) exceeds max_path 5",
                     id="max-below-default"),
        pytest.param({"min_path": 3, "max_path": 7},
                     "from the top-left start, the bottom-right 2x2 block is at least 8", id="block-out-of-reach"),
        pytest.param({"start": "bottom-right"}, "start 'bottom-right' lies in the goal's bottom-right block",
                     id="start-inside-the-goal-block"),
    ],
)
def test_contradictory_parameters_are_refused_with_the_reason(request_: dict[str, object], message: str) -> None:
    """A range that is empty, or that no goal cell can meet, is refused up front and says which value is at fault."""
    with pytest.raises(ValidationError, match=re.escape(message)):
        MazeParams.model_validate(request_)


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"size": 3, "min_path": 9, "max_path": 12}, id="3x3-route-longer-than-its-cells"),
        pytest.param({"size": 10, "wall_density": 0.8, "min_path": 15, "max_path": 20}, id="dense-walls-long-route"),
        pytest.param({"size": 3, "min_path": 13, "max_path": 13}, id="3x3-route-beyond-the-bound"),
        pytest.param({"size": 6, "wall_density": 0.9}, id="density-above-0.8"),
        pytest.param({"size": 2}, id="size-2"),
        pytest.param({"size": 31}, id="size-31"),
    ],
)
def test_impossible_request_raises_instead_of_returning_a_maze(request_: dict[str, object]) -> None:
    """Parameters no maze meets are refused, up front or after the draws run out (DESIGN.md §2)."""
    with pytest.raises((MazeError, ValidationError)):
        generate_maze(MazeParams.model_validate(request_))


def test_exhausted_draws_raise_a_maze_error_naming_the_parameters() -> None:
    """A request the validator lets through but no draw meets ends in MazeError, not a hang (DESIGN.md §2)."""
    with pytest.raises(MazeError, match="no 3x3 maze .* 5-8 moves; loosen"):  # no walls: no route is longer than 4
        generate_maze(MazeParams(size=3, wall_density=0.0, goal="any", min_path=5, max_path=8))
    with pytest.raises(MazeError, match="no 4x4 maze .* 7-8 moves to the bottom-right 2x2 block"):  # at most 6 away
        generate_maze(MazeParams(size=4, wall_density=0.0, min_path=7, max_path=8))


def test_maze_params_forbid_unknown_fields() -> None:
    """A misspelt generation parameter is an error, not silently ignored (DESIGN.md §2)."""
    with pytest.raises(ValidationError):
        MazeParams.model_validate({"wall_density": 0.3, "min_pth": 5})
