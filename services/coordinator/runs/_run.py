"""`collabgap run FILE`: play a run file's plan into its store, resuming whatever a killed run left undone.

One runner, two backends: the episodes play in this process (`LocalBackend`) or on a Ray cluster
(`scale.RayBackend`). Both take each episode through `Runner` (the budget, the claim that keeps a second
runner off it, the counts) and play it with `EpisodeEngine` (the attempts, the save). Ctrl-C or SIGTERM stops
the run: episodes in flight are dropped, nothing of them is stored, and the next run plays them.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import secrets
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from pydantic import SecretStr

from collabgap.services.agent import HUMAN_PLAYER, HumanSettings

from .._errors import ConfigError
from .._records import EpisodeRecord, EpisodeSpec
from ..game._episode import MessageListener
from ..game._prices import PriceTable
from ..game._prompts import Prompts
from ._claims import Claims
from ._engine import EngineSettings
from ._launch import ServiceGroup
from ._plan import expand
from ._readiness import READY_TIMEOUT_S, readiness_probes, wait_until_ready
from ._runfile import RunFile
from ._runner import Backend, LocalBackend, Runner, RunOutcome, RunProgress, Signals
from ._store import Store
from ._store_url import masked_url


def run_paths(run: RunFile, path: Path | None) -> tuple[Path, str]:
    """The run folder (under `runs_dir`, from the current directory) and the store URL (SQLite in the run folder
    unless the file names a store)."""
    run_dir = run.runs_dir / run.name
    return run_dir, run.store or f"sqlite:///{run_dir / 'store.db'}"


def fresh_run_name(kind: str) -> str:
    """A new run's name for `demo` and `play`: `<kind>-<UTC time>-<4 hex>`, so two runs never share a folder."""
    return f"{kind}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


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


def execute_run(run: RunFile, path: Path | None, *, on_plan: Callable[[RunProgress], None] | None = None,
                progress: RunProgress | None = None, backend: Backend | None = None,
                retry_errors: bool = False, ready_timeout_s: float = READY_TIMEOUT_S,
                on_message: MessageListener | None = None) -> RunOutcome:
    """Start the referee and the run's local agents, play what the store lacks, stop everything.

    A second call with the same file skips every stored episode (and, with `retry_errors`, replays the stored
    platform errors); the store refuses a changed run file. Runners sharing a store share the plan: each episode is
    claimed by one of them. `backend` plays the episodes: in this process by default; `scale.RayBackend` spreads
    them over a Ray cluster, whose workers write to the same store. Ctrl-C or SIGTERM ends the call with
    `interrupted` set. A referee or agent given by URL is waited for first, `ready_timeout_s` at most, so a run may
    start before the services do. `path` is the run file, whose folder its relative paths start from; None for a run
    built in Python (`demo`, `play`), whose paths start from the current directory. `on_message` hears every message
    as it is relayed (on the local backend).

    Raises:
        ConfigError: a referee or agent given by URL was not ready within `ready_timeout_s`.
        KeyboardInterrupt: Ctrl-C or SIGTERM before any episode started, or a second one.
    """
    run_dir, store_url = run_paths(run, path)
    run_dir.mkdir(parents=True, exist_ok=True)
    progress = progress or RunProgress()
    with Signals() as signals, Store.open(store_url) as store, ServiceGroup(log_dir=run_dir / "logs") as services:
        store.start_run(run.name, run.snapshot(), {**provenance(), "run_file": json.loads(run.model_dump_json())})
        if run.referee is not None:
            referee_url = str(run.referee.url)
            token = SecretStr(os.environ.get(run.referee.token_env, ""))
        else:
            token = SecretStr(secrets.token_urlsafe(24))
            referee_url = services.start_referee(token.get_secret_value())
        local: dict[str, str] = {}
        for name, agent in run.agents.items():
            if agent.player == HUMAN_PLAYER:
                local[name] = services.start_human(HumanSettings(reply_timeout_s=run.limits.human_reply_timeout_s))
                progress.human_pages[name] = f"{local[name]}/"
            elif agent.player is not None:  # its key, by name; no other secret of this process
                key = {agent.key_env: os.environ.get(agent.key_env, "")} if agent.key_env else {}
                local[name] = services.start_agent(agent.agent_settings(), env=key)
        asyncio.run(wait_until_ready(readiness_probes(run), ready_timeout_s))
        base = Path() if path is None else path.parent
        plan = expand(run, base, lambda name: local.get(name) or _remote_url(run, name) or "")
        agent_tokens = {url: SecretStr(value) for name, agent in run.agents.items()
                        if (url := _remote_url(run, name)) and agent.token_env
                        and (value := os.environ.get(agent.token_env))}
        settings = EngineSettings(
            run_id=run.name, store_url=store_url, referee_url=referee_url, referee_token=token,
            agent_tokens=agent_tokens, turn_timeout_s=run.limits.turn_timeout_s,
            lease_ttl_s=run.limits.game_timeout_s, retries=run.retries,
            prompts=Prompts.load(run.prompts_dir), prices=PriceTable.load(run.prices_file),
            games=run.concurrency.games)
        with Claims(store, run.name) as claims:
            runner = Runner(run, plan, store, claims, progress, signals, retry_errors)
            progress.planned, progress.done = len(plan), runner.already_stored
            if on_plan is not None:
                on_plan(progress)
            (backend or LocalBackend()).play(run, runner, settings, store, on_message)
    return runner.outcome(run.name, run_dir, masked_url(store_url), len(plan))


def load_records(run_dir: Path, store_url: str | None = None, run_id: str | None = None) -> list[EpisodeRecord]:
    """Every stored episode of a run (`run`, `demo` or `play`): from its store, the folder's store.db unless a
    URL is given.

    Raises:
        ConfigError: nothing to read there.
    """
    database = run_dir / "store.db"
    if store_url is None and not database.is_file():
        raise ConfigError(f"{run_dir} holds no store.db; pass --store URL for PostgreSQL")
    with Store.open(store_url or f"sqlite:///{database}") as store:
        return store.episodes(run_id or run_dir.name)
