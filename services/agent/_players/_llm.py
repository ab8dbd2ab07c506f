"""LLM players, with the paper's message plumbing (DESIGN §3.2).

One system prompt says a relay forwards messages verbatim; the task arrives as a user message prefixed
`[user]:`; each partner message arrives as a user message prefixed `[other agent]:`; the player's own messages
are assistant turns. In a paper-mode pair the system prompt is the paper's own (Fig. A.1); alone in paper mode
there is none, and the task and the critic step are plain user turns (docs/paper-protocol.md).

Referee-direct: when a game's start hands the seat the referee's URL and its seat token (`move_channel`
"referee"), the model is offered the referee's seat tools as functions for that game. Its calls are made at the
referee and their results fed back, for at most `MAX_TOOL_ROUNDS` rounds a reply, until it writes its message;
that message goes to the partner.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from a2a.utils.errors import InvalidParamsError
from pydantic import SecretStr

from collabgap.protocol import (
    GradeRequest,
    ModelCall,
    ModelMessage,
    ModelToolCall,
    SeatStart,
    SeatTurn,
    Usage,
    shared_prefix,
)

from .._seat_tools import SEAT_TOOLS, SeatTools, ToolResult
from .._vendors import ChatMessage, Completion, ToolChoice, ToolDefinition, Vendor
from ._base import PlayerInput, PlayerReply

TASK, PARTNER = "[user]: ", "[other agent]: "
MAX_TOOL_ROUNDS = 4
"""Rounds of tool calls the model may make in one reply; the round after them must be its message."""
_OUT_OF_ROUNDS = ToolResult(f"not called: at most {MAX_TOOL_ROUNDS} rounds of tool calls per message; "
                            "write your message to your partner now", is_error=True)


def _relayed(start: SeatStart) -> bool:
    """Other agents' messages reach this seat through the relay (a pair or a team, not a solo game)."""
    return start.condition in ("pair", "team")


def default_system_prompt(start: SeatStart) -> str | None:
    """The packaged system prompt of a game: the paper's own (Fig. A.1) in a paper-mode pair, and its team
    variant (the labels of several agents explained) in a paper-mode team; none alone in paper mode (the paper's
    solo task has no partner to relay); else collabgap's, for a pair or a team."""
    if start.mode == "paper" and not _relayed(start):
        return None
    name = ("system-paper" if start.mode == "paper" else "system") + ("-team" if start.condition == "team" else "")
    return resources.files("collabgap.services.agent").joinpath(f"prompts/{name}.md").read_text()


def load_system_prompt(path: Path | None) -> str | None:
    """The user's system prompt file, for every game; None: the packaged one of each game."""
    return path.read_text() if path is not None else None


def seat_tools(start: SeatStart) -> SeatTools | None:
    """The referee's seat tools, when the start asks this seat to vote at the referee itself.

    Raises:
        InvalidParamsError: the start names the referee channel without the URL or the seat token.
    """
    if start.move_channel != "referee":
        return None
    if not start.referee_url or not start.seat_token:
        raise InvalidParamsError("move_channel 'referee' needs referee_url and seat_token")
    return SeatTools(start.referee_url, SecretStr(start.seat_token))


def total_usage(usages: list[Usage]) -> Usage:
    """What several model calls of one reply cost together."""
    return Usage(model=usages[0].model, prompt_tokens=sum(u.prompt_tokens for u in usages),
                 completion_tokens=sum(u.completion_tokens for u in usages),
                 reasoning_tokens=sum(u.reasoning_tokens for u in usages), calls=sum(u.calls for u in usages),
                 latency_s=sum(u.latency_s for u in usages))


def model_message(message: ChatMessage) -> ModelMessage:
    """A chat message as the coordinator records it."""
    calls = [ModelToolCall(id=call.id, name=call.name, arguments=json.dumps(call.arguments))
             for call in message.tool_calls]
    return ModelMessage(role=message.role, content=message.content, tool_calls=calls,
                        tool_call_id=message.tool_call_id, is_error=message.is_error)


class LLMPlayer:
    """Keeps one conversation per seat and asks the model for each reply."""

    def __init__(self, vendor: Vendor, system_prompt: str | None = None) -> None:
        """`system_prompt` replaces the packaged one of every game."""
        self._vendor = vendor
        self._system_prompt = system_prompt
        self._messages: list[ChatMessage] = []
        self._task_prefix = TASK
        self._tools: SeatTools | None = None
        self._sent: list[ModelMessage] = []
        """The last request the model answered, as reported."""
        self._calls: list[ModelCall] = []
        """The requests of the reply in progress."""

    async def _complete(self, messages: list[ChatMessage], tools: Sequence[ToolDefinition] | None = None, *,
                        tool_choice: ToolChoice = "auto") -> Completion:
        """Ask the model, and note the request for the reply's report (its retries are the same request)."""
        completion = await self._vendor.complete(messages, tools, tool_choice=tool_choice)
        request = [model_message(m) for m in messages]
        self._calls.append(shared_prefix(self._sent, request))
        self._sent = request
        return completion

    async def reply(self, message: PlayerInput, texts: list[str]) -> PlayerReply:
        self._calls = []
        if isinstance(message, GradeRequest):  # one-shot: the text is the grader's whole task
            completion = await self._complete([ChatMessage("user", "\n\n".join(texts))])
            return PlayerReply(completion.text, completion.usage, tuple(self._calls))
        if isinstance(message, SeatStart):
            self._tools = seat_tools(message)
            system = self._system_prompt if self._system_prompt is not None else default_system_prompt(message)
            self._messages = [ChatMessage("system", system)] if system else []
            # Alone in paper mode the task is the paper's plain user turn: no relay, so no `[user]:` prefix.
            self._task_prefix = "" if message.mode == "paper" and not _relayed(message) else TASK
            self._messages.append(ChatMessage("user", self._task_prefix + (texts[0] if texts else "")))
            for entry in message.history:  # a relay newcomer inherits its seat's messages as its own
                own = entry.seat == message.seat
                self._messages.append(ChatMessage("assistant", entry.text) if own
                                      else ChatMessage("user", PARTNER + entry.text))
            if message.partner_text is not None and not message.history:
                self._messages.append(ChatMessage("user", PARTNER + message.partner_text))
        elif isinstance(message, SeatTurn) and message.partner_text is not None:
            self._messages.append(ChatMessage("user", PARTNER + message.partner_text))
        else:  # solo: the referee's verdict, or the critic step, comes from the task giver
            self._messages.append(ChatMessage("user", self._task_prefix + "\n".join(texts)))
        if self._tools is not None:
            return await self._reply_with_tools(self._tools)
        completion = await self._complete(list(self._messages))
        self._messages.append(ChatMessage("assistant", completion.text))
        return PlayerReply(completion.text, completion.usage, tuple(self._calls))

    async def _reply_with_tools(self, tools: SeatTools) -> PlayerReply:
        """Let the model call the seat tools until it writes its message; every call and result stays in the
        conversation, as the vendors require."""
        completions: list[Completion] = []
        for round_ in range(MAX_TOOL_ROUNDS + 1):
            last = round_ == MAX_TOOL_ROUNDS
            completion = await self._complete(list(self._messages), SEAT_TOOLS,
                                              tool_choice="none" if last else "auto")
            completions.append(completion)
            self._messages.append(ChatMessage("assistant", completion.text, tool_calls=completion.tool_calls))
            if not completion.tool_calls:
                break
            # A model that calls tools even when told not to gets its calls answered unmade, so the
            # conversation stays well formed for the next turn.
            results = [_OUT_OF_ROUNDS] * len(completion.tool_calls) if last else await tools.run(completion.tool_calls)
            self._messages.extend(ChatMessage("tool", result.text, tool_call_id=call.id, is_error=result.is_error)
                                  for call, result in zip(completion.tool_calls, results, strict=True))
        # The message is the model's last text; a model that wrote only before its tool calls said it there.
        text = next((c.text for c in reversed(completions) if c.text.strip()), "")
        return PlayerReply(text, total_usage([c.usage for c in completions]), tuple(self._calls))
