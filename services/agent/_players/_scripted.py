"""Scripted players: deterministic policies from `protocol`, reading the seat data part (offline, no model)."""

from __future__ import annotations

from collections.abc import Callable

from a2a.utils.errors import InvalidParamsError

from protocol import Knowledge, SeatStart, SeatTurn, Style, cartographer_says, follower_says

from ._base import PlayerInput, PlayerReply, player

Speech = Callable[..., str]


class ScriptedPlayer:
    """Follows one policy; votes with `MOVE:` lines in referee mode and `Proposal:`/`Agreed:` lines in paper mode."""

    def __init__(self, speak: Speech) -> None:
        self._speak = speak
        self._knowledge: Knowledge | None = None
        self._style = Style()

    async def reply(self, message: PlayerInput, texts: list[str]) -> PlayerReply:
        if isinstance(message, SeatStart):
            self._knowledge = Knowledge.from_start(message)
            self._style = Style(referee=message.mode == "referee")
            return PlayerReply(self._speak(self._knowledge, self._style, opening=True))
        if not isinstance(message, SeatTurn):
            raise InvalidParamsError("a scripted player plays seats; it does not grade transcripts")
        assert self._knowledge is not None, "a turn always follows the start of its game"
        self._knowledge.update(message)
        return PlayerReply(self._speak(self._knowledge, self._style))


@player("cartographer")
def cartographer() -> ScriptedPlayer:
    """Shares its whole map first, merges its partner's, plans with BFS and confirms one move at a time."""
    return ScriptedPlayer(cartographer_says)


@player("follower")
def follower() -> ScriptedPlayer:
    """Never shares its map, proposes locally greedy moves, agrees with whatever its partner proposes."""
    return ScriptedPlayer(follower_says)
