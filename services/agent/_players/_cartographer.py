"""`cartographer`: shares its whole map first, merges its partner's, plans with BFS and confirms one move at a time."""

from __future__ import annotations

from protocol import Knowledge, SeatStart, SeatTurn, Style, cartographer_says

from ._base import player

MOVE_LINES = Style(referee=True)


class Cartographer:
    """Talks in plain English and votes with `MOVE:` lines; agrees only with moves on its own plan."""

    def __init__(self) -> None:
        self.knowledge: Knowledge | None = None

    async def reply(self, message: SeatStart | SeatTurn, text: str) -> str:
        if isinstance(message, SeatStart):
            self.knowledge = Knowledge.from_start(message)
            return cartographer_says(self.knowledge, MOVE_LINES, opening=True)
        assert self.knowledge is not None, "a turn always follows the start of its game"
        self.knowledge.update(message)
        return cartographer_says(self.knowledge, MOVE_LINES)


@player("cartographer")
def cartographer() -> Cartographer:
    return Cartographer()
