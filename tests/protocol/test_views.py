"""Splitting a maze into partial views and putting them back together (DESIGN.md §2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgap.protocol import (
    GOAL,
    HIDDEN,
    OPEN,
    START,
    WALL,
    Cell,
    Maze,
    MazeError,
    View,
    check_views,
    merge_views,
    split_views,
)

PROTOCOL = settings.get_profile("protocol")


@st.composite
def mazes(draw: st.DrawFn) -> Maze:
    """Any well-formed maze, solvable or not: a grid of `.`/`#` with one `@` and one `*` on distinct cells."""
    size = draw(st.integers(3, 10))
    grid = [[draw(st.sampled_from((OPEN, WALL))) for _ in range(size)] for _ in range(size)]
    cells = [(r, c) for r in range(size) for c in range(size)]
    start, goal = draw(st.lists(st.sampled_from(cells), min_size=2, max_size=2, unique=True))
    grid[start[0]][start[1]] = START
    grid[goal[0]][goal[1]] = GOAL
    return Maze(tuple("".join(row) for row in grid))


def _cells(maze: Maze) -> list[Cell]:
    return [(r, c) for r in range(maze.size) for c in range(maze.size)]


def _shown_in(views: tuple[View, ...], cell: Cell) -> int:
    return sum(view[cell[0]][cell[1]] != HIDDEN for view in views)


def _with(view: View, cell: Cell, symbol: str) -> View:
    rows = [list(row) for row in view]
    rows[cell[0]][cell[1]] = symbol
    return tuple("".join(row) for row in rows)


@settings(PROTOCOL, max_examples=100)
@given(mazes(), st.integers(), st.integers(2, 6))
def test_split_without_overlap_shows_every_cell_in_exactly_one_view(maze: Maze, seed: int, parts: int) -> None:
    """Each non-start/goal cell goes to exactly one view; `@` and `*` are in all of them (DESIGN.md §2)."""
    views = split_views(maze, seed, parts=parts)
    assert len(views) == parts
    for cell in _cells(maze):
        assert _shown_in(views, cell) == (parts if cell in (maze.start, maze.goal) else 1), cell


@settings(PROTOCOL, max_examples=100)
@given(mazes(), st.integers(), st.integers(2, 6), st.floats(0.0, 1.0))
def test_views_are_the_maze_with_cells_hidden_and_merge_back_into_it(
    maze: Maze, seed: int, parts: int, overlap: float
) -> None:
    """Every view passes the view check, and their union is the maze (DESIGN.md §2)."""
    views = split_views(maze, seed, parts=parts, overlap=overlap)
    assert check_views(maze, views) == views
    assert merge_views(views) == maze.rows
    for view in views:
        assert view[maze.start[0]][maze.start[1]] == START
        assert view[maze.goal[0]][maze.goal[1]] == GOAL


@settings(PROTOCOL, max_examples=50)
@given(mazes(), st.integers(), st.integers(2, 6))
def test_full_overlap_shows_every_cell_in_every_view(maze: Maze, seed: int, parts: int) -> None:
    """With overlap 1.0 every cell is shared, so each view is the whole maze (DESIGN.md §2)."""
    assert split_views(maze, seed, parts=parts, overlap=1.0) == (maze.rows,) * parts


@settings(PROTOCOL, max_examples=50)
@given(mazes(), st.integers(), st.floats(0.0, 1.0))
def test_split_is_reproducible_from_its_seed(maze: Maze, seed: int, overlap: float) -> None:
    """The same maze and seed always give the same views (DESIGN.md §2)."""
    assert split_views(maze, seed, overlap=overlap) == split_views(maze, seed, overlap=overlap)


@pytest.mark.parametrize("seed", range(5))
def test_two_way_split_is_a_fair_coin(seed: int) -> None:
    """A fair coin decides each cell's view, so on a 30×30 maze each view holds about half (DESIGN.md §2)."""
    maze = Maze.parse(["@" + "." * 29, *["." * 30] * 28, "." * 29 + "*"])
    first, _ = split_views(maze, seed)
    shown = sum(row.count(OPEN) for row in first)
    assert 0.4 < shown / (30 * 30 - 2) < 0.6


def test_overlap_shares_about_that_fraction_of_cells() -> None:
    """`overlap` is the fraction of cells shown to every view (DESIGN.md §2)."""
    maze = Maze.parse(["@" + "." * 29, *["." * 30] * 28, "." * 29 + "*"])
    views = split_views(maze, 7, parts=3, overlap=0.25)
    shared = sum(_shown_in(views, cell) == 3 for cell in _cells(maze)) - 2
    assert all(_shown_in(views, cell) in (1, 3) for cell in _cells(maze))
    assert 0.18 < shared / (30 * 30 - 2) < 0.32


@pytest.mark.parametrize(("parts", "overlap"), [(1, 0.0), (0, 0.0), (2, -0.1), (2, 1.5)])
def test_split_rejects_fewer_than_two_views_or_an_overlap_outside_0_1(parts: int, overlap: float) -> None:
    """A split has at least two views and an overlap fraction in [0, 1] (DESIGN.md §2)."""
    maze = Maze.parse(["@..", "...", "..*"])
    with pytest.raises(MazeError):
        split_views(maze, 0, parts=parts, overlap=overlap)


@settings(PROTOCOL, max_examples=100)
@given(mazes(), st.integers(), st.data())
def test_view_check_rejects_a_view_that_contradicts_the_maze(maze: Maze, seed: int, data: st.DataObject) -> None:
    """A view may hide cells but never show a symbol the maze does not have there (DESIGN.md §2)."""
    views = split_views(maze, seed)
    index = data.draw(st.sampled_from((0, 1)), label="view")
    cell = data.draw(st.sampled_from(_cells(maze)), label="cell")
    truth = maze.symbol(cell)
    lie = data.draw(st.sampled_from([s for s in (START, GOAL, OPEN, WALL) if s != truth]), label="lie")
    tampered = list(views)
    tampered[index] = _with(views[index], cell, lie)
    with pytest.raises(MazeError, match=f"view {index} shows"):
        check_views(maze, tuple(tampered))


@pytest.mark.parametrize("symbol", [START, GOAL])
@settings(PROTOCOL, max_examples=30)
@given(maze=mazes(), seed=st.integers(), index=st.sampled_from((0, 1)))
def test_view_check_rejects_a_view_that_hides_start_or_goal(maze: Maze, seed: int, index: int, symbol: str) -> None:
    """Both views show `@` and `*` (DESIGN.md §2)."""
    views = list(split_views(maze, seed))
    views[index] = _with(views[index], maze.start if symbol == START else maze.goal, HIDDEN)
    with pytest.raises(MazeError, match=f"view {index} shows '\\?'"):
        check_views(maze, tuple(views))


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(("@?#???", "..????", ".?.??#", "?#?.??", ".#..?."), id="missing-row"),
        pytest.param(("@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*", "??????"), id="extra-row"),
        pytest.param(("@?#??", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"), id="short-row"),
    ],
)
def test_view_check_rejects_a_view_of_the_wrong_shape(view: View) -> None:
    """A view has the maze's N lines of N symbols (DESIGN.md §2)."""
    maze = Maze.parse(["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"])
    with pytest.raises(MazeError, match="is not 6x6"):
        check_views(maze, (view,))


def test_merging_no_views_is_an_error() -> None:
    """There is nothing to merge without a view (DESIGN.md §2)."""
    with pytest.raises(MazeError):
        merge_views([])


def test_merging_one_view_keeps_its_hidden_cells_hidden() -> None:
    """A cell no view shows stays `?` in the merge (DESIGN.md §2)."""
    view = ("@?#", "?.?", "#?*")
    assert merge_views([view]) == view
