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
    MIN_SIZE,
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
from ._referee_tools import (
    CREATE_GAME,
    END_GAME,
    GAME_STATUS,
    GET_GAME,
    GET_VIEW,
    GRADE_ROUTE,
    PROPOSE_MOVE,
    REFEREE_SEAT_TOOLS,
    CreateGameArgs,
    EndGameArgs,
    GameArgs,
    GradeRouteArgs,
    ProposeMoveArgs,
    RefereeTool,
    SeatArgs,
    ToolName,
)
from ._render import LEGEND, find_maps, render_map
from ._scoring import Walk, walk, weighted_score
from ._views import View, check_views, merge_views, split_views

__all__ = [
    "COMPLETION_PHRASE", "CONVENTIONS", "CREATE_GAME", "Cell", "CollabgapError", "Condition", "Convention",
    "CreateGameArgs", "CreatedGame", "DATA_KEY", "Direction", "DirectionError", "END_GAME", "EndGameArgs", "EndReason",
    "Feedback", "GAME_STATUS", "GET_GAME", "GET_VIEW", "GOAL", "GRADE_ROUTE", "GameArgs", "GameMode", "GameRecord",
    "GameStatus", "GradeRequest", "GradeRouteArgs", "GradedRoute", "HIDDEN", "HistoryEntry", "LEGEND", "MIN_SIZE",
    "Maze", "MazeError", "MazeParams", "Mode", "ModelCall", "ModelMessage", "ModelToolCall", "MoveRecord", "OPEN",
    "PROPOSE_MOVE", "ProposeMoveArgs", "REFEREE_EXTENSION", "REFEREE_SEAT_TOOLS", "RULES_VERSION", "RefereeTool",
    "SEATS", "SEAT_SKILL", "SOLO_CONDITIONS", "START", "Seat", "SeatArgs", "SeatEnd", "SeatEnvelope", "SeatMessage",
    "SeatStart", "SeatStatus", "SeatTurn", "SeatView", "ToolName", "Usage", "View", "VoteOutcome", "VoteRecord",
    "VoteResult", "WALL", "Walk", "agent_name", "check_views", "direction_between", "distances_from", "expand_calls",
    "find_maps", "find_votes", "generate_maze", "grade_route", "label_message", "make_move", "merge_views",
    "render_map", "replay_moves", "says_done", "shared_prefix", "shortest_route", "split_authors", "split_views",
    "step", "walk", "weighted_score",
]
