"""`collabgap run FILE`: play a run file's plan into its store, resuming whatever a killed run left undone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel, SecretStr

from ._episode import episode_agents, play_episode
from ._errors import ConfigError
from ._experiment import ExperimentResult
from ._launch import ServiceGroup
from ._plan import expand
from ._prices import PriceTable
from ._prompts import Prompts
from ._records import EpisodeRecord, EpisodeSpec
from ._referee_client import RefereeClient
from ._runfile import RunFile
from ._seat_client import connect_agents
from ._store import Store


class RunOutcome(BaseModel):
    """What one invocation of a run did; the store holds the episodes."""

    run_id: str
    run_dir: Path
    store_url: str
    planned: int
    already_stored: int
    played: int
    errors: int
    """Episodes stored as errors in this invocation (after their retries)."""
    budget_reached: str | None = None
    """Why scheduling stopped early, when a budget cap was reached."""

    @property
    def complete(self) -> bool:
        return self.budget_reached is None and self.already_stored + self.played == self.planned


@dataclass
class RunProgress:
    """Live counters for progress displays."""

    planned: int = 0
    done: int = 0
    errors: int = 0
    retries: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    listeners: list[Callable[[RunProgress], None]] = field(default_factory=list)

    def count(self, record: EpisodeRecord) -> None:
        self.done += 1
        self.errors += record.status == "error"
        self.tokens += sum(m.usage.prompt_tokens + m.usage.completion_tokens for m in record.messages if m.usage)
        self.cost_usd += record.cost_usd
        for listener in self.listeners:
            listener(self)


def run_paths(run: RunFile, path: Path) -> tuple[Path, str]:
    """The run folder (under `runs_dir`, from the current directory) and the store URL (SQLite in the run folder
    unless the file names a store)."""
    run_dir = run.runs_dir / run.name
    return run_dir, run.store or f"sqlite:///{run_dir / 'store.db'}"


def plan_run(run: RunFile, path: Path) -> list[EpisodeSpec]:
    """The plan without starting anything (for `--dry-run`): local agents are named, not yet reachable."""
    return expand(run, path.parent, lambda name: _remote_url(run, name) or f"local://{name}")


def _remote_url(run: RunFile, name: str) -> str | None:
    url = run.agents[name].url
    return str(url).rstrip("/") if url is not None else None


def provenance() -> dict[str, str]:
    versions = {name: metadata.version(name) for name in ("collabgap", "a2a-sdk", "mcp", "pydantic")}
    return {**versions, "python": sys.version.split()[0], "platform": platform.platform(),
            "started_at": datetime.now(timezone.utc).isoformat()}


class _Budget:
    def __init__(self, run: RunFile, spent_tokens: int, spent_usd: float) -> None:
        self.caps = run.budget
        self.tokens, self.usd = spent_tokens, spent_usd

    def add(self, record: EpisodeRecord) -> None:
        self.tokens += sum(m.usage.prompt_tokens + m.usage.completion_tokens for m in record.messages if m.usage)
        self.usd += record.cost_usd

    def reached(self) -> str | None:
        if self.caps.max_tokens is not None and self.tokens >= self.caps.max_tokens:
            return f"token budget reached ({self.tokens} of {self.caps.max_tokens})"
        if self.caps.max_usd is not None and self.usd >= self.caps.max_usd:
            return f"dollar budget reached (${self.usd:.4f} of ${self.caps.max_usd:g})"
        return None


async def _play_plan(run: RunFile, plan: list[EpisodeSpec], store: Store, run_id: str, referee_url: str,
                     token: SecretStr, progress: RunProgress) -> tuple[int, int, str | None]:
    """Play the unstored part of `plan`; returns (played, errors, budget note)."""
    stored = store.stored_episode_ids(run_id)
    todo = [spec for spec in plan if spec.episode_id not in stored]
    done = store.episodes(run_id) if stored else []
    budget = _Budget(run, 0, 0.0)
    for record in done:
        budget.add(record)
    prompts, prices = Prompts.load(run.prompts_dir), PriceTable.load(run.prices_file)
    urls = sorted({agent.url for spec in todo for agent in episode_agents(spec)})
    limits = {url: asyncio.Semaphore(_agent_limit(run, url, todo)) for url in urls}
    games = asyncio.Semaphore(run.concurrency.games)
    played = errors = 0
    stop: str | None = None
    async with contextlib.AsyncExitStack() as stack:
        referee = await stack.enter_async_context(RefereeClient.connect(referee_url, token.get_secret_value()))
        tokens = {str(_remote_url(run, name)): os.environ.get(agent.token_env) for name, agent in run.agents.items()
                  if agent.url and agent.token_env}
        agents = await connect_agents(stack, urls, tokens=tokens, timeout=run.limits.turn_timeout_s)

        async def one(spec: EpisodeSpec) -> None:
            nonlocal played, errors, stop
            async with games:
                if stop is not None or (stop := budget.reached()) is not None:
                    return
                seats = sorted({agent.url for agent in episode_agents(spec)})
                async with contextlib.AsyncExitStack() as held:
                    for url in seats:  # sorted, so two episodes never wait on each other's agents
                        await held.enter_async_context(limits[url])
                    for attempt in range(1, run.retries + 2):
                        record = await play_episode(spec, referee, agents, prompts=prompts, prices=prices)
                        record = record.model_copy(update={"attempt": attempt})
                        if record.status != "error" or record.error is None or record.error.kind == "internal":
                            break
                        if attempt <= run.retries:
                            progress.retries += 1
                budget.add(record)
                if await asyncio.to_thread(store.save_episode, run_id, record):
                    played += 1
                    errors += record.status == "error"
                    progress.count(record)

        await asyncio.gather(*(one(spec) for spec in todo))
    return played, errors, stop


def _agent_limit(run: RunFile, url: str, plan: list[EpisodeSpec]) -> int:
    for spec in plan:
        for agent in episode_agents(spec):
            if agent.url == url and agent.name in run.agents:
                return run.agents[agent.name].concurrency or run.concurrency.per_agent
    return run.concurrency.per_agent


def execute_run(run: RunFile, path: Path, *, on_plan: Callable[[RunProgress], None] | None = None,
                progress: RunProgress | None = None, ray_address: str | None = None) -> RunOutcome:
    """Start the referee and the run's local agents, play what the store lacks, stop everything.

    A second call with the same file skips every stored episode; the store refuses a changed run file. With
    `ray_address`, the episodes are spread over that Ray cluster, whose workers write to the same store.
    """
    run_dir, store_url = run_paths(run, path)
    run_dir.mkdir(parents=True, exist_ok=True)
    progress = progress or RunProgress()
    with Store.open(store_url) as store, ServiceGroup(log_dir=run_dir / "logs") as services:
        store.start_run(run.name, run.snapshot(), {**provenance(), "run_file": json.loads(run.model_dump_json())})
        if run.referee is not None:
            referee_url = str(run.referee.url)
            token = SecretStr(os.environ.get(run.referee.token_env, ""))
        else:
            token = SecretStr(secrets.token_urlsafe(24))
            referee_url = services.start_referee(token.get_secret_value())
        local: dict[str, str] = {}
        for name, agent in run.agents.items():
            if agent.player is not None:
                local[name] = services.start_agent(agent.player, *agent.serve_options())
        plan = expand(run, path.parent, lambda name: local.get(name) or _remote_url(run, name) or "")
        stored = len(store.stored_episode_ids(run.name))
        progress.planned, progress.done = len(plan), stored
        if on_plan is not None:
            on_plan(progress)
        if ray_address is None:
            played, errors, stop = asyncio.run(_play_plan(run, plan, store, run.name, referee_url, token, progress))
        else:
            from ._ray import play_plan_on_ray  # Ray is an optional dependency

            played, errors, stop = play_plan_on_ray(run, plan, store, run.name, store_url, referee_url, token,
                                                    progress, ray_address)
    return RunOutcome(run_id=run.name, run_dir=run_dir, store_url=store_url, planned=len(plan),
                      already_stored=stored, played=played, errors=errors, budget_reached=stop)


def load_records(run_dir: Path, store_url: str | None = None, run_id: str | None = None) -> list[EpisodeRecord]:
    """Every stored episode of a run: from its store (the folder's store.db unless a URL is given), or from a
    demo's results.json.

    Raises:
        ConfigError: nothing to read there.
    """
    results = run_dir / "results.json"
    if store_url is None and results.is_file():
        return ExperimentResult.model_validate_json(results.read_text()).records
    database = run_dir / "store.db"
    if store_url is None and not database.is_file():
        raise ConfigError(f"{run_dir} holds neither store.db nor results.json; pass --store URL for PostgreSQL")
    with Store.open(store_url or f"sqlite:///{database}") as store:
        return store.episodes(run_id or run_dir.name)
