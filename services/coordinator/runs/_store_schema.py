"""The tables of the results store, and how one `EpisodeRecord` becomes their rows.

Every table is prefixed `collabgap_`, so the store can share a database with unrelated tables. The episode row
holds the full record as JSON (the exact round trip) and copies of the fields worth querying; messages, votes
and moves get a row each. Bump `SCHEMA_VERSION` whenever a table or column changes: a store of another
version is refused, never altered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from collabgap.protocol import MazeParams

from .._records import EpisodeRecord, MessageRecord

SCHEMA_VERSION = 2
"""The layout of the tables below; stored in `collabgap_meta` under `schema_version`."""

PREFIX = "collabgap_"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware, also from SQLite, which keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

meta = Table(
    f"{PREFIX}meta", metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

runs = Table(
    f"{PREFIX}runs", metadata,
    Column("run_id", String, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("config_json", Text, nullable=False, comment="the run's config as canonical JSON"),
    Column("provenance_json", Text, nullable=False, comment="package versions, python, platform, ..."),
)

episodes = Table(
    f"{PREFIX}episodes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True, comment="save order"),
    Column("run_id", String, ForeignKey(runs.c.run_id), nullable=False),
    Column("episode_id", String, nullable=False),
    Column("stored_at", UTCDateTime, nullable=False),
    Column("condition", String, nullable=False),
    Column("mode", String, nullable=False),
    Column("feedback", String, nullable=False),
    Column("message_limit", Integer, nullable=False),
    Column("seat_a_name", String, nullable=False),
    Column("seat_a_url", String, nullable=False),
    Column("seat_b_name", String),
    Column("seat_b_url", String),
    Column("grader_name", String),
    Column("grader_url", String),
    Column("relay_kind", String),
    Column("relay_after", Integer, comment="K: messages before the hand-over"),
    Column("relay_seat_a_name", String),
    Column("relay_seat_b_name", String),
    Column("maze_size", Integer, nullable=False),
    Column("maze_id", String),
    Column("game_id", String),
    Column("repetition", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String, nullable=False),
    Column("end_reason", String, nullable=False),
    Column("error_kind", String),
    Column("error_seat", String),
    Column("error_message", Text),
    Column("weighted", Float),
    Column("success", Boolean),
    Column("moves", Integer),
    Column("conflicts", Integer),
    Column("optimal_length", Integer),
    Column("message_count", Integer, nullable=False),
    Column("tokens_in", Integer, comment="prompt tokens of every attempt's messages and grading; NULL: none reported"),
    Column("tokens_out", Integer, comment="completion tokens, likewise"),
    Column("tokens_reasoning", Integer, comment="reasoning tokens, likewise"),
    Column("cost_usd", Float, comment="priced messages and gradings of every attempt; NULL: nothing priced"),
    Column("grading_convention", String),
    Column("grading_route", Text, comment="the graded route, space-separated"),
    Column("duration_s", Float, nullable=False),
    Column("record_format", Integer, nullable=False),
    Column("record_json", Text, nullable=False, comment="the EpisodeRecord, exactly as saved"),
    # Two writers racing to store the same episode: the database lets exactly one of them in.
    UniqueConstraint("run_id", "episode_id", name=f"{PREFIX}episodes_run_episode_key"),
)


claims = Table(
    f"{PREFIX}claims", metadata,
    Column("run_id", String, ForeignKey(runs.c.run_id), primary_key=True),
    Column("episode_id", String, primary_key=True),
    Column("runner_id", String, nullable=False, comment="host/pid/nonce of the runner playing the episode"),
    Column("expires_at", UTCDateTime, nullable=False, comment="the runner renews it while it plays"),
)
"""Episodes being played: one runner each, until the episode is stored or the claim expires unrenewed."""


def _episode_fk() -> Column[int]:
    return Column("episode", Integer, ForeignKey(episodes.c.id, ondelete="CASCADE"), primary_key=True)


messages = Table(
    f"{PREFIX}messages", metadata,
    _episode_fk(),
    Column("ordinal", Integer, primary_key=True, comment="position in the record's message list"),
    Column("message_index", Integer, nullable=False),
    Column("seat", String, nullable=False),
    Column("player", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("vote", String),
    Column("vote_error", Text),
    Column("model", String),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("reasoning_tokens", Integer),
    Column("model_calls", Integer),
    Column("model_latency_s", Float),
    Column("latency_s", Float, nullable=False),
    Column("cost_usd", Float),
)

votes = Table(
    f"{PREFIX}votes", metadata,
    _episode_fk(),
    Column("ordinal", Integer, primary_key=True),
    Column("seat", String, nullable=False),
    Column("direction", String, nullable=False),
    Column("executed", Boolean, nullable=False),
    Column("conflict", Boolean, nullable=False),
)

moves = Table(
    f"{PREFIX}moves", metadata,
    _episode_fk(),
    Column("ordinal", Integer, primary_key=True),
    Column("direction", String, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("source_col", Integer, nullable=False),
    Column("target_row", Integer, nullable=False),
    Column("target_col", Integer, nullable=False),
    Column("valid", Boolean, nullable=False),
)


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL; the exact text stays in record_json, where JSON escapes it.
    return value.replace("\x00", "\ufffd")


def _total(values: list[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def _costs(record: EpisodeRecord) -> float | None:
    gradings = [record.grading, *(attempt.grading for attempt in record.attempts)]
    costs = [m.cost_usd for m in _all_messages(record)] + [g.cost_usd for g in gradings if g is not None]
    known = [cost for cost in costs if cost is not None]
    return sum(known) if known else None


def _all_messages(record: EpisodeRecord) -> list[MessageRecord]:
    return [message for attempt in record.attempts for message in attempt.messages] + record.messages


def episode_row(run_id: str, record: EpisodeRecord, stored_at: datetime) -> dict[str, Any]:
    """The `collabgap_episodes` row of one record."""
    spec, score, error, relay, grading = record.spec, record.score, record.error, record.spec.relay, record.grading
    usages = record.usages
    return {
        "run_id": run_id,
        "episode_id": spec.episode_id,
        "stored_at": stored_at,
        "condition": spec.condition,
        "mode": spec.mode,
        "feedback": spec.feedback,
        "message_limit": spec.message_limit,
        "seat_a_name": spec.seat_a.name,
        "seat_a_url": spec.seat_a.url,
        "seat_b_name": spec.seat_b.name if spec.seat_b else None,
        "seat_b_url": spec.seat_b.url if spec.seat_b else None,
        "grader_name": spec.grader.name if spec.grader else None,
        "grader_url": spec.grader.url if spec.grader else None,
        "relay_kind": relay.kind if relay else None,
        "relay_after": relay.after_messages if relay else None,
        "relay_seat_a_name": relay.seat_a.name if relay and relay.seat_a else None,
        "relay_seat_b_name": relay.seat_b.name if relay and relay.seat_b else None,
        "maze_size": spec.maze.size if isinstance(spec.maze, MazeParams) else len(spec.maze.rows),
        "maze_id": record.maze_id,
        "game_id": record.game_id,
        "repetition": spec.repetition,
        "attempt": record.attempt,
        "status": record.status,
        "end_reason": record.end_reason,
        "error_kind": error.kind if error else None,
        "error_seat": error.seat if error else None,
        "error_message": _text(error.message) if error else None,
        "weighted": score.weighted if score else None,
        "success": score.success if score else None,
        "moves": score.moves if score else None,
        "conflicts": score.conflicts if score else None,
        "optimal_length": score.optimal_length if score else None,
        "message_count": len(record.messages),
        "tokens_in": _total([u.prompt_tokens for u in usages]),
        "tokens_out": _total([u.completion_tokens for u in usages]),
        "tokens_reasoning": _total([u.reasoning_tokens for u in usages]),
        "cost_usd": _costs(record),
        "grading_convention": grading.convention if grading else None,
        "grading_route": _text(" ".join(grading.route)) if grading else None,
        "duration_s": record.duration_s,
        "record_format": record.format,
        "record_json": record.model_dump_json(),
    }


def message_rows(episode: int, record: EpisodeRecord) -> list[dict[str, Any]]:
    """The `collabgap_messages` rows of one record, in conversation order."""
    return [
        {
            "episode": episode,
            "ordinal": ordinal,
            "message_index": message.index,
            "seat": message.seat,
            "player": _text(message.player),
            "text": _text(message.text),
            "vote": _text(message.vote) if message.vote is not None else None,
            "vote_error": _text(message.vote_error) if message.vote_error is not None else None,
            "model": message.usage.model if message.usage else None,
            "prompt_tokens": message.usage.prompt_tokens if message.usage else None,
            "completion_tokens": message.usage.completion_tokens if message.usage else None,
            "reasoning_tokens": message.usage.reasoning_tokens if message.usage else None,
            "model_calls": message.usage.calls if message.usage else None,
            "model_latency_s": message.usage.latency_s if message.usage else None,
            "latency_s": message.latency_s,
            "cost_usd": message.cost_usd,
        }
        for ordinal, message in enumerate(record.messages)
    ]


def vote_rows(episode: int, record: EpisodeRecord) -> list[dict[str, Any]]:
    """The `collabgap_votes` rows of one record, in the order the referee received them."""
    return [
        {"episode": episode, "ordinal": ordinal, "seat": vote.seat, "direction": _text(vote.direction),
         "executed": vote.executed, "conflict": vote.conflict}
        for ordinal, vote in enumerate(record.votes)
    ]


def move_rows(episode: int, record: EpisodeRecord) -> list[dict[str, Any]]:
    """The `collabgap_moves` rows of one record, in the order they were made."""
    return [
        {"episode": episode, "ordinal": ordinal, "direction": _text(move.direction),
         "source_row": move.source[0], "source_col": move.source[1],
         "target_row": move.target[0], "target_col": move.target[1], "valid": move.valid}
        for ordinal, move in enumerate(record.moves)
    ]
