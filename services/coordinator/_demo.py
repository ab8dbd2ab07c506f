"""`collabgap demo`: a real benchmark of the built-in scripted players, on services started for it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from protocol import MazeParams

from ._experiment import (
    ExperimentConfig,
    ExperimentResult,
    plan_episodes,
    run_experiment,
)
from ._launch import ServiceGroup
from ._records import EpisodeRecord, SeatSpec

DEMO_PLAYERS = ("scripted:cartographer", "scripted:follower")


class DemoSettings(BaseModel):
    """How big a demo to run, and where to keep its results."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mazes: int = Field(20, ge=1, le=10_000)
    """Mazes per cell (condition and seat assignment)."""
    size: int = Field(6, ge=3, le=30)
    seed: int = 0
    """The first maze seed; maze i uses seed + i."""
    concurrency: int = Field(8, ge=1, le=256)
    runs_dir: Path = Path("runs")


class DemoResult(BaseModel):
    result: ExperimentResult
    run_dir: Path
    results_path: Path


def demo_mazes(settings: DemoSettings) -> list[MazeParams]:
    return [MazeParams(size=settings.size, seed=settings.seed + i) for i in range(settings.mazes)]


def run_demo(settings: DemoSettings, on_plan: Callable[[int], None] | None = None,
             on_episode: Callable[[EpisodeRecord], None] | None = None) -> DemoResult:
    """Start a referee and one agent service per scripted player, play every condition, stop them all.

    `on_plan` hears the number of planned episodes once the services are up; `on_episode` hears each record.
    """
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = settings.runs_dir / f"demo-{stamp}-{secrets.token_hex(2)}"
    token = SecretStr(secrets.token_urlsafe(24))
    with ServiceGroup(log_dir=run_dir / "logs") as services:
        referee_url = services.start_referee(token.get_secret_value())
        players = [SeatSpec(name=spec.split(":", 1)[1], url=services.start_agent(spec)) for spec in DEMO_PLAYERS]
        config = ExperimentConfig(referee_url=referee_url, players=players, mazes=demo_mazes(settings),
                                  concurrency=settings.concurrency)
        if on_plan is not None:
            on_plan(len(plan_episodes(config)))
        result = asyncio.run(run_experiment(config, token, on_episode))
    return DemoResult(result=result, run_dir=run_dir, results_path=result.save(run_dir))
