"""Players, registered by name; importing this package registers the scripted ones."""

from __future__ import annotations

from ._base import PLAYERS, HearsEnd, Player, PlayerFactory, PlayerInput, PlayerReply, player
from ._llm import LLMPlayer, load_system_prompt
from ._scripted import ScriptedGrader, ScriptedPlayer, cartographer, follower, grader

__all__ = ["HearsEnd", "PLAYERS", "LLMPlayer", "Player", "PlayerFactory", "PlayerInput", "PlayerReply",
           "ScriptedGrader", "ScriptedPlayer", "cartographer", "follower", "grader", "load_system_prompt", "player"]
