"""Mazes, cells and directions (DESIGN §2): pure values, BFS distances, no I/O."""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property

from ._errors import DirectionError, MazeError

Cell = tuple[int, int]
"""A cell as (row, col), 0-based from the top-left."""

START, GOAL, OPEN, WALL, HIDDEN = "@", "*", ".", "#", "?"
SYMBOLS = frozenset(START + GOAL + OPEN + WALL)
MIN_SIZE, MAX_SIZE = 3, 30


class Direction(enum.Enum):
    """One of the four moves; `parse` accepts the aliases agents use."""

    UP = "up"
    DOWN = "down"
    LEFT = "left"
    RIGHT = "right"

    @property
    def delta(self) -> Cell:
        return _DELTAS[self]

    @classmethod
    def parse(cls, text: str) -> Direction:
        """Read `up`/`u`/`north` etc., case-insensitively.

        Raises:
            DirectionError: the text names no direction.
        """
        key = text.strip().strip(".!,;").lower()
        try:
            return _ALIASES[key]
        except KeyError:
            raise DirectionError(
                f"unknown direction {text[:40]!r}: use up, down, left or right (or u/d/l/r, north/south/west/east)"
            ) from None


_DELTAS: dict[Direction, Cell] = {
    Direction.UP: (-1, 0),
    Direction.DOWN: (1, 0),
    Direction.LEFT: (0, -1),
    Direction.RIGHT: (0, 1),
}
_ALIASES: dict[str, Direction] = {
    **{d.value: d for d in Direction},
    "u": Direction.UP, "d": Direction.DOWN, "l": Direction.LEFT, "r": Direction.RIGHT,
    "north": Direction.UP, "south": Direction.DOWN, "west": Direction.LEFT, "east": Direction.RIGHT,
    "n": Direction.UP, "s": Direction.DOWN, "w": Direction.LEFT, "e": Direction.RIGHT,
}


def step(cell: Cell, direction: Direction) -> Cell:
    """The cell one move away, which may lie off the grid."""
    dr, dc = direction.delta
    return cell[0] + dr, cell[1] + dc


def direction_between(a: Cell, b: Cell) -> Direction:
    """The direction leading from `a` to the adjacent cell `b`."""
    for direction in Direction:
        if step(a, direction) == b:
            return direction
    raise MazeError(f"cells {a} and {b} are not adjacent")


@dataclass(frozen=True)
class Maze:
    """A square grid of `@ * . #`, with exactly one start and one goal.

    Example:
        >>> maze = Maze.parse(["@.#", "..#", "#.*"])
        >>> maze.optimal_length
        4
    """

    rows: tuple[str, ...]
    start: Cell = field(init=False)
    goal: Cell = field(init=False)

    def __post_init__(self) -> None:
        size = len(self.rows)
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise MazeError(f"a maze has {MIN_SIZE} to {MAX_SIZE} rows, got {size}")
        cells: dict[str, list[Cell]] = {START: [], GOAL: []}
        for r, row in enumerate(self.rows):
            if len(row) != size:
                raise MazeError(f"row {r} has {len(row)} cells; a {size}x{size} maze needs {size}")
            for c, symbol in enumerate(row):
                if symbol not in SYMBOLS:
                    raise MazeError(f"cell ({r}, {c}) holds {symbol!r}; a maze uses only @ * . #")
                if symbol in cells:
                    cells[symbol].append((r, c))
        for symbol, found in cells.items():
            if len(found) != 1:
                raise MazeError(f"a maze has exactly one {symbol!r}, found {len(found)}")
        object.__setattr__(self, "start", cells[START][0])
        object.__setattr__(self, "goal", cells[GOAL][0])

    @classmethod
    def parse(cls, rows: list[str] | tuple[str, ...]) -> Maze:
        """Build a maze from its rows, stripping surrounding whitespace."""
        return cls(tuple(row.strip() for row in rows if row.strip()))

    @property
    def size(self) -> int:
        return len(self.rows)

    def symbol(self, cell: Cell) -> str:
        return self.rows[cell[0]][cell[1]]

    def inside(self, cell: Cell) -> bool:
        return 0 <= cell[0] < self.size and 0 <= cell[1] < self.size

    def is_open(self, cell: Cell) -> bool:
        """Inside the grid and not a wall."""
        return self.inside(cell) and self.symbol(cell) != WALL

    def distance(self, a: Cell, b: Cell) -> int | None:
        """Shortest number of moves from `a` to `b`, or None when `b` cannot be reached."""
        table = self.goal_distances if b == self.goal else distances_from(self.rows, b)
        return table.get(a)

    @cached_property
    def goal_distances(self) -> dict[Cell, int]:
        """BFS distance to the goal of every cell that can reach it."""
        return distances_from(self.rows, self.goal)

    @property
    def optimal_length(self) -> int | None:
        """Moves on a shortest route from start to goal; None when the maze is unsolvable."""
        return self.goal_distances.get(self.start)

    @property
    def walls(self) -> int:
        return sum(row.count(WALL) for row in self.rows)

    @property
    def wall_fraction(self) -> float:
        """The realised share of walls among the cells other than start and goal."""
        return self.walls / (self.size * self.size - 2)


def distances_from(rows: tuple[str, ...] | list[str], origin: Cell, passable: str = "@*.") -> dict[Cell, int]:
    """BFS distances from `origin` over cells whose symbol is in `passable`."""
    size = len(rows)
    seen = {origin: 0}
    queue = deque([origin])
    while queue:
        cell = queue.popleft()
        for direction in Direction:
            nxt = step(cell, direction)
            if nxt in seen or not (0 <= nxt[0] < size and 0 <= nxt[1] < len(rows[nxt[0]])):
                continue
            if rows[nxt[0]][nxt[1]] in passable:
                seen[nxt] = seen[cell] + 1
                queue.append(nxt)
    return seen


def shortest_route(rows: tuple[str, ...] | list[str], origin: Cell, target: Cell,
                   passable: str = "@*.") -> list[Direction] | None:
    """A shortest list of moves from `origin` to `target`, ties broken in `Direction` order; None if unreachable.

    Deterministic, so two players planning on the same map choose the same route.
    """
    dist = distances_from(rows, target, passable)
    if origin not in dist:
        return None
    route: list[Direction] = []
    cell = origin
    while cell != target:
        for direction in Direction:
            nxt = step(cell, direction)
            if dist.get(nxt) == dist[cell] - 1:
                route.append(direction)
                cell = nxt
                break
    return route
