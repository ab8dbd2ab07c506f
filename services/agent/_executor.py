"""The A2A executor: a thin adapter from seat messages to one `Player` per game and seat (DESIGN §3.3)."""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict

import pydantic
from a2a.helpers import get_data_parts, get_text_parts, new_text_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import Message, Task, TaskState, TaskStatus
from a2a.utils.errors import InternalError, InvalidParamsError

from collabgap.protocol import DATA_KEY, SEAT_SKILL, GradeRequest, SeatEnd, SeatEnvelope, SeatMessage
from collabgap.services.shared import RefereeUnavailableError

from ._errors import NoReplyError
from ._players import HearsEnd, Player, PlayerFactory, PlayerReply
from ._vendors import VendorError

logger = logging.getLogger(__name__)
NO_REPLY = {"failure": "timeout"}
"""Under `collabgap` in the metadata of a failed task's status message: the player did not reply in time, which
the coordinator records as the seat's `agent_timeout` (docs/seat-messages.md)."""
MAX_CALLS_CHARS = 256 * 1024
"""Cap on the reported model requests of one reply, well under the coordinator's 1 MiB reply cap; a larger
report is left out (a relay newcomer's first request can hold a whole game's history)."""


def read_seat_message(data: list[object]) -> SeatMessage | None:
    """The `{"collabgap": …}` data part of a message, validated; None when the message has no such part.

    Raises:
        InvalidParamsError: the part does not match the seat schema.
    """
    for item in data:
        if isinstance(item, dict) and DATA_KEY in item:
            try:
                return SeatEnvelope.model_validate(item).collabgap
            except pydantic.ValidationError as exc:
                raise InvalidParamsError(f"the {DATA_KEY!r} data part does not match the seat schema: {exc}") from exc
    return None


def about_text(player: str) -> str:
    """The answer to a message that is no seat message: what this agent is, and how a game reaches it."""
    return (f"I am a collabgap agent: I play one seat (skill {SEAT_SKILL}) of a two-player maze game, as player "
            f"{player}. I take part only in games: a collabgap coordinator starts one by sending each seat a "
            f'message with a data part {{"{DATA_KEY}": {{"kind": "start", ...}}}}, and every later message of the '
            "game carries such a part too. To play me, run `collabgap play` or `collabgap run` with this agent's "
            "URL; the seat messages are described in docs/seat-messages.md of the collabgap repository.")


def reply_metadata(reply: PlayerReply) -> dict[str, object]:
    """What a reply reports beside its text: `usage`, and under `calls` the model requests that made it."""
    report: dict[str, object] = {}
    if reply.usage is not None:
        report["usage"] = reply.usage.model_dump()
    calls = [call.model_dump() for call in reply.calls]
    if calls and len(json.dumps(calls)) > MAX_CALLS_CHARS:
        logger.warning("the model requests of one reply exceed %d characters; they are not reported", MAX_CALLS_CHARS)
    elif calls:
        report["calls"] = calls
    return report


class SeatExecutor(AgentExecutor):
    """Keeps one player per A2A context (one context per game and seat); forgets a game at its `end`, when it has
    been idle for `idle_s` seconds, or when `max_contexts` newer games are open. A message without a seat part
    (any plain A2A client) gets a completed task that says what this agent is, `about`.

    With `in_task`, each seat message is answered by a task that stays `working` while the player thinks (a person
    types) and completes with the reply; a player's `NoReplyError` fails it with `NO_REPLY` in its status message's
    metadata. Otherwise the reply is a plain message."""

    def __init__(self, factory: PlayerFactory, *, about: str, max_contexts: int = 4096, idle_s: float = 3600.0,
                 in_task: bool = False) -> None:
        self._factory = factory
        self._about = about
        self._in_task = in_task
        self._players: OrderedDict[str, tuple[Player, float]] = OrderedDict()
        """Least recently used first, with the time each was last used."""
        self._max_contexts = max_contexts
        self._idle_s = idle_s

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        if message is None or not context.context_id:
            raise InvalidParamsError("a seat message needs a message and a contextId")
        seat_message = read_seat_message(get_data_parts(message.parts))
        if seat_message is None:
            await self._introduce(message, context, event_queue)
            return
        texts = get_text_parts(message.parts)
        context_id = context.context_id
        if self._in_task:
            await self._answer_in_task(context, message, seat_message, texts, event_queue)
            return
        try:
            reply = await self._answer(context_id, seat_message, texts)
        except NoReplyError as exc:
            raise InternalError(str(exc)) from exc
        answer = new_text_message(reply.text, context_id=context_id)
        report = reply_metadata(reply)
        if report:
            answer.metadata.update({DATA_KEY: report})
        await event_queue.enqueue_event(answer)

    async def _answer_in_task(self, context: RequestContext, message: Message, seat_message: SeatMessage,
                              texts: list[str], event_queue: EventQueue) -> None:
        """The reply as a task: `working` before the player is asked, then completed, or failed on `NoReplyError`."""
        task = context.current_task
        if task is None:
            task = Task(id=context.task_id, context_id=context.context_id, history=[message],
                        status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED))
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        try:
            reply = await self._answer(task.context_id, seat_message, texts)
        except NoReplyError as exc:
            await updater.failed(updater.new_agent_message([new_text_part(str(exc))], metadata={DATA_KEY: NO_REPLY}))
            return
        report = reply_metadata(reply)
        await updater.complete(updater.new_agent_message([new_text_part(reply.text)],
                                                         metadata={DATA_KEY: report} if report else None))

    async def _introduce(self, message: Message, context: RequestContext, event_queue: EventQueue) -> None:
        """A task that completes at once, its artifact and final status message saying what this agent is."""
        task = context.current_task
        if task is None:  # the Task goes first; a message naming a task (never left open here) already has one
            task = Task(id=context.task_id, context_id=context.context_id, history=[message],
                        status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED))
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.add_artifact([new_text_part(self._about)], name="about")
        await updater.complete(updater.new_agent_message([new_text_part(self._about)]))

    async def _answer(self, context_id: str, seat_message: SeatMessage, texts: list[str]) -> PlayerReply:
        try:
            return await self._ask(context_id, seat_message, texts)
        except VendorError as exc:
            # The model could not be had: the coordinator records an agent error, never a model failure.
            raise InternalError(f"model unavailable: {exc}") from exc
        except RefereeUnavailableError as exc:  # likewise for a referee-direct player's tool calls
            raise InternalError(f"referee unavailable: {exc}") from exc

    async def _ask(self, context_id: str, seat_message: SeatMessage, texts: list[str]) -> PlayerReply:
        now = time.monotonic()
        self._forget_idle(now)
        if isinstance(seat_message, SeatEnd):
            ended = self._players.pop(context_id, None)
            if ended is not None and isinstance(ended[0], HearsEnd):
                ended[0].game_over(seat_message)
            return PlayerReply("Thanks for the game.")
        if isinstance(seat_message, GradeRequest):
            return await self._factory().reply(seat_message, texts)
        if seat_message.kind == "start":
            self._players[context_id] = (self._factory(), now)
            while len(self._players) > self._max_contexts:
                self._players.popitem(last=False)
        entry = self._players.get(context_id)
        if entry is None:
            raise InvalidParamsError(f"no game in context {context_id[:40]!r}: send its start message first")
        self._players[context_id] = (entry[0], now)
        self._players.move_to_end(context_id)
        return await entry[0].reply(seat_message, texts)

    def _forget_idle(self, now: float) -> None:
        """Drop the games no message has reached for `idle_s` seconds (their coordinator is gone)."""
        while self._players:
            context_id, (_, used) = next(iter(self._players.items()))
            if now - used < self._idle_s:
                return
            del self._players[context_id]

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        if context.task_id and context.context_id:
            await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()
