"""Scores from the true maze (DESIGN §2): the paper's weighted score and binary success."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ._errors import MazeError
from ._maze import Cell, Direction, Maze, step


def weighted_score(maze: Maze, last_valid: Cell) -> float:
    """Score partial progress as the paper does, so our tables compare with its tables.

    `1 - d(last_valid, goal) / d(start, goal)` with BFS distances: 1.0 at the goal, 0.0 without progress,
    negative when the walk ended farther from the goal than it began; never clamped.
    """
    start_gap = maze.optimal_length
    if not start_gap:
        raise MazeError("an unsolvable maze has no weighted score")
    remaining = maze.goal_distances.get(last_valid)
    if remaining is None:
        raise MazeError(f"cell {last_valid} cannot reach the goal, so it was never reached by a valid walk")
    return 1.0 - remaining / start_gap


@dataclass(frozen=True)
class Walk:
    """Where a sequence of moves leads on the true maze."""

    last_valid: Cell
    """The last cell reached before the first invalid step (or the end)."""
    valid_moves: int
    """Moves made before stopping."""
    invalid_step: bool
    """A move went into a wall or off the grid."""

    def success(self, maze: Maze) -> bool:
        """Binary success: the goal was reached with no invalid step."""
        return self.last_valid == maze.goal and not self.invalid_step


def walk(maze: Maze, moves: Iterable[Direction]) -> Walk:
    """Follow `moves` from the start, stopping at the goal or at the first invalid step."""
    cell, count = maze.start, 0
    for direction in moves:
        if cell == maze.goal:
            break
        nxt = step(cell, direction)
        if not maze.is_open(nxt):
            return Walk(cell, count, invalid_step=True)
        cell, count = nxt, count + 1
    return Walk(cell, count, invalid_step=False)
