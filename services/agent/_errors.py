"""Errors of the agent service.

    CollabgapError
    └── AgentServiceError
        └── PlayerSpecError   a `--player` spec that names no known player
"""

from __future__ import annotations

from protocol import CollabgapError


class AgentServiceError(CollabgapError):
    """The agent service cannot start or serve as configured."""


class PlayerSpecError(AgentServiceError):
    """A player spec names no known player."""
