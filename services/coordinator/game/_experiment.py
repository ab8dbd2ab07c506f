"""Many episodes at once, in memory: `run_episodes` plays a list of specs with `Episodes`, the engine a run plays
with, and returns the records.

It stores nothing and retries nothing unless asked: the assessor, the benchmarks and the tests use it. A run, the
demo and `play` go through the run engine instead (`_run.execute_run`), into a store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from pydantic import SecretStr

from .._records import EpisodeRecord, EpisodeSpec
from ._engine import Episodes, EpisodeSettings
from ._prices import PriceTable
from ._prompts import Prompts


async def run_episodes(plan: list[EpisodeSpec], referee_url: str, referee_token: SecretStr, *,
                       concurrency: int = 8, turn_timeout_s: float = 60.0, prompts: Prompts | None = None,
                       prices: PriceTable | None = None, agent_tokens: Mapping[str, SecretStr] | None = None,
                       on_episode: Callable[[EpisodeRecord], None] | None = None,
                       retries: int = 0) -> list[EpisodeRecord]:
    """Play `plan` with at most `concurrency` games at once; every episode ends with a record, errors included.
    An episode that ends in a platform error is played again up to `retries` times, each attempt kept.

    `agent_tokens` maps an agent's URL to the bearer token it requires, as a run file's `token_env` does.

    Raises:
        RefereeFault: the connection to the referee could not be opened before the first game (once open, a
            failing referee ends each of its episodes as a platform error instead).
    """
    settings = EpisodeSettings(referee_url=referee_url, referee_token=referee_token,
                               prompts=prompts or Prompts.load(), prices=prices or PriceTable.load(),
                               agent_tokens=dict(agent_tokens or {}), turn_timeout_s=turn_timeout_s,
                               retries=retries, games=concurrency)
    episodes = Episodes(settings)
    limit = asyncio.Semaphore(concurrency)

    async def one(spec: EpisodeSpec) -> EpisodeRecord:
        async with limit:
            played = await episodes.play(spec)
        if on_episode is not None:
            on_episode(played.record)
        return played.record

    try:
        await episodes.referee()  # a connection that cannot open fails the whole plan, not each episode
        return list(await asyncio.gather(*(one(spec) for spec in plan)))
    finally:
        await episodes.close()
