"""The one way to play episodes over shared connections: `Episodes` holds the referee and agent connections for
every episode it plays, opens one again when it broke, and replays platform errors keeping every attempt.

A run's `EpisodeEngine` (`runs._engine`) adds the store to it; `run_episodes` plays a plan in memory with it.
Several episodes play at once on one event loop. Only platform errors (`status == "error"`) are retried; an
agent's or the grader's failure is scored, never replayed. Each retried attempt stays in the final record as an
`AttemptRecord`, so its messages, tokens and dollars are kept and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import SecretStr

from collabgap.services.shared import RetryPolicy, retrying

from .._errors import InfrastructureError
from .._records import AttemptRecord, EpisodeError, EpisodeRecord, EpisodeSpec
from ._episode import MessageListener, episode_agents, maze_id, play_episode
from ._prices import PriceTable
from ._prompts import Prompts
from ._referee_client import RefereeClient
from ._seat_client import AgentConnection

logger = logging.getLogger(__name__)

T = TypeVar("T")

_CLOSE_TIMEOUT_S = 10.0


@dataclass(frozen=True, kw_only=True)
class EpisodeSettings:
    """What playing episodes needs; secrets stay `SecretStr` on their way through a cluster."""

    referee_url: str
    referee_token: SecretStr
    prompts: Prompts
    prices: PriceTable
    agent_tokens: dict[str, SecretStr] = field(default_factory=dict)
    """Agent URL → bearer token, for agents whose run-file entry names a `token_env`."""
    turn_timeout_s: float = 60.0
    retries: int = 0
    """How often an episode that ended in a platform error is played again."""
    games: int | None = None
    """Games played at once at most: the size of each connection pool (None: unbounded)."""


@dataclass(frozen=True)
class Played:
    """One episode's final record (earlier attempts inside) and how many retries it took."""

    record: EpisodeRecord
    retries: int


class _PlatformError(Exception):
    """An attempt that ended in a platform error: replayed while the retries last, else the final record."""

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


class Episodes:
    """Plays episodes on one event loop, several at once; keeps its referee and agent connections for every later
    episode, and opens a connection again when it broke. `close` closes them."""

    def __init__(self, settings: EpisodeSettings, on_message: MessageListener | None = None) -> None:
        self._settings = settings
        # Replayed at once, no backoff: the attempt itself waited out the failure (a turn's or a game's timeout),
        # and a broken connection is opened again by the next attempt.
        self._replays = RetryPolicy(max_retries=settings.retries, backoff_s=0.0)
        self._on_message = on_message
        self._referee: _Held[RefereeClient] | None = None
        self._agents: dict[str, _Held[AgentConnection]] = {}

    async def play(self, spec: EpisodeSpec, earlier: EpisodeRecord | None = None) -> Played:
        """Play the episode, retrying platform errors as the settings say; `earlier` is the stored platform
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
        except _PlatformError as failure:  # it persisted after every retry: the episode's error
            record = failure.record
        return Played(record, record.attempt - first)

    async def referee(self) -> RefereeClient:
        """The held referee connection, opened when there is none or it broke.

        Raises:
            InfrastructureError: the referee cannot be reached (`RefereeFault`).
        """
        client = await self._held_referee()
        if client.lost:  # it broke after it opened: a new one for this attempt, once (a lost one fails the attempt)
            client = await self._held_referee()
        return client

    async def _held_referee(self) -> RefereeClient:
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
        if client.lost and self._referee is held:  # the next call opens a new one
            self._referee = None
            await held.close()
        return client

    async def close(self) -> None:
        """Close the connections."""
        held: list[_Held[Any]] = [*self._agents.values(), *([self._referee] if self._referee else [])]
        for connection in held:
            await connection.close()
        self._agents, self._referee = {}, None

    async def _play_once(self, spec: EpisodeSpec) -> EpisodeRecord:
        try:
            referee = await self.referee()
        except InfrastructureError as exc:  # the referee is down: a platform error, like one in mid-game
            error = EpisodeError(kind=exc.kind, seat=None, message=str(exc), blame="platform")
            return EpisodeRecord(spec=spec, game_id=None, maze_id=maze_id(spec), status="error",
                                 end_reason="error", error=error)
        agents, unreachable = await self._connect_agents(sorted({agent.url for agent in episode_agents(spec)}))
        return await play_episode(spec, referee, agents, prompts=self._settings.prompts, prices=self._settings.prices,
                                  on_message=self._on_message, unreachable=unreachable)

    async def _connect_agents(self, urls: list[str]) -> tuple[dict[str, AgentConnection], dict[str, str]]:
        """Held connections to `urls`, and why each agent that could not be reached was not (play_episode
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
