"""`collabgap play`: one game, played as a run into its own store, each message heard as it is relayed.

The game is a run file built in Python (`play_run`), played by `execute_run` like any other: platform errors are
retried, every attempt is kept, and `runs/play-<UTC time>-<4 hex>/store.db` is what `report`, `view` and `export`
read. The seats' agents are named by their seats, `A`, `B`, … (the grader `grader`) in the store; `seat_labels`
names them for people, by their cards.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field, HttpUrl

from collabgap.protocol import SEATS, Condition, MazeParams, Mode, Seat

from .._records import EpisodeRecord, maze_of
from ..game._card import Card, fetch_card
from ..game._episode import MessageListener
from ..game._http import tls_context
from ._run import execute_run, fresh_run_name, load_records, run_paths
from ._runfile import AgentEntry, ConditionEntry, Limits, MazeSet, RefereeEntry, RunFile
from ._runner import RunOutcome

LABEL_DEADLINE_S = 5.0
"""How long `seat_labels` waits for a card; an agent not up by then is named by its host and port."""
READY_TIMEOUT_S = 30.0
"""How long a game waits for its agents and referee to answer before it gives up (a run waits longer)."""


class PlaySettings(MazeParams):
    """One game: who sits where, the maze (the `MazeParams` fields), and the rules; validated once, at the edge.
    Holds no secret."""

    a: HttpUrl
    """Seat A's agent base URL."""
    b: HttpUrl | None = None
    """Seat B's agent base URL (pair and team)."""
    more_seats: list[HttpUrl] = Field(default_factory=list, max_length=len(SEATS) - 2)
    """Team: the agent base URLs of seats C, D, … (condition `team`)."""
    a_token_env: str | None = None
    b_token_env: str | None = None
    """The variables holding the seats' bearer tokens."""
    referee: HttpUrl | None = None
    """A referee already running (its token from COLLABGAP_REFEREE_TOKEN); default: the game starts one."""
    grader: HttpUrl | None = None
    """Paper mode: the grading agent's base URL."""
    condition: Condition = "pair"
    feedback: Literal["none", "position"] = "none"
    message_limit: int = Field(50, ge=1, le=1000)
    mode: Mode = "referee"
    turn_timeout_s: float = Field(120.0, gt=0)
    prompts_dir: Path | None = None
    prices_file: Path | None = None
    retries: int = Field(2, ge=0, le=20)
    """Extra attempts when the game ends in a platform error."""
    runs_dir: Path = Path("runs")

    def seats(self) -> dict[Seat, str]:
        """The seats this game fills, and the base URL of the agent in each."""
        seats: dict[Seat, str] = {"A": _base(self.a)}
        if self.condition in ("pair", "team") and self.b is not None:
            seats["B"] = _base(self.b)
        if self.condition == "team":
            seats.update(zip(SEATS[2:], (_base(url) for url in self.more_seats), strict=False))
        return seats


class PlayResult(BaseModel):
    outcome: RunOutcome
    record: EpisodeRecord | None
    """None when Ctrl-C stopped the game before it was stored."""


def _base(url: HttpUrl) -> str:
    return str(url).rstrip("/")


def play_run(settings: PlaySettings, name: str) -> RunFile:
    """The game as a run of one episode."""
    tokens: dict[Seat, str | None] = {"A": settings.a_token_env, "B": settings.b_token_env}
    agents: dict[str, AgentEntry] = {seat: AgentEntry(url=url, token_env=tokens.get(seat))
                                     for seat, url in settings.seats().items()}
    if settings.grader is not None:
        agents["grader"] = AgentEntry(url=settings.grader)
    seated = list(settings.seats())
    if settings.condition == "team":
        condition = ConditionEntry(kind="team", mode=settings.mode, pairing="explicit", teams=[seated])
    else:
        pairs = [seated] if len(seated) == 2 else []
        condition = ConditionEntry(kind=settings.condition, mode=settings.mode, agents=[] if pairs else ["A"],
                                   pairing="explicit" if pairs else "all", pairs=pairs)
    return RunFile(
        name=name, runs_dir=settings.runs_dir, retries=settings.retries, agents=agents,
        grader="grader" if settings.grader is not None else None,
        referee=RefereeEntry(url=settings.referee) if settings.referee is not None else None,
        prompts_dir=settings.prompts_dir.resolve() if settings.prompts_dir else None,
        prices_file=settings.prices_file.resolve() if settings.prices_file else None,
        mazes=MazeSet(count=1, **maze_of(settings).model_dump()), conditions=[condition],
        limits=Limits(messages=settings.message_limit, turn_timeout_s=settings.turn_timeout_s,
                      feedback=settings.feedback))


async def seat_labels(settings: PlaySettings) -> dict[Seat, str]:
    """Each seat's agent as people know it: its card's name, or its URL's host:port when the card has none (or
    cannot be read yet)."""
    async with httpx.AsyncClient(verify=tls_context(), timeout=LABEL_DEADLINE_S) as http:
        cards = await asyncio.gather(*(fetch_card(http, url, LABEL_DEADLINE_S) for url in settings.seats().values()))
    labels: dict[Seat, str] = {}
    for (seat, url), card in zip(settings.seats().items(), cards, strict=True):
        name = card.data.get("name") if isinstance(card, Card) else None
        labels[seat] = name.strip() if isinstance(name, str) and name.strip() else urlsplit(url).netloc
    return labels


def run_play(settings: PlaySettings, on_message: MessageListener | None = None) -> PlayResult:
    """Play the game into its own store (starting a referee unless one is given) and read its record back.

    Raises:
        ConfigError: an agent or the referee did not answer within `READY_TIMEOUT_S`.
    """
    run = play_run(settings, fresh_run_name("play"))
    outcome = execute_run(run, None, on_message=on_message, ready_timeout_s=READY_TIMEOUT_S)
    records = load_records(run_paths(run, None)[0])
    return PlayResult(outcome=outcome, record=records[0] if records else None)
