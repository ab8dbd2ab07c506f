"""`collabgap demo`: a real benchmark of the built-in scripted players, played as a run into its own store.

The demo is a run file built in Python (`demo_run`), played by `execute_run` like any other: it starts the
services, retries platform errors, keeps every attempt and writes `runs/demo-<UTC time>-<4 hex>/store.db`, which
`report`, `view` and `export` read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field, HttpUrl

from collabgap.protocol import MazeParams

from .._errors import ConfigError
from .._records import EpisodeRecord, maze_of
from ..analysis._analysis import Cell, analyze
from ._plan import expand
from ._run import execute_run, fresh_run_name, load_records, run_paths
from ._runfile import AgentEntry, Concurrency, ConditionEntry, Limits, MazeSet, RefereeEntry, RunFile
from ._runner import RunOutcome, RunProgress

DEMO_PLAYERS = ("scripted:cartographer", "scripted:follower")
DEMO_TURN_TIMEOUT_S = 60.0


class DemoSettings(MazeParams):
    """How big a demo to run, and where to keep its results; the `MazeParams` fields make its mazes, maze i with
    seed `seed + i`."""

    mazes: int = Field(20, ge=1, le=10_000)
    """Mazes per cell (condition and seat assignment)."""
    concurrency: int = Field(8, ge=1, le=256)
    runs_dir: Path = Path("runs")
    retries: int = Field(2, ge=0, le=20)
    """Extra attempts for an episode that ends in a platform error."""
    referee: HttpUrl | None = None
    """A referee already running (its token from COLLABGAP_REFEREE_TOKEN); default: the demo starts one."""


class DemoResult(BaseModel):
    """What the demo played: the run's outcome, its folder and store, and every record in plan order."""

    outcome: RunOutcome
    records: list[EpisodeRecord]
    cells: list[Cell]
    """The analysis's cells (`analyze(records).cells`), as the report shows them."""

    @property
    def run_dir(self) -> Path:
        return self.outcome.run_dir


def demo_run(settings: DemoSettings, name: str) -> RunFile:
    """The demo as a run: every player in `solo-full` and `solo-split`, every ordered pair in `pair`."""
    agents = {player.split(":", 1)[1]: AgentEntry(player=player) for player in DEMO_PLAYERS}
    return RunFile(
        name=name, runs_dir=settings.runs_dir, retries=settings.retries, agents=agents,
        referee=RefereeEntry(url=settings.referee) if settings.referee is not None else None,
        mazes=MazeSet(count=settings.mazes, **maze_of(settings).model_dump()),
        conditions=[ConditionEntry(kind=kind, agents=list(agents)) for kind in ("solo-full", "solo-split", "pair")],
        limits=Limits(turn_timeout_s=DEMO_TURN_TIMEOUT_S),
        concurrency=Concurrency(games=settings.concurrency, per_agent=settings.concurrency))


def run_demo(settings: DemoSettings, on_plan: Callable[[RunProgress], None] | None = None,
             progress: RunProgress | None = None) -> DemoResult:
    """Start a referee and one agent service per scripted player, play every condition into the demo's store,
    stop them all.

    `on_plan` hears the progress once the services are up and the plan is made; `progress` counts each episode.

    Raises:
        ConfigError: a referee given by URL was not ready, or its token variable is not set.
    """
    run = demo_run(settings, fresh_run_name("demo"))
    if run.referee is not None and not os.environ.get(run.referee.token_env):
        raise ConfigError(f"set {run.referee.token_env} to the coordinator token of the referee at {settings.referee}")
    outcome = execute_run(run, None, on_plan=on_plan, progress=progress)
    order = {spec.episode_id: index for index, spec in enumerate(expand(run, Path(), lambda name: ""))}
    records = sorted(load_records(run_paths(run, None)[0]), key=lambda record: order[record.spec.episode_id])
    return DemoResult(outcome=outcome, records=records, cells=analyze(records).cells)
