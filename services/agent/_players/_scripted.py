"""Scripted players: the deterministic policies of `..scripted`, reading the seat data part (offline, no model)."""

from __future__ import annotations

from collections.abc import Callable

from a2a.utils.errors import InvalidParamsError

from collabgap.protocol import GradeRequest, SeatStart, SeatTurn

from ..scripted import Knowledge, Speaker, Style, cartographer_says, follower_says, grade_transcript, relayed
from ._base import PlayerInput, PlayerReply, player

Speech = Callable[..., str]


class ScriptedPlayer:
    """Follows one policy. In referee mode it votes with `MOVE:` lines and learns moves from the referee's
    outcomes; in paper mode it writes `Proposal:`/`Agreed:` lines and follows moves by replaying the dialogue.
    In a team it hears each other seat by its author (`messages`, or `[agent N]:` labels in the relayed text)."""

    def __init__(self, speak: Speech) -> None:
        self._speak = speak
        self._start: SeatStart | None = None
        self._knowledge: Knowledge | None = None
        self._said: list[tuple[Speaker, str]] = []
        self._style = Style()

    async def reply(self, message: PlayerInput, texts: list[str]) -> PlayerReply:
        if isinstance(message, SeatStart):
            self._start, self._said = message, []
            self._knowledge = Knowledge.from_start(message)
            self._style = Style(referee=message.mode == "referee")
            return self._say(opening=True)
        if not isinstance(message, SeatTurn):
            raise InvalidParamsError("a scripted player plays seats; it does not grade transcripts")
        assert self._start is not None and self._knowledge is not None, "a turn always follows its game's start"
        self._said.extend(relayed(message.partner_text, message.messages, message.seat))
        if self._style.referee:
            self._knowledge.update(message)
        else:
            self._knowledge = Knowledge.from_start(self._start, self._said)
        return self._say(opening=False)

    def _say(self, *, opening: bool) -> PlayerReply:
        assert self._knowledge is not None
        text = self._speak(self._knowledge, self._style, opening=opening)
        self._said.append(("self", text))
        return PlayerReply(text)


@player("cartographer")
def cartographer() -> ScriptedPlayer:
    """Shares its whole map first, merges its partner's, plans with BFS and confirms one move at a time."""
    return ScriptedPlayer(cartographer_says)


@player("follower")
def follower() -> ScriptedPlayer:
    """Never shares its map, proposes locally greedy moves, agrees with whatever its partner proposes."""
    return ScriptedPlayer(follower_says)


class ScriptedGrader:
    """Grades paper-mode transcripts of scripted players offline: replays their vote lines by the rules."""

    async def reply(self, message: PlayerInput, texts: list[str]) -> PlayerReply:
        if not isinstance(message, GradeRequest):
            raise InvalidParamsError("scripted:grader grades transcripts; it does not take a seat")
        return PlayerReply(grade_transcript("\n".join(texts)))


@player("grader")
def grader() -> ScriptedGrader:
    """Extracts the agreed route of a paper-mode game from its transcript."""
    return ScriptedGrader()
