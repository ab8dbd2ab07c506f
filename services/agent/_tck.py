"""A deterministic conformance fixture (`--player fixture:tck`) for running the official A2A TCK against our server.

The TCK (a2aproject/a2a-tck, 1.0 line) tests the *server wiring* (card, routes, transports, error mapping, task
store, streaming), not an agent's judgement, so it signals the behaviour it needs through the `messageId` prefix
of each message (its `scenarios/*.feature`). This executor implements those scenarios from their descriptions;
any other prefix completes the task. It plays no games: see docs/a2a-tck.md.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from a2a.helpers import (
    new_data_part,
    new_raw_part,
    new_text_message,
    new_text_part,
    new_url_part,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import Part, Task, TaskState, TaskStatus
from a2a.utils.errors import InvalidParamsError

FIXTURE_PLAYER = "fixture:tck"
RESUBSCRIBE_HOLD_S = 4.0
"""How long a `test-resubscribe-message-id` task stays WORKING: twice the TCK's default streaming timeout (2 s)."""

FILE_NAME, FILE_TYPE = "output.txt", "text/plain"


@dataclass(frozen=True)
class Scenario:
    """What the executor does for one prefix: optionally WORKING, artifact chunks, then a final state."""

    working: bool = False
    chunks: tuple[tuple[Part, ...], ...] = ()
    """One artifact; each entry is a chunk of it (several chunks: streamed with append/lastChunk)."""
    final: TaskState = TaskState.TASK_STATE_COMPLETED
    final_text: str | None = None
    hold: bool = False


def _artifact(part: Part, *, working: bool = False) -> Scenario:
    return Scenario(working=working, chunks=((part,),))


def _streamed(part: Part) -> Scenario:
    return _artifact(part, working=True)


# Matched longest prefix first: `tck-artifact-file` is a prefix of `tck-artifact-file-url`.
SCENARIOS: dict[str, Scenario] = {
    "tck-complete-task": Scenario(final_text="Hello from TCK"),
    "tck-artifact-text": _artifact(new_text_part("Generated text content")),
    "tck-artifact-file": _artifact(new_raw_part(b"TCK file content", FILE_TYPE, FILE_NAME)),
    "tck-artifact-file-url": _artifact(new_url_part("https://example.com/output.txt", FILE_TYPE, FILE_NAME)),
    "tck-artifact-data": _artifact(new_data_part({"key": "value", "count": 42})),
    "tck-input-required": Scenario(final=TaskState.TASK_STATE_INPUT_REQUIRED, final_text="Input required by TCK"),
    "tck-reject-task": Scenario(final=TaskState.TASK_STATE_REJECTED, final_text="rejected"),
    "tck-stream-001": _streamed(new_text_part("Stream hello from TCK")),
    "tck-stream-003": _streamed(new_text_part("Stream task lifecycle")),
    "tck-stream-ordering-001": _streamed(new_text_part("Ordered output")),
    "tck-stream-artifact-text": _streamed(new_text_part("Streamed text content")),
    "tck-stream-artifact-file": _streamed(new_raw_part(b"TCK streamed file", FILE_TYPE, FILE_NAME)),
    "tck-stream-artifact-chunked": Scenario(working=True, chunks=((new_text_part("chunk-1 "),),
                                                                   (new_text_part("chunk-2"),))),
    "test-resubscribe-message-id": Scenario(working=True, hold=True),
}
MESSAGE_REPLIES = {"tck-message-response": "Direct message response", "tck-stream-002": "Stream message-only reply"}
"""Prefixes answered with one `Message` instead of a task (a message-only stream for `tck-stream-002`)."""
_BY_LENGTH = sorted([*SCENARIOS, *MESSAGE_REPLIES], key=len, reverse=True)


def scenario_prefix(message_id: str) -> str | None:
    """The TCK scenario prefix a message id starts with, longest match first; None for the default."""
    return next((prefix for prefix in _BY_LENGTH if message_id.startswith(prefix)), None)


class TckFixtureExecutor(AgentExecutor):
    """Acts out the TCK scenario its message id names; any other message completes its task."""

    def __init__(self, *, hold_s: float = RESUBSCRIBE_HOLD_S) -> None:
        self._hold_s = hold_s

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message, task = context.message, context.current_task
        # A continuation that names only its task gets a fresh `context.context_id` from the SDK: use the task's.
        task_id, context_id = (task.id, task.context_id) if task else (context.task_id, context.context_id)
        if message is None or not task_id or not context_id:
            raise InvalidParamsError("the TCK fixture needs a message")
        prefix = scenario_prefix(message.message_id)
        if prefix in MESSAGE_REPLIES:
            await event_queue.enqueue_event(new_text_message(MESSAGE_REPLIES[prefix], context_id=context_id))
            return
        scenario = SCENARIOS.get(prefix or "", SCENARIOS["tck-complete-task"])
        if task is None:  # a new task: the Task goes first; a continuation already has one
            await event_queue.enqueue_event(Task(id=task_id, context_id=context_id, history=[message],
                                                 status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED)))
        updater = TaskUpdater(event_queue, task_id, context_id)
        if scenario.working:
            await updater.start_work()
        artifact_id = f"{task_id}-artifact"
        several = len(scenario.chunks) > 1
        for n, parts in enumerate(scenario.chunks):
            await updater.add_artifact(list(parts), artifact_id=artifact_id, name="tck-output",
                                       append=n > 0 if several else None,
                                       last_chunk=n == len(scenario.chunks) - 1 if several else None)
        if scenario.hold:
            await asyncio.sleep(self._hold_s)
        final_message = updater.new_agent_message([new_text_part(scenario.final_text)]) if scenario.final_text else None
        await updater.update_status(scenario.final, message=final_message)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        task_id, context_id = (task.id, task.context_id) if task else (context.task_id, context.context_id)
        if task_id and context_id:
            await TaskUpdater(event_queue, task_id, context_id).cancel()
