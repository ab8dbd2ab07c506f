"""Many episodes at once: a plan of conditions × seat assignments × mazes, played concurrently."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from protocol import Condition, MazeParams, Mode

from ._episode import episode_agents, play_episode
from ._prices import PriceTable
from ._prompts import Prompts
from ._records import EpisodeRecord, EpisodeSpec, SeatSpec
from ._referee_client import RefereeClient
from ._seat_client import connect_agents
from ._stats import CellSummary, summarize

logger = logging.getLogger(__name__)


class ExperimentConfig(BaseModel):
    """What to play and where; validated once, at the edge. Holds no secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    referee_url: str
    """The referee's MCP endpoint, ending in `/mcp`."""
    players: list[SeatSpec] = Field(min_length=1)
    conditions: list[Condition] = Field(["solo-full", "solo-split", "pair"], min_length=1)
    mazes: list[MazeParams] = Field(min_length=1)
    feedback: Literal["none", "position"] = "none"
    message_limit: int = Field(50, ge=1, le=1000)
    concurrency: int = Field(8, ge=1, le=1024)
    turn_timeout_s: float = Field(60.0, gt=0)
    mode: Mode = "referee"
    grader: SeatSpec | None = None
    """The grading agent, for paper mode."""
    prompts_dir: Path | None = None
    """Replacement prompt templates (files named like the packaged ones)."""
    prices_file: Path | None = None
    """Replacement price table."""


class ExperimentResult(BaseModel):
    """Every episode record, and the per-cell summaries computed from them."""

    records: list[EpisodeRecord]
    cells: list[CellSummary]

    def save(self, folder: Path) -> Path:
        """Write `results.json` into `folder`; returns its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "results.json"
        path.write_text(self.model_dump_json(indent=1))
        return path


def plan_episodes(config: ExperimentConfig) -> list[EpisodeSpec]:
    """Solo conditions for every player; `pair` for every ordered pair of players (both orders, and self-pairs)."""
    plan = []
    for condition in config.conditions:
        seatings: list[tuple[SeatSpec, SeatSpec | None]]
        if condition == "pair":
            seatings = [(a, b) for a in config.players for b in config.players]
        else:
            seatings = [(a, None) for a in config.players]
        for seat_a, seat_b in seatings:
            for maze in config.mazes:
                names = seat_a.name if seat_b is None else f"{seat_a.name}+{seat_b.name}"
                plan.append(EpisodeSpec(
                    episode_id=f"{condition}/{names}/{maze.maze_id}", condition=condition, seat_a=seat_a,
                    seat_b=seat_b, maze=maze, feedback=config.feedback, message_limit=config.message_limit,
                    mode=config.mode, grader=config.grader,
                ))
    return plan


async def run_episodes(plan: list[EpisodeSpec], referee_url: str, referee_token: SecretStr, *,
                       concurrency: int = 8, turn_timeout_s: float = 60.0, prompts: Prompts | None = None,
                       prices: PriceTable | None = None,
                       on_episode: Callable[[EpisodeRecord], None] | None = None) -> list[EpisodeRecord]:
    """Play `plan` with at most `concurrency` games at once; every episode ends with a record, errors included."""
    prompts, prices = prompts or Prompts.load(), prices or PriceTable.load()
    urls = sorted({agent.url for spec in plan for agent in episode_agents(spec)})
    async with contextlib.AsyncExitStack() as stack:
        # One pool per endpoint for the whole plan, a connection for each game in flight: no game opens its own.
        referee = await stack.enter_async_context(
            RefereeClient.connect(referee_url, referee_token.get_secret_value(), connections=concurrency))
        agents = await connect_agents(stack, urls, timeout=turn_timeout_s, connections=concurrency)
        limit = asyncio.Semaphore(concurrency)

        async def one(spec: EpisodeSpec) -> EpisodeRecord:
            async with limit:
                record = await play_episode(spec, referee, agents, prompts=prompts, prices=prices)
            if on_episode is not None:
                on_episode(record)
            return record

        return list(await asyncio.gather(*(one(spec) for spec in plan)))


async def run_experiment(config: ExperimentConfig, referee_token: SecretStr,
                         on_episode: Callable[[EpisodeRecord], None] | None = None) -> ExperimentResult:
    """Play the whole plan of `config` and summarize it."""
    records = await run_episodes(plan_episodes(config), config.referee_url, referee_token,
                                 concurrency=config.concurrency, turn_timeout_s=config.turn_timeout_s,
                                 prompts=Prompts.load(config.prompts_dir), prices=PriceTable.load(config.prices_file),
                                 on_episode=on_episode)
    return ExperimentResult(records=records, cells=summarize(records))
