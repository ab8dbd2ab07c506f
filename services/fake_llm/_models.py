"""The fake vendor's models: scripted policies that read a chat conversation and answer in natural English.

They see only what a real model sees (the system prompt and the chat turns) and follow the paper's plumbing:
the task arrives as a user turn prefixed `[user]:`, the partner's messages as user turns prefixed
`[other agent]:`, and the model's own messages are assistant turns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from protocol import CollabgapError, Knowledge, Speaker, Style, cartographer_says, follower_says, grade_transcript

TASK_PREFIX = "[user]:"
PARTNER_PREFIX = "[other agent]:"
Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatTurn:
    role: Role
    content: str


class UnknownModelError(CollabgapError):
    """The fake vendor serves no model of that name."""


def _dialogue(turns: Sequence[ChatTurn]) -> tuple[str, list[tuple[Speaker, str]]]:
    task, dialogue = "", list[tuple[Speaker, str]]()
    for turn in turns:
        text = turn.content.strip()
        if turn.role == "assistant":
            dialogue.append(("self", text))
        elif turn.role == "user" and text.startswith(PARTNER_PREFIX):
            dialogue.append(("partner", text[len(PARTNER_PREFIX):].strip()))
        elif turn.role == "user" and text.startswith(TASK_PREFIX) and not task:
            task = text[len(TASK_PREFIX):].strip()
    return task, dialogue


def _seat_model(speak: Callable[..., str], coordinates: bool = False) -> Callable[[Sequence[ChatTurn]], str]:
    def respond(turns: Sequence[ChatTurn]) -> str:
        task, dialogue = _dialogue(turns)
        if not task:
            return "I did not receive a task. Please send the maze task first."
        knowledge = Knowledge.from_transcript(task, dialogue)
        style = Style(referee="MOVE:" in task, coordinates=coordinates)
        opening = not any(speaker == "self" for speaker, _ in dialogue)
        return speak(knowledge, style, opening=opening)

    return respond


def _grade(turns: Sequence[ChatTurn]) -> str:
    return grade_transcript("\n".join(turn.content for turn in turns if turn.role == "user"))


MODELS: dict[str, Callable[[Sequence[ChatTurn]], str]] = {
    "sim-cartographer": _seat_model(cartographer_says),
    "sim-follower": _seat_model(follower_says),
    "sim-coords": _seat_model(cartographer_says, coordinates=True),
    "sim-grader": _grade,
}


def respond(model: str, turns: Sequence[ChatTurn]) -> str:
    """The model's next message for the conversation `turns` (system turns are ignored).

    Raises:
        UnknownModelError: no such model.
        MazeError: a seat model found no maze task in the conversation.
    """
    try:
        policy = MODELS[model]
    except KeyError:
        raise UnknownModelError(f"model {model!r} does not exist; try one of {', '.join(sorted(MODELS))}") from None
    return policy(turns)
