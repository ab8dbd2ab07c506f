"""`follower`: never shares its map, proposes locally greedy moves, and agrees with whatever its partner proposes."""

from __future__ import annotations

from protocol import Knowledge, SeatStart, SeatTurn, Style, follower_says

from ._base import player

MOVE_LINES = Style(referee=True)


class Follower:
    """A timid partner: the collaboration gap in miniature."""

    def __init__(self) -> None:
        self.knowledge: Knowledge | None = None

    async def reply(self, message: SeatStart | SeatTurn, text: str) -> str:
        if isinstance(message, SeatStart):
            self.knowledge = Knowledge.from_start(message)
            return follower_says(self.knowledge, MOVE_LINES, opening=True)
        assert self.knowledge is not None, "a turn always follows the start of its game"
        self.knowledge.update(message)
        return follower_says(self.knowledge, MOVE_LINES)


@player("follower")
def follower() -> Follower:
    return Follower()
