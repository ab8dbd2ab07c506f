"""What the referee's MCP tools return (DESIGN §3.1): the public result contract, shared by both sides."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ._maze import Cell, Direction, Maze, step
from ._messages import GameStatus, Seat

GameMode = Literal["pair", "solo"]
Feedback = Literal["none", "position"]
EndReason = Literal["goal", "wall", "edge", "ended"]


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreatedGame(_Result):
    """A new game: its id, one token per seat (`A` and `B` in a pair, `A` to `F` in a team, only `A` in solo) and
    the optimal route length."""

    game_id: str
    seat_tokens: dict[str, str]
    optimal_length: int
    size: int


class SeatView(_Result):
    """One seat's own map, and how to read it."""

    rows: list[str]
    legend: str


class VoteResult(_Result):
    """The referee's verdict on one vote."""

    executed: bool
    """Every seat's pending vote named this direction (solo: always), so the move was made."""
    status: GameStatus
    moves_made: int
    position: tuple[int, int] | None = None
    """The current cell; only with feedback `position`."""


class SeatStatus(_Result):
    """What a seat may know of its game: never another seat's view."""

    status: GameStatus
    moves_made: int
    partner_has_pending_vote: bool
    """Another seat has a pending vote (in a pair: the partner)."""
    position: tuple[int, int] | None = None
    """The current cell; only with feedback `position`."""
    pending_seats: list[Seat] | None = Field(None, exclude_if=lambda seats: seats is None)
    """Team games only (absent in pairs): the other seats with a pending vote, in seat order."""


class MoveRecord(_Result):
    """One executed move."""

    direction: str
    source: tuple[int, int]
    target: tuple[int, int]
    valid: bool
    """False when the move went into a wall or off the grid, which ends the game as failed."""


def make_move(maze: Maze, position: Cell, direction: Direction) -> MoveRecord:
    """The move from `position` in `direction`: valid when it lands on an open cell of `maze`."""
    target = step(position, direction)
    return MoveRecord(direction=direction.value, source=position, target=target, valid=maze.is_open(target))


def replay_moves(maze: Maze, directions: list[Direction]) -> list[MoveRecord]:
    """The moves that `directions`, executed in order from the start, make; a move off the open cells is the
    last (it ends the game)."""
    moves: list[MoveRecord] = []
    position = maze.start
    for direction in directions:
        move = make_move(maze, position, direction)
        moves.append(move)
        if not move.valid:
            break
        position = move.target
    return moves


class VoteRecord(_Result):
    """One vote as the referee received it."""

    seat: Seat
    direction: str
    executed: bool
    conflict: bool
    """Another seat's pending vote named another direction."""


class GameRecord(_Result):
    """Everything the referee knows of a game; for the coordinator only."""

    game_id: str
    mode: GameMode
    feedback: Feedback
    status: GameStatus
    end_reason: EndReason | None
    maze: list[str]
    views: list[list[str]]
    optimal_length: int
    wall_fraction: float
    """The realised share of walls among the cells other than start and goal (`Maze.wall_fraction`)."""
    position: tuple[int, int]
    moves: list[MoveRecord]
    votes: list[VoteRecord]
    convention: str | None = None
    """Paper mode: how `grade_route` read the route (`directions` or a coordinate convention)."""
    note: str | None = None
    """The coordinator's reason given to `end_game` (the first one, up to 500 characters)."""
    conflicts: int
    weighted_score: float
    success: bool
