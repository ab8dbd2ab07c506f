"""LLM players, with the paper's message plumbing (DESIGN §3.2).

One system prompt says a relay forwards messages verbatim; the task arrives as a user message prefixed
`[user]:`; each partner message arrives as a user message prefixed `[other agent]:`; the player's own messages
are assistant turns.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from protocol import GradeRequest, SeatStart, SeatTurn

from .._vendors import ChatMessage, Vendor
from ._base import PlayerInput, PlayerReply

TASK, PARTNER = "[user]: ", "[other agent]: "


def default_system_prompt() -> str:
    return resources.files("services.agent").joinpath("prompts/system.md").read_text()


def load_system_prompt(path: Path | None) -> str:
    """The system prompt: the user's file when given, else the packaged one."""
    return path.read_text() if path is not None else default_system_prompt()


class LLMPlayer:
    """Keeps one conversation per seat and asks the model for each reply."""

    def __init__(self, vendor: Vendor, system_prompt: str) -> None:
        self._vendor = vendor
        self._messages = [ChatMessage("system", system_prompt)]

    async def reply(self, message: PlayerInput, texts: list[str]) -> PlayerReply:
        if isinstance(message, GradeRequest):  # one-shot: the text is the grader's whole task
            completion = await self._vendor.complete([ChatMessage("user", "\n\n".join(texts))])
            return PlayerReply(completion.text, completion.usage)
        if isinstance(message, SeatStart):
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
        completion = await self._vendor.complete(list(self._messages))
        self._messages.append(ChatMessage("assistant", completion.text))
        return PlayerReply(completion.text, completion.usage)



