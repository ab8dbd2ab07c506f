"""The referee's MCP tools as one definition (DESIGN §3.1): each tool's name, its argument model and its result
model. The referee serves its tools from these, and the coordinator and the agents call them with these, so the
three never disagree on a name or an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ._contract import CreatedGame, Feedback, GameMode, GameRecord, SeatStatus, SeatView, VoteResult
from ._generate import MazeParams
from ._messages import SEATS

ToolName = Literal["create_game", "get_game", "end_game", "grade_route", "get_view", "propose_move", "game_status"]
ArgsT = TypeVar("ArgsT", bound=BaseModel, covariant=True)
ResultT = TypeVar("ResultT", bound=BaseModel, covariant=True)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class CreateGameArgs(MazeParams):
    """`create_game`: the generation parameters of `MazeParams`, or explicit `maze` rows (and `views`), and how
    the game is played."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    mode: GameMode = "pair"
    feedback: Feedback = "none"
    maze: list[str] | None = None
    """Explicit maze rows; the generation parameters are then ignored."""
    views: list[list[str]] | None = None
    """Explicit views, one per seat, of the explicit maze."""
    max_votes: int = Field(1000, ge=1, le=100_000)
    seats: int = Field(2, ge=2, le=len(SEATS))
    """Pair mode: 2 plays a pair, 3 to 6 a team."""
    overlap: float = Field(0.0, ge=0.0, le=1.0)
    """Probability that a cell of a generated split is shown to every seat."""

    def maze_params(self) -> MazeParams:
        """The generation parameters alone: the maze they give (and its id) is that of `MazeParams`."""
        return MazeParams.model_validate(self.model_dump(include=set(MazeParams.model_fields)))


class GameArgs(_Args):
    """`get_game`: the game to read."""

    game_id: str


class EndGameArgs(GameArgs):
    """`end_game`: the game to stop, and why."""

    reason: str


class GradeRouteArgs(GameArgs):
    """`grade_route`: the game to grade, and the route a grader extracted."""

    route: list[str]


class SeatArgs(_Args):
    """`get_view`, `game_status`: no arguments; the seat token decides game and seat."""


class ProposeMoveArgs(_Args):
    """`propose_move`: the direction a seat votes for."""

    direction: str
    """`up`, `down`, `left` or `right` (also `u`, `north`...): the direction to move the team one cell."""


@dataclass(frozen=True)
class RefereeTool(Generic[ArgsT, ResultT]):
    """One referee tool: what it is called, what it takes and what it returns."""

    name: ToolName
    arguments: type[ArgsT]
    result: type[ResultT]


CREATE_GAME = RefereeTool("create_game", CreateGameArgs, CreatedGame)
GET_GAME = RefereeTool("get_game", GameArgs, GameRecord)
END_GAME = RefereeTool("end_game", EndGameArgs, GameRecord)
GRADE_ROUTE = RefereeTool("grade_route", GradeRouteArgs, GameRecord)
GET_VIEW = RefereeTool("get_view", SeatArgs, SeatView)
PROPOSE_MOVE = RefereeTool("propose_move", ProposeMoveArgs, VoteResult)
GAME_STATUS = RefereeTool("game_status", SeatArgs, SeatStatus)
REFEREE_SEAT_TOOLS: tuple[RefereeTool[BaseModel, BaseModel], ...] = (GET_VIEW, PROPOSE_MOVE, GAME_STATUS)
"""The tools a seat token opens; the others need the coordinator's token."""
