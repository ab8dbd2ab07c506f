"""The fake vendor's models: scripted policies that read a chat conversation and answer in natural English.

They see only what a real model sees (the system prompt, the chat turns and the tools offered) and follow the
paper's plumbing: the task arrives as a user turn prefixed `[user]:`, the partner's messages as user turns
prefixed `[other agent]:`, and the model's own messages are assistant turns. In a team, the other seats'
messages carry their authors' labels (`[agent 2]: …`), after that prefix or instead of it, one or several to a
turn; the task says how many seats play ("a team of three agents"). Alone in paper mode (the task
unprefixed), a seat model answers with the whole route as a list of cells and gives it again after the critic
step; `sim-grader` answers the pair and solo grader prompts in the paper's YAML shape.

Offered the referee's seat tools (`propose_move` among them), a seat model votes by calling `propose_move`
instead of writing a `MOVE:` line: it opens a game by calling `get_view`, then calls `propose_move` when its
policy votes, and once the results are back writes its message to the partner, saying how it voted in a
sentence the partner's model reads back ("I have voted down at the referee.").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from collabgap.protocol import CollabgapError, Direction, DirectionError, find_votes, split_authors
from collabgap.services.agent.scripted import (
    Knowledge,
    Speaker,
    Style,
    cartographer_says,
    follower_says,
    grade_transcript,
    relayed,
)

TASK_PREFIX = "[user]:"
PARTNER_PREFIX = "[other agent]:"
Role = Literal["system", "user", "assistant", "tool"]
VOTE_TOOL = "propose_move"
VIEW_TOOL = "get_view"
_VOTED = re.compile(r"\bI have voted (\w+) at the referee\b", re.IGNORECASE)
_MOVE_LINE = re.compile(r"^\W*MOVE[ \t]*:.*$\n?", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class ToolCall:
    """A function call in a conversation: made by an assistant turn, or answered by a tool turn (`id`)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    """Assigned by the dialect when the model makes the call (`call_…`, `toolu_…`)."""


@dataclass(frozen=True)
class ChatTurn:
    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    """Assistant turns: the functions the model called in this turn."""
    tool_call_id: str | None = None
    """Tool turns: the call this result answers."""
    is_error: bool = False
    """Tool turns: the call failed (its content says why)."""


@dataclass(frozen=True)
class ModelReply:
    """A model's next message: text, function calls, or both."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()


Model = Callable[[Sequence[ChatTurn], Collection[str]], ModelReply]
"""A scripted model: the conversation and the names of the tools offered (empty: answer in text) → its reply."""


class UnknownModelError(CollabgapError):
    """The fake vendor serves no model of that name."""


def _split(turns: Sequence[ChatTurn]) -> tuple[Sequence[ChatTurn], Sequence[ChatTurn]]:
    """The conversation before this reply, and this reply so far: its tool calls and their results."""
    last_user = max((i for i, turn in enumerate(turns) if turn.role == "user"), default=-1)
    return turns[:last_user + 1], turns[last_user + 1:]


def _succeeded(turns: Sequence[ChatTurn]) -> set[str]:
    return {turn.tool_call_id for turn in turns if turn.role == "tool" and turn.tool_call_id and not turn.is_error}


def _labelled(text: str) -> bool:
    """A team message relayed under its author's label alone (`[agent 2]: …`), without `[other agent]:`."""
    pieces = split_authors(text)
    return bool(pieces) and pieces[0][0] is not None


def _dialogue(turns: Sequence[ChatTurn]) -> tuple[str, list[tuple[Speaker, str]]]:
    """The task and the conversation as the policies replay it: who said what, votes as `MOVE:` lines.

    Votes cast with `propose_move` count when the referee took them (their result is no error); the partner's
    votes at the referee are read from its sentence saying so.
    """
    task, dialogue = "", list[tuple[Speaker, str]]()
    taken = _succeeded(turns)
    for turn in turns:
        text = turn.content.strip()
        if turn.role == "assistant":
            votes = [f"MOVE: {call.arguments.get('direction')}" for call in turn.tool_calls
                     if call.name == VOTE_TOOL and call.id in taken]
            dialogue.extend(("self", vote) for vote in votes)
            if text:
                dialogue.append(("self", text))
        elif turn.role == "user" and (text.startswith(PARTNER_PREFIX) or _labelled(text)):
            for speaker, said in relayed(text.removeprefix(PARTNER_PREFIX).strip()):
                voted = _VOTED.search(said)
                if voted and not find_votes(said):
                    said = f"{said}\nMOVE: {voted.group(1)}"
                dialogue.append((speaker, said))
        elif turn.role == "user" and not task:  # prefixed `[user]:`, except alone in paper mode
            task = text.removeprefix(TASK_PREFIX).strip()
    return task, dialogue


def _seat_model(speak: Callable[..., str], coordinates: bool = False) -> Model:
    def respond(turns: Sequence[ChatTurn], tools: Collection[str]) -> ModelReply:
        direct = VOTE_TOOL in tools or any(turn.tool_calls for turn in turns)
        before, current = _split(turns) if direct else (turns, ())
        task, dialogue = _dialogue(before)
        if not task:
            return ModelReply("I did not receive a task. Please send the maze task first.")
        knowledge = Knowledge.from_transcript(task, dialogue)
        style = Style(referee=direct or "MOVE:" in task, coordinates=coordinates)
        opening = not any(turn.role == "assistant" for turn in before)
        text = speak(knowledge, style, opening=opening)
        return _use_tools(text, current, tools, opening=opening) if direct else ModelReply(text)

    return respond


def _use_tools(text: str, current: Sequence[ChatTurn], tools: Collection[str], *, opening: bool) -> ModelReply:
    """The policy's message, with its vote cast through `propose_move` rather than written as a `MOVE:` line."""
    called = {call.name: call for turn in current for call in turn.tool_calls}
    votes = find_votes(text)
    prose = _MOVE_LINE.sub("", text).rstrip()
    if opening and VIEW_TOOL in tools and VIEW_TOOL not in called:
        return ModelReply("", (ToolCall(VIEW_TOOL),))
    if votes and VOTE_TOOL not in called:
        if VOTE_TOOL not in tools:  # asked to stop calling tools: say the vote instead of casting it
            return ModelReply(f"{prose}\nI could not vote {votes[0]} at the referee this time.")
        try:
            direction = Direction.parse(votes[0]).value
        except DirectionError:
            return ModelReply(prose)
        return ModelReply("", (ToolCall(VOTE_TOOL, {"direction": direction}),))
    if VOTE_TOOL in called:
        vote = called[VOTE_TOOL]
        result = next((t for t in current if t.role == "tool" and t.tool_call_id == vote.id), None)
        if result is not None and result.is_error:
            return ModelReply(f"{prose}\nThe referee refused my vote: {result.content.strip()}")
        return ModelReply(f"{prose}\nI have voted {vote.arguments.get('direction')} at the referee.")
    return ModelReply(prose)


def _grade(turns: Sequence[ChatTurn], tools: Collection[str]) -> ModelReply:
    return ModelReply(grade_transcript("\n".join(turn.content for turn in turns if turn.role == "user")))


MODELS: dict[str, Model] = {
    "sim-cartographer": _seat_model(cartographer_says),
    "sim-follower": _seat_model(follower_says),
    "sim-coords": _seat_model(cartographer_says, coordinates=True),
    "sim-grader": _grade,
}


def respond(model: str, turns: Sequence[ChatTurn], tools: Collection[str] = ()) -> ModelReply:
    """The model's next message for the conversation `turns` (system turns are ignored), offered `tools`.

    Raises:
        UnknownModelError: no such model.
        MazeError: a seat model found no maze task in the conversation.
    """
    try:
        policy = MODELS[model]
    except KeyError:
        raise UnknownModelError(f"model {model!r} does not exist; try one of {', '.join(sorted(MODELS))}") from None
    return policy(turns, tools)
