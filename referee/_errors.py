"""Errors the referee raises; each reaches the caller as an MCP tool error in these words.

    CollabgapError
    └── RefereeError
        ├── AuthorizationError   missing token, or a token that does not open this tool or game
        ├── UnknownGameError     no game with that id (or it was forgotten)
        └── GameOverError        the game has ended; its state no longer changes
"""

from __future__ import annotations

from collabgap.protocol import CollabgapError


class RefereeError(CollabgapError):
    """The referee cannot carry out a tool call; state is unchanged."""


class AuthorizationError(RefereeError):
    """The bearer token is missing or does not open this tool or game."""


class UnknownGameError(RefereeError):
    """No game has this id."""


class GameOverError(RefereeError):
    """The game has ended, so votes no longer count."""
