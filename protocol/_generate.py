"""Seeded maze generation (DESIGN §2): the same parameters and seed always give the same maze."""

from __future__ import annotations

import hashlib
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._errors import MazeError
from ._maze import GOAL, OPEN, START, WALL, Cell, Maze, distances_from

StartPlacement = Literal["top-left", "top-right", "bottom-left", "bottom-right", "random"]
MAX_DRAWS = 10_000


class MazeParams(BaseModel):
    """What a generated maze is made from; with `seed`, it fixes the maze exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int = Field(6, ge=3, le=30)
    """Rows and columns."""
    wall_density: float = Field(0.30, ge=0.0, le=0.8)
    """Probability that a cell other than start and goal is a wall."""
    start: StartPlacement = "top-left"
    """Where `@` stands."""
    min_path: int = Field(7, ge=1)
    """Shortest allowed optimal route, in moves."""
    max_path: int = Field(9, ge=1)
    """Longest allowed optimal route, in moves."""
    seed: int = 0
    """Seed of the random stream; unsolvable draws are redrawn from the same stream."""

    @model_validator(mode="after")
    def _path_range_fits(self) -> MazeParams:
        if self.min_path > self.max_path:
            raise ValueError(f"min_path {self.min_path} exceeds max_path {self.max_path}")
        if self.min_path > self.size * self.size - 1:
            raise ValueError(f"no {self.size}x{self.size} maze has a route of {self.min_path} moves")
        return self

    @property
    def maze_id(self) -> str:
        """A stable id derived from the parameters and seed."""
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]
        return f"m{self.size}-{self.seed}-{digest}"


def _start_cell(rng: random.Random, size: int, placement: StartPlacement) -> Cell:
    last = size - 1
    corners: dict[str, Cell] = {
        "top-left": (0, 0), "top-right": (0, last), "bottom-left": (last, 0), "bottom-right": (last, last),
    }
    if placement == "random":
        return rng.randrange(size), rng.randrange(size)
    return corners[placement]


def generate_maze(params: MazeParams) -> Maze:
    """Draw walls, then a goal whose BFS distance from the start lies in `[min_path, max_path]`.

    Raises:
        MazeError: no such maze was found in `MAX_DRAWS` draws (the parameters are too strict).
    """
    rng = random.Random(params.seed)
    size = params.size
    for _ in range(MAX_DRAWS):
        start = _start_cell(rng, size, params.start)
        grid = [[WALL if rng.random() < params.wall_density else OPEN for _ in range(size)] for _ in range(size)]
        grid[start[0]][start[1]] = START
        reach = distances_from(["".join(row) for row in grid], start, passable=START + OPEN)
        candidates = sorted(cell for cell, d in reach.items() if params.min_path <= d <= params.max_path)
        if not candidates:
            continue
        goal = rng.choice(candidates)
        grid[goal[0]][goal[1]] = GOAL
        # The goal cell was open, so the BFS distances that chose it still hold.
        return Maze(tuple("".join(row) for row in grid))
    raise MazeError(
        f"no {size}x{size} maze with wall density {params.wall_density} has a route of "
        f"{params.min_path}-{params.max_path} moves; loosen the parameters"
    )
