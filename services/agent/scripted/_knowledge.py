"""What a scripted seat knows (its map, the maps others wrote out, the position, every seat's pending vote) and how
it follows the conversation by the rules: from the seat data part, as the scripted players do, or from text alone,
as the fake LLM vendor's models must (the task's team size, the votes' notation, the authors' labels); pure, no I/O.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from collabgap.protocol import (
    GOAL,
    HIDDEN,
    MIN_SIZE,
    SOLO_CONDITIONS,
    START,
    WALL,
    Cell,
    Direction,
    DirectionError,
    HistoryEntry,
    MazeError,
    Seat,
    SeatStart,
    SeatTurn,
    View,
    direction_between,
    find_maps,
    merge_views,
    split_authors,
    step,
)

UNKNOWN_COST = 4
"""Planning cost of stepping onto a hidden cell: a detour of up to three known cells is preferred."""

Speaker = str
"""Who said something: `self`, or another seat: `partner` in a pair, the seat's letter (`C`) in a team, where a
message that came without its author's label is the `partner`'s too."""
_VOTE = re.compile(r"^\W*(?:MOVE|Proposal|Agreed)[ \t]*:[ \t*_`]*(.+?)[ \t.]*$", re.IGNORECASE | re.MULTILINE)
_COORDS = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_PARTNERED = re.compile(r"\b(?:another|partner) agent\b", re.IGNORECASE)
"""How every packaged pair task names the partner."""
_OTHERS = re.compile(r"\bother agents\b", re.IGNORECASE)
"""How a team task may name the other seats without counting them; a task naming nobody is played alone."""
_NUMBER = r"(\d|two|three|four|five|six)"
_TEAM = re.compile(rf"\bteam of {_NUMBER}\b|\bone of {_NUMBER} agents\b|\b{_NUMBER} other agents\b", re.IGNORECASE)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def team_size(task: str, dialogue: Iterable[tuple[Speaker, str]] = ()) -> int:
    """How many seats play, read from a task prompt: `a team of 3`, `one of four agents` or `two other agents`
    name the team; `another agent` or `a partner agent` make a pair; no partner at all, one seat.

    A team task that names no number ("the other agents") counts the authors heard in `dialogue`, at least two.
    """
    if stated := _TEAM.search(task):
        team, one_of, others = stated.groups()
        word = (team or one_of or others).lower()
        number = int(word) if word.isdigit() else _NUMBERS[word]
        return number + 1 if others else number
    if _OTHERS.search(task):
        return max(2, 1 + len({speaker for speaker, _ in dialogue if speaker != "self"}))
    return 2 if _PARTNERED.search(task) else 1


def relayed(text: str | None, messages: Sequence[HistoryEntry] = (), seat: Seat | None = None
            ) -> list[tuple[Speaker, str]]:
    """What the other seats said, as a seat's policy hears it: the authored `messages` of a team's turn, else the
    relayed text, split at its author labels (`[agent 2]: …`); unlabelled text is the partner's. A message of
    `seat` itself is `self`'s."""
    if messages:
        pieces: list[tuple[Seat | None, str]] = [(entry.seat, entry.text) for entry in messages]
    else:
        pieces = split_authors(text) if text else []
    return [("self" if author == seat and seat is not None else author or "partner", said)
            for author, said in pieces]


@dataclass(frozen=True)
class Style:
    """How a policy writes its votes: `MOVE:` lines (referee mode) or `Proposal:`/`Agreed:` lines (paper mode);
    and whether it names target cells as 1-based (column, row) coordinates instead of directions."""

    referee: bool = True
    coordinates: bool = False


@dataclass
class Knowledge:
    """What a seat knows: its map, any map another seat wrote out, the position and the pending votes."""

    size: int
    own: View
    known: View
    position: Cell
    goal: Cell
    seats: int
    """How many seats vote: 1 alone, 2 in a pair, 3 to 6 in a team."""
    pending: dict[Speaker, Direction] = field(default_factory=dict)
    """Every seat's pending vote (this seat's as `self`), the latest last."""
    visited: set[Cell] = field(default_factory=set)

    @property
    def solo(self) -> bool:
        return self.seats == 1

    @property
    def partner_pending(self) -> Direction | None:
        """The latest pending vote of another seat."""
        return next((vote for speaker, vote in reversed(self.pending.items()) if speaker != "self"), None)

    def backs(self, move: Direction) -> bool:
        """Another seat's pending vote names `move`, so voting for it agrees."""
        return any(vote == move for speaker, vote in self.pending.items() if speaker != "self")

    def executes(self, move: Direction, speaker: Speaker = "self") -> bool:
        """A vote for `move` by `speaker` (by default this seat) makes the move now: every other seat's pending
        vote names it (alone: always)."""
        voice = self._voice(speaker)
        others = [vote for who, vote in self.pending.items() if who != voice]
        return len(others) == self.seats - 1 and all(vote == move for vote in others)

    @classmethod
    def from_maps(cls, maps: Iterable[View], *, seats: int) -> Knowledge:
        own = merge_views(list(maps))
        cells = {symbol: (r, c) for r, row in enumerate(own) for c, symbol in enumerate(row) if symbol in START + GOAL}
        if set(cells) != {START, GOAL}:
            raise MazeError("a seat's map must show @ and *")
        return cls(size=len(own), own=own, known=own, position=cells[START], goal=cells[GOAL], seats=seats,
                   visited={cells[START]})

    @classmethod
    def from_start(cls, start: SeatStart, later: Iterable[tuple[Speaker, str]] = ()) -> Knowledge:
        """What a seat knows from its start message, and from the conversation since (`later`), replayed."""
        seats = len(start.team) if start.team else 1 if start.condition in SOLO_CONDITIONS else 2
        knowledge = cls.from_maps([tuple(rows) for rows in start.maps], seats=seats)
        if start.history:  # a relay newcomer inherits its seat's frozen history
            earlier = relayed(None, start.history, start.seat)
        else:
            earlier = relayed(start.partner_text, start.messages, start.seat)
        knowledge.replay([*earlier, *later])
        return knowledge

    @classmethod
    def from_transcript(cls, task: str, dialogue: Iterable[tuple[Speaker, str]]) -> Knowledge:
        """Rebuild a seat's knowledge from the task prompt and the conversation so far, text only.

        Moves are replayed by the rules: a vote executes when it names every other seat's pending vote (alone:
        at once). The square blocks of map symbols in the task are the seat's map(s); the task says how many seats
        play (`team_size`).
        """
        widths = sorted({len(line.strip()) for line in task.splitlines() if len(line.strip()) >= MIN_SIZE})
        maps = next((found for width in widths if (found := find_maps(task, width))), [])
        if not maps:
            raise MazeError("the task prompt holds no map")
        dialogue = list(dialogue)
        knowledge = cls.from_maps(maps, seats=team_size(task, dialogue))
        knowledge.replay(dialogue)
        return knowledge

    def replay(self, dialogue: Iterable[tuple[Speaker, str]]) -> None:
        """Follow a conversation by the rules, from no pending votes: a vote executes when it names every other
        seat's pending vote."""
        self.pending = {}
        for speaker, text in dialogue:
            if speaker != "self":
                self.hear(text)
            vote = self.read_vote(text)
            if vote is not None:
                self.count(speaker, vote)

    def count(self, speaker: Speaker, vote: Direction) -> None:
        """One vote by the rules: the move is made when every other seat's pending vote names it (alone: at
        once); otherwise the vote replaces the speaker's pending one."""
        if self.executes(vote, speaker):
            self.pending.clear()
            self.moved(vote)
        else:
            self._pend(self._voice(speaker), vote)

    def _voice(self, speaker: Speaker) -> Speaker:
        """In a pair every other voice is the partner's; in a team each seat keeps its own name."""
        return speaker if speaker == "self" or self.seats > 2 else "partner"

    def _pend(self, who: Speaker, vote: Direction) -> None:
        self.pending.pop(who, None)
        self.pending[who] = vote

    def read_vote(self, text: str) -> Direction | None:
        """The first vote line of a message, as a direction from the current position (coordinates included)."""
        for match in _VOTE.finditer(text):
            value = match.group(1)
            target = _COORDS.search(value)
            try:
                if target:  # 1-based (column, row), as the coordinate-speaking policy writes them
                    cell = (int(target.group(2)) - 1, int(target.group(1)) - 1)
                    return direction_between(self.position, cell)
                return Direction.parse(value.split()[0])
            except (DirectionError, MazeError):
                return None
        return None

    def moved(self, direction: Direction) -> None:
        self.position = step(self.position, direction)
        self.visited.add(self.position)

    def update(self, turn: SeatTurn) -> None:
        """Apply the referee's outcomes, then read the other seats' messages for maps."""
        for outcome in turn.outcomes:
            if outcome.executed:
                self.pending.clear()
                if outcome.position is not None:
                    self.position = (outcome.position[0], outcome.position[1])
                    self.visited.add(self.position)
                elif outcome.status != "failed":
                    self.moved(Direction.parse(outcome.direction))
            else:
                self._pend(self._voice("self" if outcome.seat == turn.seat else outcome.seat),
                           Direction.parse(outcome.direction))
        for _, text in relayed(turn.partner_text, turn.messages, turn.seat):
            self.hear(text)

    def hear(self, text: str) -> None:
        """Merge any map another seat wrote out."""
        maps = find_maps(text, self.size)
        if maps:
            self.known = merge_views([self.known, *maps])

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

    def greedy_route(self) -> list[Direction]:
        """Greedy moves from here, as `greedy` would make them, until the goal, a dead end or one move per cell."""
        walker = replace(self, visited=set(self.visited))
        route: list[Direction] = []
        while walker.position != walker.goal and len(route) < self.size ** 2 and (move := walker.greedy()):
            route.append(move)
            walker.moved(move)
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
