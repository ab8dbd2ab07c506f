"""The A2A agent service: hosts one player and serves many games at once, one context per game and seat. Its
public `scripted` subpackage holds the scripted players' speech, which the fake LLM vendor's models speak too."""

from __future__ import annotations

from collabgap.services.shared import RefereeUnavailableError, RetryPolicy

from ._app import SKILL_ID, AgentSettings, build_card, create_agent_app, resolve_player
from ._errors import AgentServiceError, NoReplyError, PlayerSpecError
from ._executor import SeatExecutor
from ._human import HumanPlayer, HumanSettings
from ._human_pages import create_human_app
from ._player_spec import HUMAN_PLAYER, canonical_player, parse_player
from ._players import (
    PLAYERS,
    LLMPlayer,
    Player,
    PlayerFactory,
    PlayerReply,
    ScriptedPlayer,
    player,
)
from ._vendors import VendorError, VendorSpec

__all__ = [
    "AgentServiceError", "AgentSettings", "HUMAN_PLAYER", "HumanPlayer", "HumanSettings", "LLMPlayer", "NoReplyError",
    "PLAYERS", "Player", "PlayerFactory", "PlayerReply",
    "PlayerSpecError", "RefereeUnavailableError", "RetryPolicy", "SKILL_ID", "ScriptedPlayer", "SeatExecutor",
    "VendorError", "VendorSpec", "build_card", "canonical_player", "create_agent_app", "create_human_app",
    "parse_player", "player",
    "resolve_player",
]
