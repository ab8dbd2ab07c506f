"""`cartographer`: shares its whole map first, merges its partner's, plans with BFS and confirms one move at a time."""

from __future__ import annotations

from protocol import COMPLETION_PHRASE, SeatStart, SeatTurn, render_map, step

from ._base import player
from ._knowledge import Knowledge


class Cartographer:
    """Talks in plain English and votes with `MOVE:` lines; agrees only with moves on its own plan."""

    def __init__(self) -> None:
        self.knowledge: Knowledge | None = None

    async def reply(self, message: SeatStart | SeatTurn, text: str) -> str:
        if isinstance(message, SeatStart):
            self.knowledge = Knowledge.from_start(message)
            opening = self._share_map() if not self.knowledge.solo else "I have the map and will plan a route."
            if message.speaks_first and not self.knowledge.solo:
                return f"{opening}\nPlease share your map too, then I will plan the shortest route for both of us."
            return f"{opening}\n{self._next_move()}"
        assert self.knowledge is not None, "a turn always follows the start of its game"
        self.knowledge.update(message)
        return self._next_move()

    def _share_map(self) -> str:
        assert self.knowledge is not None
        own = render_map(self.knowledge.own)
        return f"Hello! Here is my whole map (rows top to bottom, ? = hidden from me):\n{own}"

    def _next_move(self) -> str:
        k = self.knowledge
        assert k is not None
        if k.position == k.goal:
            return f"We are on the goal. {COMPLETION_PHRASE}"
        route = k.plan()
        if not route:
            return "I cannot find any route to the goal from what we know. Can you describe the cells around us?"
        move = route[0]
        executes = k.solo or k.partner_pending == move
        finish = f" That reaches the goal. {COMPLETION_PHRASE}" if executes and step(k.position, move) == k.goal else ""
        left = f"{len(route)} moves" if len(route) > 1 else "1 move"
        if k.solo:
            return f"Moving {move.value}; {left} to the goal.{finish}\nMOVE: {move.value}"
        if k.partner_pending == move:
            return f"Agreed, {move.value} is on my route ({left} to the goal).{finish}\nMOVE: {move.value}"
        if k.partner_pending is not None:
            return (f"I would rather not go {k.partner_pending.value}: on the merged map the shortest route "
                    f"starts {move.value} ({left}). Please confirm.\nMOVE: {move.value}")
        return f"Next I propose {move.value} ({left} to the goal). Do you agree?\nMOVE: {move.value}"


@player("cartographer")
def cartographer() -> Cartographer:
    return Cartographer()



