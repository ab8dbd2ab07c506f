"""The coordinator: creates games at the referee, relays each seat's conversation over A2A, records and scores."""

from __future__ import annotations

from ._errors import (
    AgentError,
    AgentTimeoutError,
    AgentUnreachableError,
    AuthFailureError,
    ConfigError,
    CoordinatorError,
    GraderError,
    InfrastructureError,
    ProtocolViolationError,
    RefereeFault,
    StoreError,
    StoreVersionError,
    VersionError,
)
from ._records import (
    AttemptRecord,
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    ExplicitMaze,
    GradingRecord,
    MessageRecord,
    RelaySpec,
    Score,
    SeatSpec,
)
from .analysis._analysis import Analysis, Cell, analyze
from .analysis._stats import mean_ci
from .game._episode import play_episode
from .game._experiment import run_episodes
from .game._prices import PriceTable
from .game._prompts import Prompts
from .game._referee_client import RefereeClient
from .game._seat_client import MAX_REPLY_BYTES, MAX_REPLY_CHARS, AgentConnection, SeatReply
from .interop._assessor import (
    AssessmentConfig,
    AssessmentResult,
    AssessorSettings,
    create_assessor_app,
)
from .interop._check import (
    CheckReport,
    check_agent,
    check_report_json,
    render_check_report,
)
from .interop._check_card import Check
from .report._export import ExportOptions, ExportTally, chat_examples, write_jsonl
from .report._report import ReportFiles, build_report, terminal_tables
from .runs._demo import DEMO_PLAYERS, DemoResult, DemoSettings, run_demo
from .runs._launch import ServiceGroup, free_port
from .runs._play import PlayResult, PlaySettings, run_play
from .runs._run import (
    execute_run,
    load_records,
    plan_run,
    run_paths,
)
from .runs._runfile import RunFile
from .runs._runfile_load import load_run_file
from .runs._runner import Backend, LocalBackend, RunOutcome, RunProgress
from .runs._store import RunSummary, Store
from .runs._store_schema import SCHEMA_VERSION
from .runs._store_url import masked_url

__all__ = [
    "AgentConnection", "AgentError", "AgentTimeoutError", "AgentUnreachableError", "Analysis", "AssessmentConfig",
    "AssessmentResult", "AssessorSettings", "AttemptRecord", "AuthFailureError", "Backend", "Cell", "Check",
    "CheckReport", "ConfigError", "CoordinatorError", "DEMO_PLAYERS", "DemoResult", "DemoSettings", "EpisodeError",
    "EpisodeRecord", "EpisodeSpec", "ExplicitMaze", "ExportOptions", "ExportTally", "GraderError", "GradingRecord",
    "InfrastructureError", "LocalBackend", "MAX_REPLY_BYTES", "MAX_REPLY_CHARS", "MessageRecord", "PlayResult",
    "PlaySettings", "PriceTable", "Prompts", "ProtocolViolationError", "RefereeClient", "RefereeFault",
    "RelaySpec", "ReportFiles", "RunFile", "RunOutcome", "RunProgress", "RunSummary",
    "SCHEMA_VERSION", "Score", "SeatReply", "SeatSpec", "ServiceGroup", "Store", "StoreError", "StoreVersionError",
    "VersionError", "analyze", "build_report", "chat_examples", "check_agent", "check_report_json",
    "create_assessor_app", "execute_run", "free_port", "load_records", "load_run_file", "masked_url", "mean_ci",
    "plan_run", "play_episode", "render_check_report", "run_demo", "run_episodes", "run_paths", "run_play",
    "terminal_tables", "write_jsonl",
]
