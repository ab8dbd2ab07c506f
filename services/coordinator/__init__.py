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
from .analysis import Analysis, Cell, analyze, mean_ci
from .game import (
    MAX_REPLY_BYTES,
    MAX_REPLY_CHARS,
    AgentConnection,
    PriceTable,
    Prompts,
    RefereeClient,
    SeatReply,
    play_episode,
    run_episodes,
)
from .interop import (
    AssessmentConfig,
    AssessmentResult,
    AssessorSettings,
    Check,
    CheckReport,
    check_agent,
    check_report_json,
    create_assessor_app,
    render_check_report,
)
from .report import ExportOptions, ExportTally, ReportFiles, build_report, chat_examples, terminal_tables, write_jsonl
from .runs import (
    DEMO_PLAYERS,
    SCHEMA_VERSION,
    Backend,
    DemoResult,
    DemoSettings,
    LocalBackend,
    PlayResult,
    PlaySettings,
    RunFile,
    RunOutcome,
    RunProgress,
    RunSummary,
    ServiceGroup,
    Store,
    execute_run,
    free_port,
    load_records,
    load_run_file,
    masked_url,
    plan_run,
    run_demo,
    run_paths,
    run_play,
)

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
