"""Training data from stored episodes: each seat's conversation as its model saw it, in the OpenAI chat shape.

One example per seat per episode: the full request of the seat's last model call, rebuilt from the compact
reports (`protocol.expand_calls`), then the seat's final message as the closing assistant turn. Seats whose
agent reported no model input (scripted players, most third-party agents) are left out and counted; nothing is
reconstructed from the transcript, since the prompt an agent did not report cannot be known exactly.

    tally = ExportTally()
    with open("train.jsonl", "w") as out:
        write_jsonl(chat_examples(load_records(run_dir), run_id, ExportOptions(min_score=0.5), tally), out)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, TextIO

from pydantic import BaseModel, ConfigDict

from collabgap.protocol import Condition, MazeParams, ModelMessage, Seat, expand_calls

from .._records import EpisodeRecord, MessageRecord

EpisodeSkip = Literal["platform_error", "agent_failure", "filtered"]
"""Why a whole episode is left out: the platform failed (never exported), an agent or the grader failed (exported
only when asked), or the options' filters do not match it."""
SeatSkip = Literal["filtered", "no_messages", "no_model_input", "incomplete_model_input", "transcript_mismatch"]
"""Why one seat of an exported episode is left out: `--seat` excludes it; it wrote nothing; its last message came
with no model input; an earlier report is missing, so the request cannot be rebuilt; or the request's assistant
turns are not the seat's own earlier messages."""


class ExportOptions(BaseModel):
    """Which episodes and seats an export takes; the defaults take every scored episode's seats."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_score: float | None = None
    """Only episodes whose weighted score is at least this."""
    seats: frozenset[Seat] | None = None
    """Only these seats; None: every seat."""
    conditions: frozenset[Condition] | None = None
    """Only episodes of these conditions; None: all."""
    agent_failures: bool = False
    """Also episodes scored although an agent or the grader failed (`EpisodeRecord.flagged`)."""


@dataclass
class ExportTally:
    """What an export left out, counted as `chat_examples` draws its examples."""

    episodes: Counter[EpisodeSkip] = field(default_factory=Counter)
    seats: Counter[SeatSkip] = field(default_factory=Counter)


def chat_examples(records: Iterable[EpisodeRecord], run_id: str, options: ExportOptions | None = None,
                  tally: ExportTally | None = None) -> Iterator[dict[str, object]]:
    """One example per exported seat: `{"messages": [...], "metadata": {...}}`, the OpenAI chat fine-tuning shape.

    `messages` is the seat's last request, as its agent reported it, then the seat's final message as an
    assistant turn. `metadata` says where it came from and how the episode scored (docs/export.md). Platform
    errors are never exported; what is left out is counted in `tally`.
    """
    options = options or ExportOptions()
    tally = tally if tally is not None else ExportTally()
    for record in records:
        if (skip := _episode_skip(record, options)) is not None:
            tally.episodes[skip] += 1
            continue
        for seat in record.spec.seats():
            if options.seats is not None and seat not in options.seats:
                tally.seats["filtered"] += 1
                continue
            own = [m for m in record.messages if m.seat == seat]
            conversation = _conversation(own)
            if isinstance(conversation, str):
                tally.seats[conversation] += 1
                continue
            yield {"messages": [_chat_message(m) for m in conversation],
                   "metadata": _metadata(record, run_id, seat, own[-1])}


def write_jsonl(examples: Iterable[dict[str, object]], out: TextIO) -> int:
    """Write each example as one line of JSON (UTF-8 text as is); returns how many were written."""
    written = 0
    for example in examples:
        out.write(json.dumps(example, ensure_ascii=False) + "\n")
        written += 1
    return written


def _episode_skip(record: EpisodeRecord, options: ExportOptions) -> EpisodeSkip | None:
    if record.score is None or (record.error is not None and record.error.platform):
        return "platform_error"
    if record.flagged and not options.agent_failures:
        return "agent_failure"
    if options.conditions is not None and record.spec.condition not in options.conditions:
        return "filtered"
    if options.min_score is not None and record.score.weighted < options.min_score:
        return "filtered"
    return None


def _conversation(own: list[MessageRecord]) -> list[ModelMessage] | SeatSkip:
    """The seat's last request and its final message, or why it cannot be had exactly."""
    if not own:
        return "no_messages"
    if not own[-1].model_input:
        return "no_model_input"
    request: list[ModelMessage] = []
    for message in own:  # a message without reports (a scripted holder before a relay) leaves the chain as is
        if message.model_input:
            try:
                request = expand_calls(message.model_input, request)[-1]
            except ValueError:
                return "incomplete_model_input"
    # The turns that ended each earlier reply (tool-call rounds aside) must be what the seat actually wrote.
    replies = [m.content for m in request if m.role == "assistant" and not m.tool_calls]
    if replies != [m.text for m in own[:-1]]:
        return "transcript_mismatch"
    return [*request, ModelMessage(role="assistant", content=own[-1].text)]


def _chat_message(message: ModelMessage) -> dict[str, object]:
    """A stored model message in the Chat Completions shape (a tool result's error flag has no place there)."""
    chat: dict[str, object] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        chat["tool_calls"] = [{"id": call.id, "type": "function",
                               "function": {"name": call.name, "arguments": call.arguments}}
                              for call in message.tool_calls]
    if message.tool_call_id is not None:
        chat["tool_call_id"] = message.tool_call_id
    return chat


def _metadata(record: EpisodeRecord, run_id: str, seat: Seat, last: MessageRecord) -> dict[str, object]:
    spec, score = record.spec, record.score
    assert score is not None  # platform errors, the only unscored episodes, are never exported
    maze = spec.maze
    return {
        "run_id": run_id,
        "episode_id": spec.episode_id,
        "seat": seat,
        "agent": last.player or spec.seats()[seat].name,
        "model": last.usage.model if last.usage is not None else None,
        "condition": spec.condition,
        "relay": spec.relay.kind if spec.relay is not None else None,
        "mode": spec.mode,
        "maze_size": maze.size if isinstance(maze, MazeParams) else len(maze.rows),
        "maze_seed": maze.seed if isinstance(maze, MazeParams) else None,
        "status": record.status,
        "end_reason": record.end_reason,
        "weighted": score.weighted,
        "solved": score.success,
    }
