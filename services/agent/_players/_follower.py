"""`follower`: never shares its map, proposes locally greedy moves, and agrees with whatever its partner proposes."""

from __future__ import annotations

from protocol import COMPLETION_PHRASE, SeatStart, SeatTurn, step

from ._base import player
from ._knowledge import Knowledge


class Follower:
    """A timid partner: the collaboration gap in miniature."""

    def __init__(self) -> None:
        self.knowledge: Knowledge | None = None

    async def reply(self, message: SeatStart | SeatTurn, text: str) -> str:
        if isinstance(message, SeatStart):
            self.knowledge = Knowledge.from_start(message)
            return f"Hi! Happy to follow your lead.\n{self._next_move()}"
        assert self.knowledge is not None, "a turn always follows the start of its game"
        self.knowledge.update(message)
        return self._next_move()

    def _next_move(self) -> str:
        k = self.knowledge
        assert k is not None
        if k.position == k.goal:
            return f"Looks like we made it! {COMPLETION_PHRASE}"
        if k.partner_pending is not None and not k.solo:
            move = k.partner_pending
            finish = f" {COMPLETION_PHRASE}" if step(k.position, move) == k.goal else ""
            return f"Sure, let's go {move.value}.{finish}\nMOVE: {move.value}"
        move = k.greedy()
        if move is None:
            return "I don't know where to go from here. What do you suggest?"
        finish = f" {COMPLETION_PHRASE}" if k.solo and step(k.position, move) == k.goal else ""
        return f"I think {move.value} gets us closer to the goal.{finish}\nMOVE: {move.value}"


@player("follower")
def follower() -> Follower:
    return Follower()
