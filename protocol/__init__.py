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
    make_move,
    replay_moves,
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
    SEATS,
    SOLO_CONDITIONS,
    Condition,
    GameStatus,
    GradeRequest,
    HistoryEntry,
    Mode,
    ModelCall,
    ModelMessage,
    ModelToolCall,
    Seat,
    SeatEnd,
    SeatEnvelope,
    SeatMessage,
    SeatStart,
    SeatTurn,
    Usage,
    VoteOutcome,
    agent_name,
    expand_calls,
    find_votes,
    label_message,
    says_done,
    shared_prefix,
    split_authors,
)
from ._policy import (
    Knowledge,
    Speaker,
    Style,
    cartographer_says,
    follower_says,
    relayed,
    share_map,
)
from ._render import LEGEND, find_maps, render_map
from ._scripted_grader import grade_transcript
from ._scoring import Walk, walk, weighted_score
from ._views import View, check_views, merge_views, split_views

__all__ = [
    "COMPLETION_PHRASE", "CONVENTIONS", "Cell", "CollabgapError", "Condition", "Convention", "CreatedGame",
    "DATA_KEY", "Direction", "DirectionError", "EndReason", "Feedback", "GOAL", "GameMode", "GameRecord",
    "GameStatus", "GradeRequest", "GradedRoute", "HIDDEN", "HistoryEntry", "Knowledge", "LEGEND", "Maze",
    "MazeError", "MazeParams", "Mode", "ModelCall", "ModelMessage", "ModelToolCall", "MoveRecord", "OPEN",
    "REFEREE_EXTENSION", "RULES_VERSION", "SEATS", "SEAT_SKILL", "SOLO_CONDITIONS", "START", "Seat", "SeatEnd",
    "SeatEnvelope", "SeatMessage", "SeatStart", "SeatStatus", "SeatTurn", "SeatView", "Speaker", "Style", "Usage",
    "View", "VoteOutcome", "VoteRecord", "VoteResult", "WALL", "Walk", "agent_name", "cartographer_says",
    "check_views", "direction_between", "distances_from", "expand_calls", "find_maps", "find_votes",
    "follower_says", "generate_maze", "grade_route", "grade_transcript", "label_message", "make_move",
    "merge_views", "relayed", "render_map", "replay_moves", "says_done", "share_map", "shared_prefix",
    "shortest_route", "split_authors", "split_views", "step", "walk", "weighted_score",
]
