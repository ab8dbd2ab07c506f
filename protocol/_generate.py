"""Seeded maze generation (DESIGN §2): the same parameters and seed always give the same maze."""

from __future__ import annotations

import hashlib
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._errors import MazeError
from ._maze import GOAL, OPEN, START, WALL, Cell, Maze, distances_from

StartPlacement = Literal["top-left", "top-right", "bottom-left", "bottom-right", "random"]
GoalPlacement = Literal["any", "bottom-right"]
MAX_DRAWS = 10_000


def _default_path_range(size: int, start: StartPlacement, goal: GoalPlacement) -> tuple[int, int]:
    """The route lengths a maze allows unless set: `size + 1` to `2 * size` moves.

    6×6 gives 7–12: the paper's 7–9 and its printed 6×6 maze (10 moves, goal in the corner) both fit. With the
    bottom-right goal and a corner start, the minimum drops to the block's distance from the start where that is
    shorter (`size - 2` from top-right or bottom-left), so a maze without walls still has a goal.
    """
    low, high = size + 1, 2 * size
    if goal == "bottom-right" and start != "random":
        low = min(low, _nearest_block_distance(size, start))
    return low, high


class MazeParams(BaseModel):
    """What a generated maze is made from; with `seed`, it fixes the maze exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int = Field(6, ge=3, le=30)
    """Rows and columns."""
    wall_density: float = Field(0.30, ge=0.0, le=0.8)
    """Probability that a cell other than start and goal is a wall."""
    start: StartPlacement = "top-left"
    """Where `@` stands."""
    goal: GoalPlacement = "bottom-right"
    """Where `*` may stand: any open cell, or the bottom-right 2×2 block (as in the paper's printed mazes)."""
    min_path: int | None = Field(None, ge=1)
    """Shortest allowed optimal route, in moves; None: derived from the size (`path_range`)."""
    max_path: int | None = Field(None, ge=1)
    """Longest allowed optimal route, in moves; None: derived from the size (`path_range`)."""
    seed: int = 0
    """Seed of the random stream; unsolvable draws are redrawn from the same stream."""

    @model_validator(mode="after")
    def _fits_some_maze(self) -> MazeParams:
        low, high = self.path_range
        if low > high:
            raise ValueError(
                f"min_path {low}{self._origin('min_path')} exceeds max_path {high}{self._origin('max_path')}"
            )
        if low > self.size * self.size - 1:
            raise ValueError(f"no {self.size}x{self.size} maze has a route of {low} moves")
        if self.goal == "bottom-right":
            if self.start == "bottom-right":
                raise ValueError(
                    "start 'bottom-right' lies in the goal's bottom-right block: choose another start or goal 'any'"
                )
            if self.start != "random" and high < (nearest := _nearest_block_distance(self.size, self.start)):
                raise ValueError(
                    f"max_path {high}{self._origin('max_path')} is too short: from the {self.start} start, "
                    f"the bottom-right 2x2 block is at least {nearest} moves away"
                )
        return self

    def _origin(self, name: str) -> str:
        return f" (the default for size {self.size})" if getattr(self, name) is None else ""

    @property
    def path_range(self) -> tuple[int, int]:
        """`(min_path, max_path)`, with the size's defaults for those left unset."""
        low, high = _default_path_range(self.size, self.start, self.goal)
        return (low if self.min_path is None else self.min_path), (high if self.max_path is None else self.max_path)

    @property
    def maze_id(self) -> str:
        """A stable id derived from the parameters and seed."""
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]
        return f"m{self.size}-{self.seed}-{digest}"


def _corners(size: int) -> dict[str, Cell]:
    last = size - 1
    return {"top-left": (0, 0), "top-right": (0, last), "bottom-left": (last, 0), "bottom-right": (last, last)}


def _goal_block(size: int) -> frozenset[Cell]:
    return frozenset((r, c) for r in (size - 2, size - 1) for c in (size - 2, size - 1))


def _nearest_block_distance(size: int, start: str) -> int:
    row, col = _corners(size)[start]
    return min(abs(row - r) + abs(col - c) for r, c in _goal_block(size))


def _start_cell(rng: random.Random, size: int, placement: StartPlacement) -> Cell:
    if placement == "random":
        return rng.randrange(size), rng.randrange(size)
    return _corners(size)[placement]


def generate_maze(params: MazeParams) -> Maze:
    """Draw walls, then a goal whose BFS distance from the start lies in `params.path_range`.

    With `goal="bottom-right"` the goal is drawn only from the bottom-right 2×2 block; the draws are the same.

    Raises:
        MazeError: no such maze was found in `MAX_DRAWS` draws (the parameters are too strict).
    """
    rng = random.Random(params.seed)
    size = params.size
    low, high = params.path_range
    allowed = _goal_block(size) if params.goal == "bottom-right" else None
    for _ in range(MAX_DRAWS):
        start = _start_cell(rng, size, params.start)
        grid = [[WALL if rng.random() < params.wall_density else OPEN for _ in range(size)] for _ in range(size)]
        grid[start[0]][start[1]] = START
        reach = distances_from(["".join(row) for row in grid], start, passable=START + OPEN)
        candidates = sorted(
            cell for cell, d in reach.items() if low <= d <= high and (allowed is None or cell in allowed)
        )
        if not candidates:
            continue
        goal = rng.choice(candidates)
        grid[goal[0]][goal[1]] = GOAL
        # The goal cell was open, so the BFS distances that chose it still hold.
        return Maze(tuple("".join(row) for row in grid))
    where = " to the bottom-right 2x2 block" if allowed is not None else ""
    raise MazeError(
        f"no {size}x{size} maze with wall density {params.wall_density} has a route of "
        f"{low}-{high} moves{where}; loosen the parameters"
    )
