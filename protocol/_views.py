"""Splitting a maze into partial views, and putting views back together (DESIGN §2)."""

from __future__ import annotations

import random

from ._errors import MazeError
from ._maze import GOAL, HIDDEN, START, Maze

View = tuple[str, ...]
"""A map as rows, with `?` where this view hides a cell."""


def split_views(maze: Maze, seed: int, *, parts: int = 2, overlap: float = 0.0) -> tuple[View, ...]:
    """Give each non-start/goal cell to one view chosen by a fair draw; the others show `?`.

    `overlap` is the probability that a cell is shown to every view instead. Every view shows `@` and `*`.
    The same maze and seed always give the same views.
    """
    if parts < 2:
        raise MazeError(f"a split needs at least 2 views, got {parts}")
    if not 0.0 <= overlap <= 1.0:
        raise MazeError(f"overlap is a fraction in [0, 1], got {overlap}")
    rng = random.Random(f"split:{seed}:{parts}:{overlap}")
    grids = [[list(row) for row in maze.rows] for _ in range(parts)]
    for r, row in enumerate(maze.rows):
        for c, symbol in enumerate(row):
            if symbol in (START, GOAL):
                continue
            shared = overlap > 0 and rng.random() < overlap
            owner = rng.randrange(parts)
            for index, grid in enumerate(grids):
                if not shared and index != owner:
                    grid[r][c] = HIDDEN
    return tuple(tuple("".join(row) for row in grid) for grid in grids)


def check_views(maze: Maze, views: tuple[View, ...] | list[list[str]]) -> tuple[View, ...]:
    """Check that every view is the maze with some cells hidden, and shows `@` and `*`.

    Raises:
        MazeError: a view has the wrong shape, contradicts the maze, or hides start or goal.
    """
    checked: list[View] = []
    for index, view in enumerate(views):
        rows = tuple(row.strip() for row in view)
        if len(rows) != maze.size or any(len(row) != maze.size for row in rows):
            raise MazeError(f"view {index} is not {maze.size}x{maze.size}")
        for r, (seen, truth) in enumerate(zip(rows, maze.rows)):
            for c, (a, b) in enumerate(zip(seen, truth)):
                if a != b and (a != HIDDEN or b in (START, GOAL)):
                    raise MazeError(f"view {index} shows {a!r} at ({r}, {c}) where the maze has {b!r}")
        checked.append(rows)
    return tuple(checked)


def merge_views(views: list[View] | tuple[View, ...]) -> View:
    """Overlay views: a cell is known when any view shows it, `?` otherwise."""
    if not views:
        raise MazeError("nothing to merge")
    size = len(views[0])
    if any(len(view) != size or any(len(row) != size for row in view) for view in views):
        raise MazeError(f"views to merge must all be {size}x{size}")
    merged = []
    for r in range(size):
        row = []
        for c in range(size):
            known = [view[r][c] for view in views if view[r][c] != HIDDEN]
            row.append(known[0] if known else HIDDEN)
        merged.append("".join(row))
    return tuple(merged)
