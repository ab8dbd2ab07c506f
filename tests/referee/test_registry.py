"""The referee's game registry as a plain object: what it remembers, and what forgetting a game takes with it."""

from __future__ import annotations

import pytest

from collabgap.protocol import Maze, check_views
from collabgap.referee import AuthorizationError, GameRegistry, UnknownGameError

from .test_tools import MAZE_6, VIEW_6_A, VIEW_6_B


def test_the_oldest_game_is_forgotten_with_its_seat_tokens() -> None:
    maze = Maze.parse(MAZE_6)
    views = check_views(maze, [VIEW_6_A, VIEW_6_B])
    registry = GameRegistry("coordinator", max_games=2)
    oldest, *kept = [registry.create(maze, views, "pair", "none", 10) for _ in range(3)]
    with pytest.raises(UnknownGameError):
        registry.get(oldest.game_id)
    for token in oldest.seat_tokens.values():
        with pytest.raises(AuthorizationError):
            registry.for_token(token)
    for game in kept:
        assert {registry.for_token(token)[1] for token in game.seat_tokens.values()} == {"A", "B"}
