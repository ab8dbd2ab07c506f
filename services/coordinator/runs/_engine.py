"""The per-episode path of a run, the same on every backend: connect, play, retry platform errors keeping every
attempt, save.

`EpisodeEngine` plays episodes on one event loop, several at once: in the `collabgap run` process itself, or in
each Ray player (`_ray_actors.EpisodePlayer`). Only platform errors (`status == "error"`) are retried; an
agent's or the grader's failure is scored, never replayed. Each retried attempt stays in the final record as an
`AttemptRecord`, so its messages, tokens and dollars are kept and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import SecretStr

from collabgap.services.shared import RetryPolicy, retrying

from ..game._episode import MessageListener, episode_agents, maze_id, play_episode
from .._errors import InfrastructureError, StoreError
from ..game._prices import PriceTable
from ..game._prompts import Prompts
from .._records import AttemptRecord, EpisodeError, EpisodeRecord, EpisodeSpec
from ..game._referee_client import RefereeClient
from ..game._seat_client import AgentConnection
from ._store import Store

logger = logging.getLogger(__name__)

T = TypeVar("T")

SAVE_RETRY = RetryPolicy(max_retries=2, backoff_s=1.0, max_backoff_s=2.0, jitter=0.0)
"""Three tries to save one record, 1 s then 2 s apart, before the save's `StoreError` is raised."""
_CLOSE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class EngineSettings:
    """What every engine of a run needs; secrets stay `SecretStr` on their way through a cluster."""

    run_id: str
    store_url: str
    referee_url: str
    referee_token: SecretStr
    agent_tokens: dict[str, SecretStr]
    """Agent URL → bearer token, for agents whose run-file entry names a `token_env`."""
    turn_timeout_s: float
    lease_ttl_s: float
    retries: int
    prompts: Prompts
    prices: PriceTable
    games: int | None = None
    """Games this engine plays at once at most: the size of each connection pool (None: unbounded)."""


@dataclass(frozen=True)
class Played:
    """One episode's final record (earlier attempts inside) and how many retries it took."""

    record: EpisodeRecord
    retries: int


class _PlatformError(Exception):
    """An attempt that ended in a platform error: replayed while the run's retries last, else the final record."""

    def __init__(self, record: EpisodeRecord) -> None:
        super().__init__(f"episode {record.spec.episode_id} ended in a platform error")
        self.record = record


def replay_of(record: EpisodeRecord) -> list[AttemptRecord]:
    """The attempts a replay of `record` (a stored platform error) starts with: its own, then itself."""
    return [*record.attempts, _attempt(record)]


def _next_number(attempts: list[AttemptRecord]) -> int:
    return attempts[-1].attempt + 1 if attempts else 1


def _attempt(record: EpisodeRecord) -> AttemptRecord:
    error = record.error or EpisodeError(kind="internal", seat=None, message="ended as an error without a reason")
    return AttemptRecord(attempt=record.attempt, error=error, game_id=record.game_id, messages=record.messages,
                         grading=record.grading, duration_s=record.duration_s)


class _Held(Generic[T]):
    """An async context entered and left by one long-lived task, so many episodes (each its own task) can share
    it: the referee's MCP session and the A2A clients run task groups that must close where they opened."""

    def __init__(self, opener: AbstractAsyncContextManager[T]) -> None:
        self._opener = opener
        self._ready: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._hold())

    async def _hold(self) -> None:
        try:
            async with self._opener as value:
                self._ready.set_result(value)
                await self._stop.wait()
        except Exception as exc:  # noqa: BLE001 - handed to whoever awaits `get`, or logged once it was in use
            if self._ready.done():
                logger.warning("a held connection ended with an error: %s", exc)
            else:
                self._ready.set_exception(exc)

    @property
    def ended(self) -> bool:
        """The context closed (its connection failed, or `close` was called): open a new one for later episodes."""
        return self._task.done()

    async def get(self) -> T:
        return await asyncio.shield(self._ready)

    async def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), _CLOSE_TIMEOUT_S)


class EpisodeEngine:
    """Plays a run's episodes on one event loop and saves them; keeps its referee and agent connections for
    every later episode, and opens a connection again when it broke."""

    def __init__(self, settings: EngineSettings, store: Store, on_message: MessageListener | None = None) -> None:
        self._settings = settings
        # Replayed at once, no backoff: the attempt itself waited out the failure (a turn's or a game's timeout),
        # and a broken connection is opened again by the next attempt.
        self._replays = RetryPolicy(max_retries=settings.retries, backoff_s=0.0)
        self._on_message = on_message
        self._store = store
        self._referee: _Held[RefereeClient] | None = None
        self._agents: dict[str, _Held[AgentConnection]] = {}

    async def play(self, spec: EpisodeSpec, earlier: EpisodeRecord | None = None) -> Played:
        """Play the episode, retrying platform errors as the run file says; `earlier` is the stored platform
        error this play replaces (`--retry-errors`), whose attempts the new record keeps."""
        attempts = replay_of(earlier) if earlier is not None else []
        first = _next_number(attempts)

        async def attempt() -> EpisodeRecord:
            record = await self._play_once(spec)
            record = record.model_copy(update={"attempt": _next_number(attempts), "attempts": list(attempts)})
            if record.status == "error":
                raise _PlatformError(record)
            return record

        def keep(_retry: int, failure: _PlatformError, _wait: float) -> None:
            attempts.append(_attempt(failure.record))

        try:
            record = await retrying(self._replays, attempt, (_PlatformError,), on_retry=keep)
        except _PlatformError as failure:  # it persisted after every retry: stored as the episode's error
            record = failure.record
        return Played(record, record.attempt - first)

    async def save(self, record: EpisodeRecord, *, replace_error: bool = False) -> bool:
        """Save the record, trying again when the store fails; False when the episode was stored already.

        Raises:
            StoreError: the store failed every try of `SAVE_RETRY`.
        """
        def note(retry: int, exc: StoreError, _wait: float) -> None:
            logger.warning("could not save episode %s (try %d): %s", record.spec.episode_id, retry, exc)

        # A save that committed before its connection broke is absorbed by the store's UNIQUE episode id on the
        # next try: the episode is in the store exactly once.
        return await retrying(SAVE_RETRY, lambda: asyncio.to_thread(self._store.save_episode, self._settings.run_id,
                                                                    record, replace_error=replace_error),
                              (StoreError,), on_retry=note)

    async def close(self) -> None:
        """Close the connections (the store belongs to the caller)."""
        for held in [*self._agents.values(), *([self._referee] if self._referee else [])]:
            await held.close()  # type: ignore[attr-defined]
        self._agents, self._referee = {}, None

    async def _play_once(self, spec: EpisodeSpec) -> EpisodeRecord:
        try:
            referee = await self._connect_referee()
        except InfrastructureError as exc:  # the referee is down: a platform error, like one in mid-game
            error = EpisodeError(kind=exc.kind, seat=None, message=str(exc), blame="platform")
            return EpisodeRecord(spec=spec, game_id=None, maze_id=maze_id(spec), status="error",
                                 end_reason="error", error=error)
        agents, unreachable = await self._connect_agents(sorted({agent.url for agent in episode_agents(spec)}))
        return await play_episode(spec, referee, agents, prompts=self._settings.prompts, prices=self._settings.prices,
                                  on_message=self._on_message, unreachable=unreachable)

    async def _connect_referee(self) -> RefereeClient:
        if self._referee is None or self._referee.ended:
            opener = RefereeClient.connect(self._settings.referee_url,
                                           self._settings.referee_token.get_secret_value(),
                                           connections=self._settings.games)
            self._referee = _Held(opener)
        held = self._referee
        try:
            client = await held.get()
        except InfrastructureError:
            if self._referee is held:
                self._referee = None  # the next attempt tries again
            raise
        if client.lost and self._referee is held:  # it broke after it opened: this attempt fails, the next reopens
            self._referee = None
            await held.close()
        return client

    async def _connect_agents(self, urls: list[str]) -> tuple[dict[str, AgentConnection], dict[str, str]]:
        """Cached connections to `urls`, and why each agent that could not be reached was not (play_episode
        records it as unreachable with that reason; the next episode tries to connect again)."""
        connections: dict[str, AgentConnection] = {}
        unreachable: dict[str, str] = {}
        for url in urls:
            held = self._agents.get(url)
            if held is None or held.ended:
                token = self._settings.agent_tokens.get(url)
                held = self._agents[url] = _Held(AgentConnection.open(
                    url, token=token.get_secret_value() if token else None, timeout=self._settings.turn_timeout_s,
                    connections=self._settings.games))
            try:
                connections[url] = await held.get()
            except InfrastructureError as exc:
                logger.warning("cannot connect to agent %s: %s", url, exc)
                unreachable[url] = str(exc)
                if self._agents.get(url) is held:
                    del self._agents[url]
        return connections, unreachable
