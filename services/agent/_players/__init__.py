"""Built-in players, registered by name; importing this package registers them all."""

from __future__ import annotations

from ._base import PLAYERS, Player, PlayerFactory, player
from ._cartographer import Cartographer
from ._follower import Follower

__all__ = ["PLAYERS", "Cartographer", "Follower", "Player", "PlayerFactory", "player"]
