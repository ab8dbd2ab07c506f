"""What a scripted seat knows of its game: its map, its partner's shared map, the position and pending votes."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from protocol import (
    GOAL,
    HIDDEN,
    START,
    WALL,
    Cell,
    Direction,
    DirectionError,
    Seat,
    SeatStart,
    SeatTurn,
    View,
    find_maps,
    find_votes,
    merge_views,
    step,
)

UNKNOWN_COST = 4
"""Planning cost of stepping onto a hidden cell: a detour of up to three known cells is preferred."""


@dataclass
class Knowledge:
    """Updated from every coordinator message; read by scripted players to decide what to say."""

    seat: Seat
    size: int
    own: View
    known: View
    position: Cell
    goal: Cell
    solo: bool
    partner_pending: Direction | None = None
    partner_shared_map: bool = False
    visited: set[Cell] = field(default_factory=set)

    @classmethod
    def from_start(cls, start: SeatStart) -> Knowledge:
        views = [tuple(rows) for rows in start.maps]
        known = merge_views(views)
        cells = {symbol: (r, c) for r, row in enumerate(known) for c, symbol in enumerate(row) if symbol in START + GOAL}
        knowledge = cls(
            seat=start.seat, size=start.size, own=known, known=known, position=cells[START], goal=cells[GOAL],
            solo=start.condition != "pair",
        )
        knowledge.visited.add(knowledge.position)
        if start.partner_text:
            knowledge.hear(start.partner_text)
        return knowledge

    def update(self, turn: SeatTurn) -> None:
        """Apply the referee's outcomes, then read the partner's message for a map and a proposal."""
        for outcome in turn.outcomes:
            if outcome.executed:
                self.partner_pending = None
                if outcome.position is not None:
                    self.position = (outcome.position[0], outcome.position[1])
                elif outcome.status != "failed":
                    self.position = step(self.position, Direction.parse(outcome.direction))
                self.visited.add(self.position)
            elif outcome.seat != self.seat:
                self.partner_pending = Direction.parse(outcome.direction)
        if turn.partner_text:
            self.hear(turn.partner_text, outcomes_known=bool(turn.outcomes))

    def hear(self, text: str, *, outcomes_known: bool = False) -> None:
        """Merge any map the partner wrote out; take its `MOVE:` line as its proposal when no outcome says so."""
        maps = find_maps(text, self.size)
        if maps:
            self.known = merge_views([self.known, *maps])
            self.partner_shared_map = True
        if not outcomes_known:
            for raw in find_votes(text)[:1]:
                try:
                    self.partner_pending = Direction.parse(raw)
                except DirectionError:
                    self.partner_pending = None

    def symbol(self, cell: Cell) -> str | None:
        """The known symbol of a cell, or None off the grid."""
        if 0 <= cell[0] < self.size and 0 <= cell[1] < self.size:
            return self.known[cell[0]][cell[1]]
        return None

    def plan(self) -> list[Direction] | None:
        """A cheapest route to the goal over known cells (cost 1) and hidden ones (cost `UNKNOWN_COST`).

        Ties are broken in `Direction` order, so two seats with the same map plan the same route.
        """
        cost: dict[Cell, int] = {self.goal: 0}
        frontier = [(0, self.goal)]
        while frontier:
            so_far, cell = heapq.heappop(frontier)
            if so_far > cost[cell]:
                continue
            entering = UNKNOWN_COST if self.symbol(cell) == HIDDEN else 1
            for direction in Direction:
                nxt = step(cell, direction)
                symbol = self.symbol(nxt)
                if symbol is None or symbol == WALL:
                    continue
                if so_far + entering < cost.get(nxt, 1 << 30):
                    cost[nxt] = so_far + entering
                    heapq.heappush(frontier, (cost[nxt], nxt))
        if self.position not in cost:
            return None
        route, cell = [], self.position
        while cell != self.goal:
            options = [(cost[step(cell, d)] + (UNKNOWN_COST if self.symbol(step(cell, d)) == HIDDEN else 1), i, d)
                       for i, d in enumerate(Direction) if step(cell, d) in cost]
            _, _, best = min(options)
            route.append(best)
            cell = step(cell, best)
        return route

    def greedy(self) -> Direction | None:
        """A locally greedy move: closer to the goal, onto unvisited and visible cells first; never a known wall."""
        options = []
        for index, direction in enumerate(Direction):
            nxt = step(self.position, direction)
            symbol = self.symbol(nxt)
            if symbol is None or symbol == WALL:
                continue
            distance = abs(nxt[0] - self.goal[0]) + abs(nxt[1] - self.goal[1])
            options.append((nxt in self.visited, distance, symbol == HIDDEN, index, direction))
        return min(options)[-1] if options else None
