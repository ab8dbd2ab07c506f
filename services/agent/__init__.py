"""The A2A agent service: hosts one player and serves many games at once, one context per game and seat."""

from __future__ import annotations

from ._app import SKILL_ID, AgentSettings, build_card, create_agent_app, resolve_player
from ._errors import AgentServiceError, PlayerSpecError
from ._executor import SeatExecutor
from ._players import PLAYERS, Cartographer, Follower, Player, PlayerFactory, player

__all__ = sorted([
    "PLAYERS", "SKILL_ID", "AgentServiceError", "AgentSettings", "Cartographer", "Follower", "Player",
    "PlayerFactory", "PlayerSpecError", "SeatExecutor", "build_card", "create_agent_app", "player",
    "resolve_player",
])
