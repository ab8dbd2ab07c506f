"""The scripted policies: what a cartographer or a follower knows and says (pure; no I/O).

Shared by the agent service's scripted players, which read the seat data part, and by the fake LLM vendor's
simulated models, which must understand the conversation from its text alone.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from ._errors import DirectionError, MazeError
from ._maze import GOAL, HIDDEN, MIN_SIZE, START, WALL, Cell, Direction, direction_between, step
from ._messages import COMPLETION_PHRASE, SeatStart, SeatTurn
from ._render import find_maps, render_map
from ._views import View, merge_views

UNKNOWN_COST = 4
"""Planning cost of stepping onto a hidden cell: a detour of up to three known cells is preferred."""

Speaker = Literal["self", "partner"]
_VOTE = re.compile(r"^\W*(?:MOVE|Proposal|Agreed)[ \t]*:[ \t*_`]*(.+?)[ \t.]*$", re.IGNORECASE | re.MULTILINE)
_COORDS = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_PARTNERED = re.compile(r"\b(?:another|partner) agent\b", re.IGNORECASE)
"""How every packaged pair task names the partner; a task without it is played alone."""


@dataclass(frozen=True)
class Style:
    """How a policy writes its votes: `MOVE:` lines (referee mode) or `Proposal:`/`Agreed:` lines (paper mode);
    and whether it names target cells as 1-based (column, row) coordinates instead of directions."""

    referee: bool = True
    coordinates: bool = False


@dataclass
class Knowledge:
    """What a seat knows: its map, any map its partner wrote out, the position and the pending votes."""

    size: int
    own: View
    known: View
    position: Cell
    goal: Cell
    solo: bool
    partner_pending: Direction | None = None
    visited: set[Cell] = field(default_factory=set)

    @classmethod
    def from_maps(cls, maps: Iterable[View], *, solo: bool) -> Knowledge:
        own = merge_views(list(maps))
        cells = {symbol: (r, c) for r, row in enumerate(own) for c, symbol in enumerate(row) if symbol in START + GOAL}
        if set(cells) != {START, GOAL}:
            raise MazeError("a seat's map must show @ and *")
        return cls(size=len(own), own=own, known=own, position=cells[START], goal=cells[GOAL], solo=solo,
                   visited={cells[START]})

    @classmethod
    def from_start(cls, start: SeatStart, later: Iterable[tuple[Speaker, str]] = ()) -> Knowledge:
        """What a seat knows from its start message, and from the conversation since (`later`), replayed."""
        knowledge = cls.from_maps([tuple(rows) for rows in start.maps], solo=start.condition != "pair")
        if start.history:  # a relay newcomer inherits its seat's frozen history
            earlier: list[tuple[Speaker, str]] = [("self" if h.seat == start.seat else "partner", h.text)
                                                  for h in start.history]
        else:
            earlier = [("partner", start.partner_text)] if start.partner_text else []
        knowledge.replay([*earlier, *later])
        return knowledge

    @classmethod
    def from_transcript(cls, task: str, dialogue: Iterable[tuple[Speaker, str]]) -> Knowledge:
        """Rebuild a seat's knowledge from the task prompt and the conversation so far, text only.

        Moves are replayed by the rules: a vote executes when it names the other side's pending vote (solo: at
        once). The square blocks of map symbols in the task are the seat's map(s); a task that names no partner
        ("another agent", "a partner agent", as collabgap's packaged prompts do) is played alone.
        """
        widths = sorted({len(line.strip()) for line in task.splitlines() if len(line.strip()) >= MIN_SIZE})
        maps = next((found for width in widths if (found := find_maps(task, width))), [])
        if not maps:
            raise MazeError("the task prompt holds no map")
        knowledge = cls.from_maps(maps, solo=_PARTNERED.search(task) is None)
        knowledge.replay(dialogue)
        return knowledge

    def replay(self, dialogue: Iterable[tuple[Speaker, str]]) -> None:
        """Follow a conversation by the rules: a vote executes when it names the other side's pending vote."""
        pending: dict[Speaker, Direction | None] = {"self": None, "partner": None}
        for speaker, text in dialogue:
            if speaker == "partner":
                self.hear(text)
            vote = self.read_vote(text)
            if vote is None:
                continue
            other: Speaker = "partner" if speaker == "self" else "self"
            if self.solo or pending[other] == vote:
                pending = {"self": None, "partner": None}
                self.moved(vote)
            else:
                pending[speaker] = vote
        self.partner_pending = pending["partner"]

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
        """Apply the referee's outcomes, then read the partner's message for a map."""
        for outcome in turn.outcomes:
            if outcome.executed:
                self.partner_pending = None
                if outcome.position is not None:
                    self.position = (outcome.position[0], outcome.position[1])
                    self.visited.add(self.position)
                elif outcome.status != "failed":
                    self.moved(Direction.parse(outcome.direction))
            elif outcome.seat != turn.seat:
                self.partner_pending = Direction.parse(outcome.direction)
        if turn.partner_text:
            self.hear(turn.partner_text)

    def hear(self, text: str) -> None:
        """Merge any map the partner wrote out."""
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


def _vote(k: Knowledge, move: Direction, style: Style, agreeing: bool) -> str:
    target = step(k.position, move)
    name = f"({target[1] + 1},{target[0] + 1})" if style.coordinates else move.value
    if style.referee:
        return f"{f'Target {name}. ' if style.coordinates else ''}\nMOVE: {move.value}".lstrip()
    return f"{'Agreed' if agreeing else 'Proposal'}: {name}"


def _finish(k: Knowledge, move: Direction, executes: bool) -> str:
    return f" That reaches the goal. {COMPLETION_PHRASE}" if executes and step(k.position, move) == k.goal else ""


def share_map(k: Knowledge, style: Style) -> str:
    """The cartographer's opening: its whole map (and its coordinate convention, when it uses one)."""
    convention = " I name cells as (column, row), counting from 1 at the top-left." if style.coordinates else ""
    return f"Hello! Here is my whole map (rows top to bottom, ? = hidden from me):{convention}\n{render_map(k.own)}"


def solution_says(k: Knowledge, route: list[Direction] | None, style: Style, *, opening: bool) -> str:
    """Alone in paper mode: the whole route at once, as the list of cells from the start to the goal (the
    coordinate-speaking policy names them 1-based (column, row), others 0-based (row, column)); after the critic
    step, the same route again."""
    if not route:
        return "I cannot find any route to the goal on this map."
    cells = [k.position]
    for move in route:
        cells.append(step(cells[-1], move))
    if style.coordinates:
        convention, names = "(column, row), counting from 1", [f"({c + 1}, {r + 1})" for r, c in cells]
    else:
        convention, names = "(row, column), counting from 0", [f"({r}, {c})" for r, c in cells]
    review = "" if opening else "I reviewed my route against the map; it is complete and valid.\n"
    return (f"{review}The route is {', '.join(m.value for m in route)} ({len(route)} moves). Cells are "
            f"{convention} at the top-left corner.\nFinal solution: [{', '.join(names)}]")


def cartographer_says(k: Knowledge, style: Style, *, opening: bool = False) -> str:
    """Share the map first, then propose the next step of the shortest known route; agree only with that step.
    Alone in paper mode: the shortest known route, whole."""
    if k.solo and not style.referee:
        return solution_says(k, k.plan(), style, opening=opening)
    if opening and not k.solo and k.partner_pending is None:
        return f"{share_map(k, style)}\nPlease share your map too, then I will plan the shortest route for both of us."
    prefix = f"{share_map(k, style)}\n" if opening and not k.solo else ""
    if k.position == k.goal:
        return f"{prefix}We are on the goal. {COMPLETION_PHRASE}"
    route = k.plan()
    if not route:
        return f"{prefix}I cannot find any route to the goal from what we know. Can you describe the cells around us?"
    move, left = route[0], f"{len(route)} moves" if len(route) > 1 else "1 move"
    agreeing = k.partner_pending == move
    finish = _finish(k, move, k.solo or agreeing)
    if k.solo:
        text = f"Moving {move.value}; {left} to the goal.{finish}"
    elif agreeing:
        text = f"Agreed, {move.value} is on my route ({left} to the goal).{finish}"
    elif k.partner_pending is not None:
        text = (f"I would rather not go {k.partner_pending.value}: on the merged map the shortest route "
                f"starts {move.value} ({left}). Please confirm.")
    else:
        text = f"Next I propose {move.value} ({left} to the goal). Do you agree?"
    return f"{prefix}{text}\n{_vote(k, move, style, agreeing)}"


def follower_says(k: Knowledge, style: Style, *, opening: bool = False) -> str:
    """Never share the map; agree with any proposal, else propose a locally greedy step. Alone in paper mode: the
    greedy route, whole."""
    if k.solo and not style.referee:
        return solution_says(k, k.greedy_route(), style, opening=opening)
    prefix = "Hi! Happy to follow your lead.\n" if opening else ""
    if k.position == k.goal:
        return f"{prefix}Looks like we made it! {COMPLETION_PHRASE}"
    if k.partner_pending is not None and not k.solo:
        move = k.partner_pending
        return f"{prefix}Sure, let's go {move.value}.{_finish(k, move, True)}\n{_vote(k, move, style, True)}"
    greedy = k.greedy()
    if greedy is None:
        return f"{prefix}I don't know where to go from here. What do you suggest?"
    move = greedy
    finish = _finish(k, move, k.solo)
    return f"{prefix}I think {move.value} gets us closer to the goal.{finish}\n{_vote(k, move, style, False)}"


_SPEAKER = re.compile(r"^\[(A|B|agent_1|agent_2)\]:[ \t]?", re.MULTILINE)
_AGENTS = {"A": "agent_1", "B": "agent_2"}
_PAYLOAD = re.compile(r"^# (?:Dialogue|Solution)[ \t]*$", re.MULTILINE)
_SOLUTION = re.compile(r"^.*final solution.*$", re.IGNORECASE | re.MULTILINE)
_Entry = tuple[int, str, str, str]
"""A route entry of the paper's grader answer: turn, coordinates (YAML), `move` or `consider`, agent."""


def grade_transcript(prompt: str) -> str:
    """A grader's answer in the paper's YAML shape (Fig. A.6): the route of a grader prompt's payload.

    The payload follows the prompt's `# Dialogue` or `# Solution` heading. A dialogue of `[agent_1]: …` /
    `[agent_2]: …` messages is replayed by the policies' vote lines: a move counts once both agents named it,
    a vote not (yet) agreed is a `consider` entry. A solution (the solo grader) is read from its `Final solution`
    line, every cell one move. Routes are in the agents' own notation: directions, or cells as the policies write
    them.
    """
    heading = _PAYLOAD.search(prompt)
    payload = prompt[heading.end():] if heading else prompt
    pieces = _SPEAKER.split(payload)
    if len(pieces) > 1:
        return _paper_yaml(*_agreed(list(zip(pieces[1::2], pieces[2::2], strict=True))))
    lines = _SOLUTION.findall(payload) or [line for line in payload.splitlines() if _COORDS.search(line)]
    cells = [f"[{a}, {b}]" for a, b in _COORDS.findall(lines[-1])] if lines else []
    one_based = "(column, row), counting from 1" in payload
    return _paper_yaml(("1", "col_row") if one_based else ("0", "row_col"),
                       [(turn, f"[{cell}]", "move", "agent_1") for turn, cell in enumerate(cells, 1)])


def _agreed(messages: list[tuple[str, str]]) -> tuple[tuple[str, str] | None, list[_Entry]]:
    """The turns of a dialogue: a move once both agents named it, else what the speaker proposed."""
    pending: dict[str, str | None] = {"agent_1": None, "agent_2": None}
    entries: list[_Entry] = []
    convention: tuple[str, str] | None = None
    for turn, (label, text) in enumerate(messages, 1):
        speaker = _AGENTS.get(label, label)
        match = _VOTE.search(text)
        token = match.group(1).strip().lower() if match else ""
        if not token:
            continue
        coords = _COORDS.search(token)
        if coords:  # the coordinate-speaking policy names cells (column, row) from 1
            token, convention = f"[{coords.group(1)}, {coords.group(2)}]", ("1", "col_row")
        else:
            token = f'"{token.split()[0]}"'
        other = "agent_2" if speaker == "agent_1" else "agent_1"
        if pending[other] == token:
            entries.append((turn, f"[{token}]", "move", "both"))
            pending = {"agent_1": None, "agent_2": None}
        else:
            entries.append((turn, f"[{token}]", "consider", speaker))
            pending[speaker] = token
    return convention, entries


def _paper_yaml(convention: tuple[str, str] | None, entries: list[_Entry]) -> str:
    origin, order = convention or ("0", "row_col")
    lines = ["route_schema:", f'  maze_origin: "{origin}"', '  maze_orientation: "top_left"',
             f'  coordinates_orientation: "{order}"',
             f'  coordinates_symbols: "{"number_number" if convention else "directions"}"',
             "route:" if entries else "route: []"]
    for turn, coordinates, kind, agent in entries:
        lines += [f"  - turn: {turn}", f"    coordinates: {coordinates}", f'    turn_type: "{kind}"',
                  f'    agent: "{agent}"']
    return "```yaml\n" + "\n".join(lines) + "\n```\n"
