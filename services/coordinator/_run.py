"""`collabgap run FILE`: play a run file's plan into its store, resuming whatever a killed run left undone.

One runner, two backends: the episodes play in this process (`_play_locally`) or on a Ray cluster
(`_ray.play_plan_on_ray`). Both take each episode through `_Runner` (the budget, the claim that keeps a second
runner off it, the counts) and play it with `EpisodeEngine` (the attempts, the save). Ctrl-C or SIGTERM stops
the run: episodes in flight are dropped, nothing of them is stored, and the next run plays them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from pydantic import BaseModel, SecretStr

from services.agent import HUMAN_PLAYER

from ._claims import Claims
from ._engine import EngineSettings, EpisodeEngine
from ._episode import MessageListener, episode_agents
from ._errors import ConfigError
from ._launch import ServiceGroup
from ._plan import expand
from ._prices import PriceTable
from ._prompts import Prompts
from ._readiness import READY_TIMEOUT_S, readiness_probes, wait_until_ready
from ._records import EpisodeRecord, EpisodeSpec
from ._runfile import Budget, RunFile
from ._store import Store, masked_url


class RunOutcome(BaseModel):
    """What one invocation of a run did; the store holds the episodes."""

    run_id: str
    run_dir: Path
    store_url: str
    """Where the episodes are, its password masked (`masked_url`)."""
    planned: int
    already_stored: int
    """Stored before this invocation, not counting platform errors it replays (`--retry-errors`)."""
    played: int
    """Episodes this invocation played and stored."""
    errors: int
    """Of those, platform errors that persisted after their retries (unscored; `--retry-errors` replays them)."""
    skipped_errors: int = 0
    """Platform errors stored earlier and not replayed (no `--retry-errors`)."""
    elsewhere: int = 0
    """Episodes left to other runners on the same store: claimed or stored by them while this one ran."""
    budget_reached: str | None = None
    """Why scheduling stopped early, when a budget cap was reached."""
    interrupted: bool = False
    """Ctrl-C or SIGTERM stopped the run; nothing was stored of the episodes in flight."""

    @property
    def complete(self) -> bool:
        return (self.budget_reached is None and not self.interrupted
                and self.already_stored + self.played == self.planned)


@dataclass
class RunProgress:
    """Live counters for progress displays."""

    planned: int = 0
    done: int = 0
    errors: int = 0
    retries: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    human_pages: dict[str, str] = field(default_factory=dict)
    """Agent name → the page a person opens to play that seat (`player = "human"`), known by `on_plan`."""
    listeners: list[Callable[[RunProgress], None]] = field(default_factory=list)

    def count(self, record: EpisodeRecord) -> None:
        self.done += 1
        self.errors += record.status == "error"
        self.tokens += sum(record.tokens)
        self.cost_usd += record.cost_usd
        for listener in self.listeners:
            listener(self)


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


class _Budget:
    """What the run has spent: every attempt and grading of every stored episode, against the run's caps."""

    def __init__(self, caps: Budget) -> None:
        self._caps = caps
        self._spent: dict[str, tuple[int, float]] = {}
        self._unpriced: set[str] = set()

    def add(self, record: EpisodeRecord) -> None:
        """Count a stored record; a replayed error's new record replaces its old count (it holds its attempts)."""
        self._spent[record.spec.episode_id] = (sum(record.tokens), record.cost_usd)
        self._unpriced |= _unpriced_models(record)

    def reached(self) -> str | None:
        tokens = sum(spent[0] for spent in self._spent.values())
        usd = sum(spent[1] for spent in self._spent.values())
        if self._caps.max_tokens is not None and tokens >= self._caps.max_tokens:
            return f"token budget reached ({tokens} of {self._caps.max_tokens})"
        if self._caps.max_usd is not None and self._unpriced:
            return (f"the dollar budget cannot be kept: no price for model {', '.join(sorted(self._unpriced))} "
                    "(add it to the price table)")
        if self._caps.max_usd is not None and usd >= self._caps.max_usd:
            return f"dollar budget reached (${usd:.4f} of ${self._caps.max_usd:g})"
        return None


def _unpriced_models(record: EpisodeRecord) -> set[str]:
    """Models that reported usage in the record but have no price (their cost is unknown)."""
    gradings = [g for g in (record.grading, *(a.grading for a in record.attempts)) if g is not None]
    messages = [m for a in record.attempts for m in a.messages] + record.messages
    priced = [(m.usage, m.cost_usd) for m in messages] + [(g.usage, g.cost_usd) for g in gradings]
    return {usage.model for usage, cost in priced if usage is not None and cost is None}


class _Signals:
    """Ctrl-C and SIGTERM during a run: the backend that `watch`es stops and drops the episodes in flight;
    outside a backend, and on a second signal, they raise `KeyboardInterrupt` as Ctrl-C always does."""

    def __init__(self) -> None:
        self.received = False
        self._on_signal: Callable[[], object] | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def reclaim(self) -> None:
        """Take the signals back from a library that set its own handlers (`ray.init` sets SIGTERM's)."""
        for signum in self._previous:
            signal.signal(signum, self._handle)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @contextlib.contextmanager
    def watch(self, on_signal: Callable[[], object]) -> Iterator[None]:
        self._on_signal = on_signal
        try:
            yield
        finally:
            self._on_signal = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        again, self.received = self.received, True
        if again or self._on_signal is None:
            raise KeyboardInterrupt
        self._on_signal()


class _Runner:
    """The driver's side of a run, the same on both backends: what is left to play, the claim on each episode,
    the budget, and what the played episodes count."""

    def __init__(self, run: RunFile, plan: list[EpisodeSpec], store: Store, claims: Claims, progress: RunProgress,
                 signals: _Signals, retry_errors: bool) -> None:
        records = {record.spec.episode_id: record for record in store.episodes(run.name)}
        errors = {episode_id for episode_id, record in records.items() if record.status == "error"}
        self.replays = {episode_id: records[episode_id] for episode_id in errors} if retry_errors else {}
        self.todo = [spec for spec in plan if spec.episode_id not in records or spec.episode_id in self.replays]
        self.already_stored = len(records) - len(self.replays)
        self.skipped_errors = 0 if retry_errors else len(errors)
        self.signals = signals
        self.stop: str | None = None
        self.played = self.errors = self.elsewhere = 0
        self._claims = claims
        self._progress = progress
        self._lock = threading.Lock()  # `take` runs in worker threads of the local backend
        self._budget = _Budget(run.budget)
        for record in records.values():
            self._budget.add(record)

    @property
    def interrupted(self) -> bool:
        return self.signals.received

    def take(self, spec: EpisodeSpec) -> bool:
        """Whether to play the episode now: no signal, the budget not spent, and this runner's claim on it
        (blocking: it asks the store)."""
        with self._lock:
            if self.interrupted or self.stop is not None:
                return False
            if (stop := self._budget.reached()) is not None:
                self.stop = stop
                return False
        if not self._claims.take(spec.episode_id, replace_error=spec.episode_id in self.replays):
            with self._lock:
                self.elsewhere += 1
            return False
        return True

    def earlier(self, spec: EpisodeSpec) -> EpisodeRecord | None:
        """The stored platform error that playing `spec` replaces, if any."""
        return self.replays.get(spec.episode_id)

    def finish(self, record: EpisodeRecord, retries: int) -> None:
        """Count a played episode whose record is in the store."""
        with self._lock:
            self._budget.add(record)
            self.played += 1
            self.errors += record.status == "error"
        self._progress.retries += retries
        self._progress.count(record)

    def outcome(self, run_id: str, run_dir: Path, store_url: str, planned: int) -> RunOutcome:
        return RunOutcome(run_id=run_id, run_dir=run_dir, store_url=store_url, planned=planned,
                          already_stored=self.already_stored, played=self.played, errors=self.errors,
                          skipped_errors=self.skipped_errors, elsewhere=self.elsewhere, budget_reached=self.stop,
                          interrupted=self.interrupted)


async def _play_locally(run: RunFile, runner: _Runner, settings: EngineSettings, store: Store,
                        on_message: MessageListener | None = None) -> None:
    """The local backend: every episode of `runner.todo` on this event loop, within the run's concurrency."""
    engine = EpisodeEngine(settings, store, on_message)
    urls = sorted({agent.url for spec in runner.todo for agent in episode_agents(spec)})
    limits = {url: asyncio.Semaphore(_agent_limit(run, url, runner.todo)) for url in urls}
    games = asyncio.Semaphore(run.concurrency.games)

    async def one(spec: EpisodeSpec) -> None:
        async with games:
            if not await asyncio.to_thread(runner.take, spec):
                return
            async with contextlib.AsyncExitStack() as held:
                for url in sorted({agent.url for agent in episode_agents(spec)}):
                    await held.enter_async_context(limits[url])  # sorted: two episodes never wait on each other
                earlier = runner.earlier(spec)
                played = await engine.play(spec, earlier)
            if await engine.save(played.record, replace_error=earlier is not None):
                runner.finish(played.record, played.retries)

    loop = asyncio.get_running_loop()
    gathering = asyncio.gather(*(one(spec) for spec in runner.todo))
    try:
        with runner.signals.watch(lambda: loop.call_soon_threadsafe(gathering.cancel)):
            await gathering
    except asyncio.CancelledError:
        if not runner.interrupted:
            raise
    except BaseException:
        gathering.cancel()
        raise
    finally:
        await engine.close()


def _agent_limit(run: RunFile, url: str, plan: list[EpisodeSpec]) -> int:
    for spec in plan:
        for agent in episode_agents(spec):
            if agent.url == url and agent.name in run.agents:
                return run.agents[agent.name].concurrency or run.concurrency.per_agent
    return run.concurrency.per_agent


def execute_run(run: RunFile, path: Path | None, *, on_plan: Callable[[RunProgress], None] | None = None,
                progress: RunProgress | None = None, ray_address: str | None = None,
                retry_errors: bool = False, ready_timeout_s: float = READY_TIMEOUT_S,
                on_message: MessageListener | None = None) -> RunOutcome:
    """Start the referee and the run's local agents, play what the store lacks, stop everything.

    A second call with the same file skips every stored episode (and, with `retry_errors`, replays the stored
    platform errors); the store refuses a changed run file. Runners sharing a store share the plan: each
    episode is claimed by one of them. With `ray_address`, the episodes are spread over that Ray cluster, whose
    workers write to the same store. Ctrl-C or SIGTERM ends the call with `interrupted` set. A referee or agent
    given by URL is waited for first, `ready_timeout_s` at most, so a run may start before the services do.
    `path` is the run file, whose folder its relative paths start from; None for a run built in Python (`demo`,
    `play`), whose paths start from the current directory. `on_message` hears every message as it is relayed
    (on the local backend).

    Raises:
        ConfigError: a referee or agent given by URL was not ready within `ready_timeout_s`.
        KeyboardInterrupt: Ctrl-C or SIGTERM before any episode started, or a second one.
    """
    run_dir, store_url = run_paths(run, path)
    run_dir.mkdir(parents=True, exist_ok=True)
    progress = progress or RunProgress()
    with _Signals() as signals, Store.open(store_url) as store, ServiceGroup(log_dir=run_dir / "logs") as services:
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
                local[name] = services.start_human(run.limits.human_reply_timeout_s)
                progress.human_pages[name] = f"{local[name]}/"
            elif agent.player is not None:  # its key, by name; no other secret of this process
                key = {agent.key_env: os.environ.get(agent.key_env, "")} if agent.key_env else {}
                local[name] = services.start_agent(agent.player, *agent.serve_options(), env=key)
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
            runner = _Runner(run, plan, store, claims, progress, signals, retry_errors)
            progress.planned, progress.done = len(plan), runner.already_stored
            if on_plan is not None:
                on_plan(progress)
            if ray_address is None:
                asyncio.run(_play_locally(run, runner, settings, store, on_message))
            else:
                from ._ray import play_plan_on_ray  # Ray is an optional dependency

                play_plan_on_ray(run, runner, settings, ray_address)
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
