"""Paper mode: a grader's route scored under every convention (DESIGN §3.1; issue 9)."""

from __future__ import annotations

import pytest

from collabgap.protocol import Maze, grade_route

PAPER_MAZE_6 = Maze.parse(["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"])
OPTIMAL = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5)]
"""The 6x6 maze's shortest route as 0-based (row, column) cells, start included."""


@pytest.mark.parametrize(("notation", "name"), [
    ("number_number", lambda r, c: f"({r}, {c})"),
    ("letter_letter", lambda r, c: f"({chr(65 + r)}, {chr(65 + c)})"),
    ("letter_number", lambda r, c: f"{chr(65 + c)}{r + 1}"),
    ("number_letter", lambda r, c: f"({r + 1}, {chr(65 + c)})"),
    ("rXcY", lambda r, c: f"r{r + 1}c{c + 1}"),
])
def test_every_notation_the_paper_lists_reads_the_optimal_route(notation: str, name: object) -> None:
    assert callable(name)
    graded = grade_route(PAPER_MAZE_6, [name(r, c) for r, c in OPTIMAL])
    assert graded.weighted == 1.0 and graded.walk.success(PAPER_MAZE_6), notation


def test_a_cell_named_twice_in_a_row_counts_once() -> None:
    """Issue 9: a repeated cell used to end the route there (w = 0.25 instead of 1.0)."""
    repeated = [OPTIMAL[0], *OPTIMAL[:4], OPTIMAL[3], *OPTIMAL[4:], OPTIMAL[-1]]
    graded = grade_route(PAPER_MAZE_6, [f"{r}, {c}" for r, c in repeated])
    assert graded.weighted == 1.0 and len(graded.moves) == 10


def test_a_route_still_stops_where_it_jumps() -> None:
    jumping = [OPTIMAL[0], OPTIMAL[1], OPTIMAL[3], *OPTIMAL[4:]]
    graded = grade_route(PAPER_MAZE_6, [f"{r}, {c}" for r, c in jumping])
    assert len(graded.moves) == 1 and graded.weighted == pytest.approx(0.1)
