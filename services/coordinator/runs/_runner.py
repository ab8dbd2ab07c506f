"""The driver's side of a run, the same on every backend: what is left to play, the claim on each episode, the
budget, signals, and what the played episodes count (`Runner`); and the `Backend` that plays `runner.todo`, here
(`LocalBackend`) or on a Ray cluster (`collabgap.services.coordinator.scale.RayBackend`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Protocol

from pydantic import BaseModel

from .._records import EpisodeRecord, EpisodeSpec
from ..game._episode import MessageListener, episode_agents
from ._claims import Claims
from ._engine import EngineSettings, EpisodeEngine
from ._runfile import Budget, RunFile
from ._store import Store


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
        self.tokens += record.tokens.total
        self.cost_usd += record.cost_usd
        for listener in self.listeners:
            listener(self)


class _Spending:
    """What the run has spent: every attempt and grading of every stored episode, against the run's caps."""

    def __init__(self, caps: Budget) -> None:
        self._caps = caps
        self._spent: dict[str, tuple[int, float]] = {}
        self._unpriced: set[str] = set()

    def add(self, record: EpisodeRecord) -> None:
        """Count a stored record; a replayed error's new record replaces its old count (it holds its attempts)."""
        self._spent[record.spec.episode_id] = (record.tokens.total, record.cost_usd)
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


class Signals:
    """Ctrl-C and SIGTERM during a run: the backend that `watch`es stops and drops the episodes in flight;
    outside a backend, and on a second signal, they raise `KeyboardInterrupt` as Ctrl-C always does."""

    def __init__(self) -> None:
        self.received = False
        self._on_signal: Callable[[], object] | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Signals:
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


class Runner:
    """The driver's side of a run, the same on both backends: what is left to play, the claim on each episode,
    the budget, and what the played episodes count."""

    def __init__(self, run: RunFile, plan: list[EpisodeSpec], store: Store, claims: Claims, progress: RunProgress,
                 signals: Signals, retry_errors: bool) -> None:
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
        self._budget = _Spending(run.budget)
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


async def _play_here(run: RunFile, runner: Runner, settings: EngineSettings, store: Store,
                        on_message: MessageListener | None = None) -> None:
    """The local backend: every episode of `runner.todo` on this event loop, within the run's concurrency."""
    engine = EpisodeEngine(settings, store, on_message)
    urls = sorted({agent.url for spec in runner.todo for agent in episode_agents(spec)})
    limits = {url: asyncio.Semaphore(agent_limit(run, url, runner.todo)) for url in urls}
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


def agent_limit(run: RunFile, url: str, plan: list[EpisodeSpec]) -> int:
    for spec in plan:
        for agent in episode_agents(spec):
            if agent.url == url and agent.name in run.agents:
                return run.agents[agent.name].concurrency or run.concurrency.per_agent
    return run.concurrency.per_agent


class Backend(Protocol):
    """Plays every episode of `runner.todo`: asks `runner.take` before each, saves it, reports `runner.finish`."""

    def play(self, run: RunFile, runner: Runner, settings: EngineSettings, store: Store,
             on_message: MessageListener | None) -> None: ...


class LocalBackend:
    """Every episode on one event loop in this process, within the run's concurrency."""

    def play(self, run: RunFile, runner: Runner, settings: EngineSettings, store: Store,
             on_message: MessageListener | None) -> None:
        asyncio.run(_play_here(run, runner, settings, store, on_message))
