"""A person at a seat (issue 15): `HumanPlayer` answers each seat message with what a person types on the
seat's web page, which `create_human_app` (`_human_pages`) serves beside the usual A2A routes.

The seat contract is every agent's: the coordinator cannot tell a person from a model. Each game's start opens a
`HumanGame` on the service's `HumanDesk`; the lobby lists the games nobody has joined, and joining one hands the
browser that game's secret in a cookie, so each page sees its own game only. While the person types, the A2A task
stays `working`; a reply that does not come within `reply_timeout_s` fails the task as the seat's timeout
(`NoReplyError`), which the coordinator records as `agent_timeout` (docs/human.md).

    app = create_human_app(HumanSettings(public_url="http://127.0.0.1:8790", reply_timeout_s=300))
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from a2a.utils.errors import InvalidParamsError
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from collabgap.protocol import SeatEnd, SeatStart, SeatTurn, VoteOutcome

from ._errors import NoReplyError
from ._players import PlayerInput, PlayerReply

MAX_REPLY_CHARS = 10_000
"""The most a person may send in one message; the coordinator takes twice that."""
Speaker = Literal["partner", "you", "referee", "task"]


class HumanSettings(BaseModel):
    """How a human seat's service is served; validated once, at the edge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    public_url: str | None = None
    """The base URL the agent card advertises and the page's address; None: the address it is served at."""
    token: SecretStr | None = None
    """When set, the page and the A2A endpoint alike need it (a browser hands it over once, at `/login`)."""
    reply_timeout_s: float = Field(300.0, gt=0)
    """Seconds a person has for each message; then the game ends as this seat's timeout. Keep it below the
    coordinator's turn timeout, so the seat's own answer arrives first (a run sets 90 % of it)."""
    max_games: int = Field(256, ge=1)
    """Games remembered at once; the oldest finished ones are forgotten first."""


@dataclass(frozen=True)
class Line:
    """One entry of the conversation as the person's page shows it."""

    who: Speaker
    text: str


def outcome_line(outcome: VoteOutcome, seat: str) -> Line:
    """The referee's verdict on one vote, in words."""
    voter = "You" if outcome.seat == seat else "Your partner"
    verdict = "executed" if outcome.executed else "not executed (no agreement yet)"
    where = f"; now at row {outcome.position[0]}, column {outcome.position[1]}" if outcome.position else ""
    return Line("referee", f"{voter} voted {outcome.direction}: {verdict}; the game is {outcome.status}{where}.")


@dataclass(eq=False)
class HumanGame:
    """One game and seat as its person sees it: the task, the conversation, and whether it is their turn."""

    start: SeatStart
    task: list[str]
    """The start message's text parts: the rules and the map in the words the prompt uses."""
    key: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    """The game's name in URLs; not a secret."""
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    """What the joined browser holds in its cookie; the page and its state need it."""
    opened: float = field(default_factory=time.time)
    lines: list[Line] = field(default_factory=list)
    joined: bool = False
    over: str | None = None
    """Why the game is over, once it is."""
    deadline: float | None = None
    """While it is the person's turn: when their time runs out (`time.monotonic`)."""
    version: int = 0
    """Bumped on every change; the page asks for changes since the version it shows."""
    _reply: asyncio.Future[str] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        if self.start.history:  # a relay newcomer takes over a conversation under way
            self.lines += [Line("you" if h.seat == self.start.seat else "partner", h.text) for h in self.start.history]
        elif self.start.partner_text:
            self.lines.append(Line("partner", self.start.partner_text))

    @property
    def your_turn(self) -> bool:
        return self._reply is not None and not self._reply.done()

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(secret.encode(), self.secret.encode())

    def hear(self, turn: SeatTurn, texts: list[str]) -> None:
        """A turn: the referee's outcomes, then the partner's message (alone: what the task giver says)."""
        self.lines += [outcome_line(outcome, self.start.seat) for outcome in turn.outcomes]
        if turn.partner_text is not None:
            self.lines.append(Line("partner", turn.partner_text))
        elif self.start.condition != "pair":
            self.lines += [Line("task", text) for text in texts if text.strip()]
        self._bump()

    async def ask(self, timeout_s: float) -> str:
        """Wait for the person's message.

        Raises:
            NoReplyError: none came within `timeout_s`; the game is then over for this page.
        """
        self._reply = asyncio.get_running_loop().create_future()
        self.deadline = time.monotonic() + timeout_s
        self._bump()
        try:
            async with asyncio.timeout(timeout_s):
                return await self._reply
        except TimeoutError as exc:
            self.over = f"Time ran out: no message within {timeout_s:g} s, so the game ended as your timeout."
            raise NoReplyError(f"no reply within {timeout_s:g} s: the person at seat {self.start.seat} did not "
                               "answer") from exc
        finally:
            self._reply, self.deadline = None, None
            self._bump()

    def answer(self, text: str) -> bool:
        """The person's message; False when it is not their turn."""
        if self._reply is None or self._reply.done() or self.over is not None:
            return False
        self.lines.append(Line("you", text))
        self._reply.set_result(text)
        self._bump()
        return True

    def end(self, end: SeatEnd) -> None:
        self.over = f"The game is over: {end.status} ({end.reason})."
        self._bump()

    async def changed(self, version: int, timeout_s: float) -> None:
        """Return once the game differs from `version`, or after `timeout_s`."""
        if self.version != version:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._changed.wait()

    def _bump(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()


class HumanDesk:
    """Every game the service's people play: the lobby's list, and each game behind its key and secret."""

    def __init__(self, reply_timeout_s: float, max_games: int = 256) -> None:
        self.reply_timeout_s = reply_timeout_s
        self._games: OrderedDict[str, HumanGame] = OrderedDict()
        self._max_games = max_games

    def open(self, start: SeatStart, texts: list[str]) -> HumanGame:
        game = HumanGame(start, list(texts))
        self._games[game.key] = game
        for key in [key for key, old in self._games.items() if old.over is not None]:
            if len(self._games) <= self._max_games:
                break
            del self._games[key]
        return game

    def waiting(self) -> list[HumanGame]:
        """The games nobody has joined yet, oldest first."""
        return [game for game in self._games.values() if not game.joined and game.over is None]

    def join(self, key: str) -> HumanGame | None:
        """Hand the game to the first browser that asks; None when it is unknown or already joined."""
        game = self._games.get(key)
        if game is None or game.joined or game.over is not None:
            return None
        game.joined = True
        game.version += 1
        return game

    def game(self, key: str, secret: str) -> HumanGame | None:
        """The game whose key and secret these are; None for anyone else."""
        game = self._games.get(key)
        return game if game is not None and game.matches(secret) else None


class HumanPlayer:
    """A seat played by a person: each reply is what they send from the game's page."""

    def __init__(self, desk: HumanDesk) -> None:
        self._desk = desk
        self._game: HumanGame | None = None

    async def reply(self, message: PlayerInput, texts: list[str]) -> PlayerReply:
        if isinstance(message, SeatStart):
            self._game = self._desk.open(message, texts)
        elif isinstance(message, SeatTurn):
            if self._game is None:
                raise InvalidParamsError("a turn always follows its game's start")
            self._game.hear(message, texts)
        else:
            raise InvalidParamsError("a person at this service plays seats; grade with scripted:grader or a model")
        return PlayerReply(await self._game.ask(self._desk.reply_timeout_s))

    def game_over(self, end: SeatEnd) -> None:
        if self._game is not None:
            self._game.end(end)

