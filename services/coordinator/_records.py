"""What the coordinator stores of every episode. These fields are the stored format: bump `format` on change."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from protocol import Condition, MazeParams, MoveRecord, Seat, VoteRecord

from ._errors import ErrorKind

EpisodeStatus = Literal["solved", "failed", "ended", "error"]
EndReason = Literal["goal", "wall", "edge", "acti", "message_limit", "error"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeatSpec(_Record):
    """Who holds a seat: a display name and the agent's A2A base URL."""

    name: str
    url: str


class ExplicitMaze(_Record):
    """A maze given row by row, optionally with its two views."""

    rows: list[str]
    views: list[list[str]] | None = None


class EpisodeSpec(_Record):
    """One game to play: enough to play it again."""

    episode_id: str
    condition: Condition
    seat_a: SeatSpec
    seat_b: SeatSpec | None = None
    """None in solo conditions."""
    maze: MazeParams | ExplicitMaze
    feedback: Literal["none", "position"] = "none"
    message_limit: int = Field(50, ge=1, le=1000)


class MessageRecord(_Record):
    """One message of the conversation, as relayed."""

    index: int
    seat: Seat
    text: str
    latency_s: float
    vote: str | None = None
    """The direction this message voted for, as submitted to the referee."""
    vote_error: str | None = None
    """Why a `MOVE:` line in this message could not be submitted (an unknown direction)."""


class EpisodeError(_Record):
    """Why an episode could not be played; such an episode is never scored."""

    kind: ErrorKind
    seat: Seat | None
    message: str


class Score(_Record):
    """From the referee's true maze."""

    weighted: float
    success: bool
    moves: int
    conflicts: int
    optimal_length: int


class EpisodeRecord(_Record):
    """One stored episode."""

    format: Literal[1] = 1
    spec: EpisodeSpec
    game_id: str | None
    maze_id: str | None
    status: EpisodeStatus
    end_reason: EndReason
    error: EpisodeError | None = None
    """Set only when status == "error"."""
    score: Score | None = None
    """None when status == "error"."""
    messages: list[MessageRecord] = Field(default_factory=list)
    votes: list[VoteRecord] = Field(default_factory=list)
    moves: list[MoveRecord] = Field(default_factory=list)
    maze: list[str] = Field(default_factory=list)
    views: list[list[str]] = Field(default_factory=list)
    duration_s: float = 0.0
