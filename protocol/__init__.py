"""collabgap's pure core: mazes, views, moves, scores and the wire models both sides validate against.

Imports nothing that does I/O; `referee` and `services` both import it and nothing else of each other.
"""

from __future__ import annotations

from ._contract import (
    CreatedGame,
    EndReason,
    Feedback,
    GameMode,
    GameRecord,
    MoveRecord,
    SeatStatus,
    SeatView,
    VoteRecord,
    VoteResult,
)
from ._errors import CollabgapError, DirectionError, MazeError
from ._generate import MazeParams, generate_maze
from ._grading import CONVENTIONS, Convention, GradedRoute, grade_route
from ._maze import (
    GOAL,
    HIDDEN,
    OPEN,
    START,
    WALL,
    Cell,
    Direction,
    Maze,
    direction_between,
    distances_from,
    shortest_route,
    step,
)
from ._messages import (
    COMPLETION_PHRASE,
    DATA_KEY,
    REFEREE_EXTENSION,
    RULES_VERSION,
    SEAT_SKILL,
    Condition,
    GameStatus,
    GradeRequest,
    HistoryEntry,
    Mode,
    Seat,
    SeatEnd,
    SeatEnvelope,
    SeatMessage,
    SeatStart,
    SeatTurn,
    Usage,
    VoteOutcome,
    find_votes,
    says_done,
)
from ._policy import Knowledge, Speaker, Style, cartographer_says, follower_says, grade_transcript, share_map
from ._render import LEGEND, find_maps, render_map
from ._scoring import Walk, walk, weighted_score
from ._views import View, check_views, merge_views, split_views

__all__ = sorted([
    "COMPLETION_PHRASE", "CONVENTIONS", "Convention", "GradedRoute", "grade_route", "DATA_KEY", "GOAL", "HIDDEN", "LEGEND", "OPEN", "REFEREE_EXTENSION", "RULES_VERSION", "SEAT_SKILL", "START", "WALL",
    "Cell", "CollabgapError", "Condition", "CreatedGame", "Direction", "DirectionError", "EndReason", "Feedback",
    "GameMode", "GameRecord", "GradeRequest", "Mode", "Usage", "Knowledge", "Speaker", "Style", "cartographer_says", "follower_says", "grade_transcript", "share_map", "GameStatus", "HistoryEntry", "Maze", "MazeError", "MazeParams", "MoveRecord",
    "Seat", "SeatEnd", "SeatEnvelope", "SeatMessage", "SeatStart", "SeatStatus", "SeatTurn", "SeatView", "View",
    "VoteOutcome", "VoteRecord", "VoteResult", "Walk", "check_views", "direction_between", "distances_from",
    "find_maps", "find_votes", "generate_maze", "merge_views", "render_map", "says_done", "shortest_route",
    "split_views", "step", "walk", "weighted_score",
])
