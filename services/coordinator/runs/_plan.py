"""A run file expands into episodes with stable ids: the same file always plans the same episodes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .._errors import ConfigError
from .._records import EpisodeSpec, RelaySpec, SeatSpec

if TYPE_CHECKING:  # the run file checks its plan with this module
    from ._runfile import ConditionEntry, RunFile

UrlOf = Callable[[str], str]
"""An agent's name → its base URL (local agents get theirs when the run starts them)."""


def seat_spec(run: RunFile, name: str, url_of: UrlOf) -> SeatSpec:
    """The agent `name` of the run as a seat's holder."""
    return SeatSpec(name=name, url=url_of(name), player_kind=run.agents[name].player_kind)


def _seatings(condition: ConditionEntry) -> list[tuple[str, ...]]:
    """Who holds seats A, B, … in each cell of a condition that is not a relay."""
    if condition.kind in ("solo-full", "solo-split"):
        return [(name,) for name in condition.agents]
    if condition.kind == "team":
        if condition.pairing == "explicit":
            return [tuple(team) for team in condition.teams]
        return [(name,) * size for name in condition.agents for size in condition.size]
    if condition.pairing == "homogeneous":
        return [(name, name) for name in condition.agents]
    if condition.pairing == "explicit":
        return [(a, b) for a, b in condition.pairs]
    return [(a, b) for a in condition.agents for b in condition.agents]


def _relays(condition: ConditionEntry) -> list[tuple[str, str, RelayPlan]]:
    """(seat A's opener, seat B's opener, hand-over) for every weak player and K.

    Seats that change hands hold the strong player first in a primer and the weak one first in a recovery;
    a seat that keeps its player holds the weak one throughout.
    """
    assert condition.strong is not None and condition.relay is not None
    plans = []
    for weak in condition.weak:
        before, after = (condition.strong, weak) if condition.relay == "primer" else (weak, condition.strong)
        openers = {seat: before if seat in condition.seats else weak for seat in ("A", "B")}
        for k in condition.k:
            plans.append((openers["A"], openers["B"], RelayPlan(condition.relay, k, after, tuple(condition.seats))))
    return plans


class RelayPlan:
    def __init__(self, kind: str, k: int, newcomer: str, seats: tuple[str, ...]) -> None:
        self.kind, self.k, self.newcomer, self.seats = kind, k, newcomer, seats

    def spec(self, run: RunFile, url_of: UrlOf) -> RelaySpec:
        newcomer = seat_spec(run, self.newcomer, url_of)
        return RelaySpec(kind=self.kind, after_messages=self.k,
                         seat_a=newcomer if "A" in self.seats else None, seat_b=newcomer if "B" in self.seats else None)

    @property
    def label(self) -> str:
        return f"{self.kind}-k{self.k}-{''.join(self.seats)}-{self.newcomer}"


class Cell(NamedTuple):
    """Who plays, and how, on every maze of a condition; its id starts the id of each of its episodes."""

    cell_id: str
    seat_a: str
    seat_b: str | None
    relay: RelayPlan | None
    more_seats: tuple[str, ...] = ()
    """A team's seats C, D, …"""


def cells(condition: ConditionEntry) -> list[Cell]:
    """The cells a condition block plays, in a stable order."""
    if condition.kind == "relay":
        seatings: list[tuple[tuple[str, ...], RelayPlan | None]] = [((a, b), plan) for a, b, plan in _relays(condition)]
    else:
        seatings = [(holders, None) for holders in _seatings(condition)]
    order = f"/order-{''.join(condition.order)}" if condition.order else ""
    found = []
    for holders, relay in seatings:
        tag = f"/{relay.label}" if relay else order
        found.append(Cell(f"{condition.kind}/{condition.mode}/{'+'.join(holders)}{tag}", holders[0],
                          holders[1] if len(holders) > 1 else None, relay, holders[2:]))
    return found


def repeated_cell(run: RunFile) -> tuple[int, str, int] | None:
    """The first condition block (its index) that plans a cell already planned, that cell's id, and the index of
    the block that planned it first."""
    seen: dict[str, int] = {}
    for index, condition in enumerate(run.conditions):
        for cell in cells(condition):
            if cell.cell_id in seen:
                return index, cell.cell_id, seen[cell.cell_id]
            seen[cell.cell_id] = index
    return None


def plan_size(run: RunFile, mazes: int) -> int:
    """How many episodes the run plans over `mazes` mazes, without planning them."""
    return sum(len(cells(condition)) for condition in run.conditions) * mazes * run.repetitions


def expand(run: RunFile, base: Path, url_of: UrlOf) -> list[EpisodeSpec]:
    """Every episode of the run, in a stable order, each with an id derived from what it plays."""
    mazes = run.maze_params(base)
    grader = seat_spec(run, run.grader, url_of) if run.grader else None
    plan: list[EpisodeSpec] = []
    for condition in run.conditions:
        kind = "pair" if condition.kind == "relay" else condition.kind
        for cell in cells(condition):
            for maze in mazes:
                for repetition in range(run.repetitions):
                    plan.append(EpisodeSpec(
                        episode_id=f"{cell.cell_id}/{maze.maze_id}/r{repetition}",
                        condition=kind, mode=condition.mode,
                        seat_a=seat_spec(run, cell.seat_a, url_of),
                        seat_b=seat_spec(run, cell.seat_b, url_of) if cell.seat_b else None,
                        more_seats=[seat_spec(run, name, url_of) for name in cell.more_seats],
                        order=condition.order,
                        maze=maze, feedback=run.limits.feedback, message_limit=run.limits.messages,
                        game_timeout_s=run.limits.game_timeout_s, grader=grader if condition.mode == "paper" else None,
                        relay=cell.relay.spec(run, url_of) if cell.relay else None, repetition=repetition,
                        agent_errors=run.errors.agent,
                    ))
    ids = Counter(spec.episode_id for spec in plan)
    if duplicates := [episode_id for episode_id, count in ids.items() if count > 1]:
        raise ConfigError(f"the run plans the same episode twice: {duplicates[0]} (remove the repeated condition)")
    return plan
