"""The seat conversation (DESIGN §3.3): the `{"collabgap": …}` data part, and votes written in prose.

Every field here is part of the A2A wire contract that third-party agents build against; add fields, never
rename them, and bump `RULES_VERSION` when the rules the prompt states change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

RULES_VERSION = "collabgap-maze/1"
COMPLETION_PHRASE = "ACTI!"
DATA_KEY = "collabgap"
SEAT_SKILL = "collabgap.maze-seat"
"""The skill id an agent card declares to say it can take a seat."""
REFEREE_EXTENSION = "urn:collabgap:referee-mcp:v1"
"""Declared in an agent card's capabilities by agents that call the referee's seat tools themselves."""

Seat = Literal["A", "B", "C", "D", "E", "F"]
SEATS: tuple[Seat, ...] = ("A", "B", "C", "D", "E", "F")
"""Every seat a game can have, in order: a pair plays `A` and `B`, a team of N the first N."""
GameStatus = Literal["active", "solved", "failed", "ended"]
Condition = Literal["pair", "solo-full", "solo-split", "team"]
SOLO_CONDITIONS: tuple[Condition, ...] = ("solo-full", "solo-split")
"""The conditions one seat plays alone."""
Mode = Literal["referee", "paper"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class VoteOutcome(_Wire):
    """What the referee made of one vote, as far as the game's feedback level lets a seat know."""

    seat: Seat
    direction: str
    executed: bool
    """Both seats named this direction (solo: always), so the move was made."""
    status: GameStatus
    position: tuple[int, int] | None = None
    """The current cell after the vote; only with feedback `position`."""


class HistoryEntry(_Wire):
    """One earlier message of the game, for a player taking over a seat mid-game."""

    seat: Seat
    text: str


class SeatStart(_Wire):
    """Opens a game for a seat. The text part beside it is the full task prompt."""

    kind: Literal["start"] = "start"
    game_id: str
    seat: Seat
    condition: Condition
    speaks_first: bool
    message_limit: int
    size: int
    maps: list[list[str]]
    """This seat's view(s): one map in `pair` and `solo-full`, both labelled views in `solo-split`."""
    legend: str
    rules_version: str = RULES_VERSION
    mode: Mode = "referee"
    """`referee`: moves are votes the referee applies; `paper`: free dialogue, graded afterwards."""
    move_channel: Literal["message", "referee", "none"] = "message"
    """`message`: vote with a line `MOVE: <direction>` or a data part `{"move": ...}`."""
    referee_url: str | None = None
    """Only for agents declaring the referee extension."""
    seat_token: str | None = None
    """Only for agents declaring the referee extension."""
    partner_text: str | None = None
    """The partner's opening message, when the partner spoke first."""
    history: list[HistoryEntry] = Field(default_factory=list)
    team: list[Seat] = Field(default_factory=list)
    """Condition `team`: every seat of the game, in speaking order (this one among them); empty otherwise."""
    messages: list[HistoryEntry] = Field(default_factory=list)
    """Condition `team`: what the other seats said before this seat's first message, oldest first, each with its
    author."""


class SeatTurn(_Wire):
    """The partner spoke (or, solo, the referee answered); it is this seat's turn."""

    kind: Literal["turn"] = "turn"
    game_id: str
    seat: Seat
    turn: int
    """1-based number of the message this seat is about to write."""
    partner_text: str | None = None
    outcomes: list[VoteOutcome] = Field(default_factory=list)
    """The referee's verdict on every vote since this seat last spoke, oldest first."""
    messages: list[HistoryEntry] = Field(default_factory=list)
    """Condition `team`: what the other seats said since this seat last spoke, oldest first, each with its
    author."""


class SeatEnd(_Wire):
    """The game is over; the agent may forget it."""

    kind: Literal["end"] = "end"
    game_id: str
    seat: Seat
    status: GameStatus
    reason: str


class GradeRequest(_Wire):
    """Paper mode: asks a grader to extract the agreed route from a transcript (the text part holds it)."""

    kind: Literal["grade"] = "grade"
    game_id: str
    size: int


class Usage(_Wire):
    """What one reply cost, reported by the agent in its reply's metadata under `collabgap.usage`."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    calls: int = 1
    """Model calls that made this reply (retries included)."""
    latency_s: float = 0.0
    """Time spent waiting for the model, retries and backoff included."""


class ModelToolCall(_Wire):
    """A function call an assistant turn made."""

    id: str
    name: str
    arguments: str
    """The arguments as the JSON text sent back to the vendor."""


class ModelMessage(_Wire):
    """One message of a request to a model, as sent (before the vendor's own wire format)."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: list[ModelToolCall] = Field(default_factory=list)
    """Assistant turns only: the calls the model made in that turn."""
    tool_call_id: str | None = None
    """Tool turns only: the call this result answers."""
    is_error: bool = False
    """Tool turns only: the call failed and the content says why."""


class ModelCall(_Wire):
    """One request to a model, reported by the agent in its reply's metadata under `collabgap.calls`.

    A conversation grows, so each request repeats the one before it: a call names how many leading messages it
    shares with the previous call of the same conversation (the same seat; for the first call of a reply, the
    last call of the seat's previous reply) and lists only the rest. Retries of one request count once.
    """

    shared: int = Field(0, ge=0)
    """Leading messages this request has in common with the previous request of its conversation."""
    messages: list[ModelMessage]
    """The messages after the shared ones."""


def shared_prefix(previous: Sequence[ModelMessage], request: Sequence[ModelMessage]) -> ModelCall:
    """`request` as a call that shares its leading messages with `previous`, the request sent before it."""
    shared = 0
    for before, now in zip(previous, request):
        if before != now:
            break
        shared += 1
    return ModelCall(shared=shared, messages=list(request[shared:]))


def expand_calls(calls: Sequence[ModelCall], previous: Sequence[ModelMessage] = ()) -> list[list[ModelMessage]]:
    """The full request of each call, given the full request sent before the first of them.

    Raises:
        ValueError: a call shares more messages than the request before it had (an earlier report is missing).
    """
    requests: list[list[ModelMessage]] = []
    for call in calls:
        if call.shared > len(previous):
            raise ValueError(f"a call shares {call.shared} messages with a request of {len(previous)}")
        previous = [*previous[:call.shared], *call.messages]
        requests.append(previous)
    return requests


SeatMessage = Annotated[SeatStart | SeatTurn | SeatEnd | GradeRequest, Field(discriminator="kind")]


class SeatEnvelope(_Wire):
    """The data part of a coordinator→agent message."""

    collabgap: SeatMessage


_VOTE_LINE = re.compile(r"^\W*MOVE[ \t]*:[ \t*_`]*(\S.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)


def find_votes(text: str) -> list[str]:
    """The raw directions of every `MOVE: <direction>` line, in order (not yet validated)."""
    return [match.group(1).strip("*`_ ") for match in _VOTE_LINE.finditer(text)]


def says_done(text: str) -> bool:
    """Whether a message carries the completion phrase."""
    return COMPLETION_PHRASE in text


_AUTHOR = re.compile(r"^\[(?:agent[ _-]?([1-6])|seat[ _-]?([A-F])|([A-F]))\]:[ \t]*", re.IGNORECASE | re.MULTILINE)


def agent_name(seat: Seat) -> str:
    """How the paper's style names a seat: `A` is `agent 1`, `B` `agent 2`, and so on."""
    return f"agent {SEATS.index(seat) + 1}"


def label_message(seat: Seat, text: str) -> str:
    """A team message as relayed to the other seats: `[agent 2]: …`, its author's label first."""
    return f"[{agent_name(seat)}]: {text}"


def split_authors(text: str) -> list[tuple[Seat | None, str]]:
    """Relayed text as `(author, message)` pieces, in order.

    A label at the start of a line opens a message of its seat: `[agent 2]:` (also `[agent_2]:`), `[seat B]:`
    or `[B]:`. Text before the first label, or in a text with none, has no author (None).
    """
    matches = list(_AUTHOR.finditer(text))
    head = text[:matches[0].start()] if matches else text
    pieces: list[tuple[Seat | None, str]] = [(None, head.strip())] if head.strip() else []
    for match, after in zip(matches, [*matches[1:], None]):
        number, letter, bare = match.groups()
        author = SEATS[int(number) - 1] if number else SEATS["ABCDEF".index((letter or bare).upper())]
        pieces.append((author, text[match.end():after.start() if after else len(text)].strip()))
    return pieces
