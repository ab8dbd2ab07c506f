"""The root of collabgap's error tree, and the errors of pure game logic.

    CollabgapError
    ├── MazeError            a maze, view or generation parameter that cannot be used
    ├── DirectionError       a direction that names none of up/down/left/right
    └── (referee and services add their own subclasses in their `_errors.py`)

Game outcomes (a step into a wall, the message limit, `ACTI!`) are data, never exceptions.
"""

from __future__ import annotations


class CollabgapError(Exception):
    """Something collabgap was asked to do cannot be done; the message says why and what to do."""


class MazeError(CollabgapError, ValueError):
    """A maze, a view or a generation parameter is not usable."""


class DirectionError(CollabgapError, ValueError):
    """A direction is not one of up, down, left, right or their aliases."""
