"""LLM players, with the paper's message plumbing (DESIGN §3.2).

One system prompt says a relay forwards messages verbatim; the task arrives as a user message prefixed
`[user]:`; each partner message arrives as a user message prefixed `[other agent]:`; the player's own messages
are assistant turns.

Referee-direct: when a game's start hands the seat the referee's URL and its seat token (`move_channel`
"referee"), the model is offered the referee's seat tools as functions for that game. Its calls are made at the
referee and their results fed back, for at most `MAX_TOOL_ROUNDS` rounds a reply, until it writes its message;
that message goes to the partner.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from a2a.utils.errors import InvalidParamsError
from pydantic import SecretStr

from protocol import GradeRequest, SeatStart, SeatTurn, Usage

from .._seat_tools import SEAT_TOOLS, SeatTools, ToolResult
from .._vendors import ChatMessage, Completion, Vendor
from ._base import PlayerInput, PlayerReply

TASK, PARTNER = "[user]: ", "[other agent]: "
MAX_TOOL_ROUNDS = 4
"""Rounds of tool calls the model may make in one reply; the round after them must be its message."""
_OUT_OF_ROUNDS = ToolResult(f"not called: at most {MAX_TOOL_ROUNDS} rounds of tool calls per message; "
                            "write your message to your partner now", is_error=True)


def default_system_prompt() -> str:
    return resources.files("services.agent").joinpath("prompts/system.md").read_text()


def load_system_prompt(path: Path | None) -> str:
    """The system prompt: the user's file when given, else the packaged one."""
    return path.read_text() if path is not None else default_system_prompt()


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


class LLMPlayer:
    """Keeps one conversation per seat and asks the model for each reply."""

    def __init__(self, vendor: Vendor, system_prompt: str) -> None:
        self._vendor = vendor
        self._messages = [ChatMessage("system", system_prompt)]
        self._tools: SeatTools | None = None

    async def reply(self, message: PlayerInput, texts: list[str]) -> PlayerReply:
        if isinstance(message, GradeRequest):  # one-shot: the text is the grader's whole task
            completion = await self._vendor.complete([ChatMessage("user", "\n\n".join(texts))])
            return PlayerReply(completion.text, completion.usage)
        if isinstance(message, SeatStart):
            self._tools = seat_tools(message)
            self._messages.append(ChatMessage("user", TASK + (texts[0] if texts else "")))
            for entry in message.history:  # a relay newcomer inherits its seat's messages as its own
                own = entry.seat == message.seat
                self._messages.append(ChatMessage("assistant", entry.text) if own
                                      else ChatMessage("user", PARTNER + entry.text))
            if message.partner_text is not None and not message.history:
                self._messages.append(ChatMessage("user", PARTNER + message.partner_text))
        elif isinstance(message, SeatTurn) and message.partner_text is not None:
            self._messages.append(ChatMessage("user", PARTNER + message.partner_text))
        else:  # solo: the referee's verdict, or a review request, comes from the task giver
            self._messages.append(ChatMessage("user", TASK + "\n".join(texts)))
        if self._tools is not None:
            return await self._reply_with_tools(self._tools)
        completion = await self._vendor.complete(list(self._messages))
        self._messages.append(ChatMessage("assistant", completion.text))
        return PlayerReply(completion.text, completion.usage)

    async def _reply_with_tools(self, tools: SeatTools) -> PlayerReply:
        """Let the model call the seat tools until it writes its message; every call and result stays in the
        conversation, as the vendors require."""
        completions: list[Completion] = []
        for round_ in range(MAX_TOOL_ROUNDS + 1):
            last = round_ == MAX_TOOL_ROUNDS
            completion = await self._vendor.complete(list(self._messages), SEAT_TOOLS,
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
        return PlayerReply(text, total_usage([c.usage for c in completions]))
