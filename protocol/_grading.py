"""Paper mode: score a route a grader extracted from free dialogue under every coordinate convention (DESIGN §3.1).

The paper's grader guessed one convention and sometimes guessed wrong; we try them all and keep the most
favourable, so a team is never penalised for how it named cells, only for where it went.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

from ._errors import DirectionError, MazeError
from ._maze import Cell, Direction, Maze, direction_between
from ._scoring import Walk, walk, weighted_score

Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
Order = Literal["row-col", "col-row"]
_CELL_FORMS = (
    re.compile(r"^\W*r(?:ow)?\s*(?P<a>-?\d+)\s*[,;]?\s*c(?:ol(?:umn)?)?\s*(?P<b>-?\d+)\W*$", re.IGNORECASE),  # r2c3
    re.compile(r"^\W*(?P<a>-?\d+|[A-Za-z])\s*[,;\s]\s*(?P<b>-?\d+|[A-Za-z])\W*$"),  # 2, 1 / A, B / A, 1 / 1, A
    re.compile(r"^\W*(?P<a>[A-Za-z])\s*-?\s*(?P<b>\d+)\W*$"),  # B1
    re.compile(r"^\W*(?P<a>\d+)\s*-?\s*(?P<b>[A-Za-z])\W*$"),  # 1B
)
"""The notations of a cell: numbers, letters or both (a letter counts from 1: A = 1), or `rXcY`."""


@dataclass(frozen=True)
class Convention:
    """How coordinates name cells: origin 0 or 1, the corner that is (origin, origin), and the order."""

    origin: int
    corner: Corner
    order: Order

    def cell(self, first: int, second: int, size: int) -> Cell:
        row, col = (first, second) if self.order == "row-col" else (second, first)
        row, col = row - self.origin, col - self.origin
        if self.corner in ("bottom-left", "bottom-right"):
            row = size - 1 - row
        if self.corner in ("top-right", "bottom-right"):
            col = size - 1 - col
        return row, col

    def __str__(self) -> str:
        return f"origin {self.origin}, {self.corner}, {self.order}"


CORNERS: tuple[Corner, ...] = ("top-left", "top-right", "bottom-left", "bottom-right")
ORDERS: tuple[Order, ...] = ("row-col", "col-row")
CONVENTIONS = tuple(Convention(o, c, r) for o, c, r in itertools.product((0, 1), CORNERS, ORDERS))


@dataclass(frozen=True)
class GradedRoute:
    """The most favourable reading of a route."""

    convention: str
    """`directions`, or the coordinate convention that scored best."""
    moves: tuple[Direction, ...]
    """The route as moves, up to and including the first invalid one."""
    walk: Walk
    weighted: float


def _number(token: str) -> int:
    return ord(token.lower()) - ord("a") + 1 if token.isalpha() else int(token)


def _pairs(entries: list[str]) -> list[tuple[int, int]] | None:
    pairs = []
    for entry in entries:
        match = next((m for form in _CELL_FORMS if (m := form.match(entry))), None)
        if match is None:
            return None
        pairs.append((_number(match["a"]), _number(match["b"])))
    return pairs


def _moves_through(maze: Maze, cells: list[Cell]) -> list[Direction]:
    """Moves along consecutive cells, stopping at the first step that is not to an adjacent cell."""
    moves: list[Direction] = []
    here = maze.start
    for cell in cells:
        if cell == here:
            continue  # a route may name the start, or the same cell twice in a row
        try:
            direction = direction_between(here, cell)
        except MazeError:
            break
        moves.append(direction)
        here = cell
    return moves


def _graded(maze: Maze, convention: str, moves: list[Direction]) -> GradedRoute:
    result = walk(maze, moves)
    taken = tuple(moves[: result.valid_moves + (1 if result.invalid_step else 0)])
    return GradedRoute(convention, taken, result, weighted_score(maze, result.last_valid))


def grade_route(maze: Maze, entries: list[str]) -> GradedRoute:
    """Read `entries` as directions, or as cells under every convention, and keep the best-scoring reading.

    Cells are numbers, letters (A = 1) or both, or `rXcY`. Each reading walks from the start and stops at the
    first invalid step; a cell named again right after itself is one cell, and a route that jumps (non-adjacent
    cells) ends where the jump begins. An empty or unreadable route scores as no progress.
    """
    try:
        return _graded(maze, "directions", [Direction.parse(entry) for entry in entries])
    except DirectionError:
        pass
    pairs = _pairs(entries) or []
    readings = [_graded(maze, str(c), _moves_through(maze, [c.cell(a, b, maze.size) for a, b in pairs]))
                for c in CONVENTIONS]
    return max(readings, key=lambda r: (r.walk.success(maze), r.weighted))
