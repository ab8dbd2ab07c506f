"""Mazes, directions and routes on the paper's reference mazes (DESIGN.md §2)."""

from __future__ import annotations

import pytest

from collabgap.protocol import (
    Direction,
    DirectionError,
    Maze,
    MazeError,
    View,
    check_views,
    merge_views,
    replay_moves,
    shortest_route,
    walk,
)

PAPER_MAZE_6 = Maze.parse(["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"])
PAPER_VIEWS_6: tuple[View, View] = (
    ("@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"),
    ("@.?..#", "??##..", "?#?..?", ".?#?..", "????#?", "..???*"),
)
PAPER_MAZE_5 = Maze.parse(["@....", "....#", "##...", "#....", ".###*"])
PAPER_VIEWS_5: tuple[View, View] = (
    ("@.???", ".?..?", "#???.", "?...?", ".??#*"),
    ("@?...", "?.??#", "?#..?", "#???.", "?##?*"),
)

REFERENCE = pytest.mark.parametrize(
    ("maze", "views", "walls", "optimal"),
    [
        pytest.param(PAPER_MAZE_6, PAPER_VIEWS_6, 10, 10, id="6x6"),
        pytest.param(PAPER_MAZE_5, PAPER_VIEWS_5, 7, 8, id="5x5"),
    ],
)


@REFERENCE
def test_reference_maze_has_the_papers_walls_and_optimal_length(
    maze: Maze, views: tuple[View, View], walls: int, optimal: int
) -> None:
    """The reference mazes have the wall count and optimal route length the paper reports (DESIGN.md §2)."""
    assert maze.walls == walls
    assert maze.optimal_length == optimal
    assert maze.start == (0, 0)
    assert maze.goal == (maze.size - 1, maze.size - 1)


@REFERENCE
def test_reference_views_pass_the_view_check(maze: Maze, views: tuple[View, View], walls: int, optimal: int) -> None:
    """The paper's two views are the maze with cells hidden, and both show start and goal (DESIGN.md §2)."""
    assert check_views(maze, views) == views


@REFERENCE
def test_merging_the_reference_views_gives_back_the_maze(
    maze: Maze, views: tuple[View, View], walls: int, optimal: int
) -> None:
    """Every non-start/goal cell is visible in one of the two views, so together they are the maze (DESIGN.md §2)."""
    assert merge_views(views) == maze.rows


@REFERENCE
def test_reference_views_are_complementary(maze: Maze, views: tuple[View, View], walls: int, optimal: int) -> None:
    """Every non-start/goal cell is visible in exactly one view of the paper's split (DESIGN.md §2)."""
    for r in range(maze.size):
        for c in range(maze.size):
            shown = sum(view[r][c] != "?" for view in views)
            assert shown == (2 if (r, c) in (maze.start, maze.goal) else 1), (r, c)


@REFERENCE
def test_shortest_route_has_optimal_length_and_reaches_the_goal(
    maze: Maze, views: tuple[View, View], walls: int, optimal: int
) -> None:
    """A BFS shortest route is `optimal_length` moves and walking it reaches the goal (DESIGN.md §2)."""
    route = shortest_route(maze.rows, maze.start, maze.goal)
    assert route is not None
    assert len(route) == optimal
    result = walk(maze, route)
    assert result.last_valid == maze.goal
    assert result.valid_moves == optimal
    assert not result.invalid_step
    assert result.success(maze)


def test_shortest_route_is_none_when_the_goal_is_walled_off() -> None:
    """An unsolvable maze has no route and no optimal length (DESIGN.md §2)."""
    maze = Maze.parse(["@.#", "..#", "##*"])
    assert shortest_route(maze.rows, maze.start, maze.goal) is None
    assert maze.optimal_length is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("up", Direction.UP), ("down", Direction.DOWN), ("left", Direction.LEFT), ("right", Direction.RIGHT),
        ("u", Direction.UP), ("d", Direction.DOWN), ("l", Direction.LEFT), ("r", Direction.RIGHT),
        ("north", Direction.UP), ("south", Direction.DOWN), ("west", Direction.LEFT), ("east", Direction.RIGHT),
        ("UP", Direction.UP), ("Down", Direction.DOWN), ("L", Direction.LEFT), ("rIgHt", Direction.RIGHT),
        ("NORTH", Direction.UP), ("South", Direction.DOWN), ("WeSt", Direction.LEFT), ("EAST", Direction.RIGHT),
        ("  left  ", Direction.LEFT),
    ],
)
def test_direction_parse_accepts_names_letters_and_compass_points(text: str, expected: Direction) -> None:
    """Directions are up/down/left/right, also u/d/l/r and north/south/west/east, any case (DESIGN.md §2)."""
    assert Direction.parse(text) is expected


@pytest.mark.parametrize("text", ["", "   ", "upward", "forward", "back", "down left", "x", "0", "up-right", "↑"])
def test_direction_parse_rejects_anything_else(text: str) -> None:
    """A text naming no direction raises DirectionError, a ValueError (DESIGN.md §2)."""
    with pytest.raises(DirectionError):
        Direction.parse(text)


def test_direction_error_is_a_value_error() -> None:
    """DirectionError belongs to the ValueError family so callers may catch either (DESIGN.md §2)."""
    with pytest.raises(ValueError, match="unknown direction"):
        Direction.parse("sideways")


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(["@..", "...", "..*."], id="row-too-long"),
        pytest.param(["@..", "..", "..*"], id="row-too-short"),
        pytest.param(["@.@", "...", "..*"], id="two-starts"),
        pytest.param(["*..", "...", "..*", ], id="no-start"),
        pytest.param(["@..", "...", "..."], id="no-goal"),
        pytest.param(["@..", "...", ".**"], id="two-goals"),
        pytest.param(["@..", ".x.", "..*"], id="unknown-symbol"),
        pytest.param(["@..", ".?.", "..*"], id="hidden-symbol-in-a-maze"),
        pytest.param(["@ .", "...", "..*"], id="inner-space"),
        pytest.param(["@*", ".."], id="size-2"),
        pytest.param(["@" + "." * 30, *["." * 31] * 29, "." * 30 + "*"], id="size-31"),
        pytest.param([], id="empty"),
    ],
)
def test_maze_parse_rejects_malformed_grids(rows: list[str]) -> None:
    """A maze is N×N (3–30) of `@ * . #` with exactly one start and one goal (DESIGN.md §2)."""
    with pytest.raises(MazeError):
        Maze.parse(rows)


@pytest.mark.parametrize("size", [3, 30])
def test_maze_parse_accepts_the_smallest_and_largest_sizes(size: int) -> None:
    """Grid sizes run from 3 to 30 inclusive (DESIGN.md §2)."""
    rows = ["@" + "." * (size - 1), *["." * size] * (size - 2), "." * (size - 1) + "*"]
    maze = Maze.parse(rows)
    assert maze.size == size
    assert maze.optimal_length == 2 * (size - 1)


def test_maze_parse_strips_surrounding_whitespace() -> None:
    """Rows pasted with indentation or trailing blanks still read as the maze (DESIGN.md §2)."""
    maze = Maze.parse(["  @.#..#", "..##..  ", "\t.#...#", ".##...", ".#..#.", ".....*\n"])
    assert maze == PAPER_MAZE_6


def test_replay_moves_walks_from_the_start_and_stops_at_the_first_bad_move() -> None:
    maze = Maze.parse(["@.#", "..#", "#.*"])
    moves = replay_moves(maze, [Direction.RIGHT, Direction.RIGHT, Direction.DOWN])
    assert [(m.source, m.target, m.valid) for m in moves] == [((0, 0), (0, 1), True), ((0, 1), (0, 2), False)]
    assert replay_moves(maze, []) == []
