"""The referee: an MCP server that owns the true mazes, mints seat tokens and applies agreed moves."""

from __future__ import annotations

from ._app import RefereeSettings, build_referee, create_referee_app
from ._errors import AuthorizationError, GameOverError, RefereeError, UnknownGameError
from ._games import Game, GameRegistry

__all__ = [
    "AuthorizationError", "Game", "GameOverError", "GameRegistry", "RefereeError", "RefereeSettings",
    "UnknownGameError", "build_referee", "create_referee_app",
]
