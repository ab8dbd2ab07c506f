"""Many episodes at once, in memory: `run_episodes` plays a list of specs concurrently and returns the records.

It stores nothing and retries nothing: the assessor, the benchmarks and the tests use it. A run, the demo and
`play` go through the run engine instead (`_run.execute_run`), into a store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from pydantic import SecretStr

from ._episode import episode_agents, play_episode
from ._prices import PriceTable
from ._prompts import Prompts
from .._records import EpisodeRecord, EpisodeSpec
from ._referee_client import RefereeClient
from ._seat_client import connect_agents


async def run_episodes(plan: list[EpisodeSpec], referee_url: str, referee_token: SecretStr, *,
                       concurrency: int = 8, turn_timeout_s: float = 60.0, prompts: Prompts | None = None,
                       prices: PriceTable | None = None, agent_tokens: Mapping[str, SecretStr] | None = None,
                       on_episode: Callable[[EpisodeRecord], None] | None = None) -> list[EpisodeRecord]:
    """Play `plan` with at most `concurrency` games at once; every episode ends with a record, errors included.

    `agent_tokens` maps an agent's URL to the bearer token it requires, as a run file's `token_env` does."""
    prompts, prices = prompts or Prompts.load(), prices or PriceTable.load()
    urls = sorted({agent.url for spec in plan for agent in episode_agents(spec)})
    async with contextlib.AsyncExitStack() as stack:
        # One pool per endpoint for the whole plan, a connection for each game in flight: no game opens its own.
        referee = await stack.enter_async_context(
            RefereeClient.connect(referee_url, referee_token.get_secret_value(), connections=concurrency))
        agents, unreachable = await connect_agents(stack, urls, timeout=turn_timeout_s, tokens=agent_tokens,
                                      connections=concurrency)
        limit = asyncio.Semaphore(concurrency)

        async def one(spec: EpisodeSpec) -> EpisodeRecord:
            async with limit:
                record = await play_episode(spec, referee, agents, prompts=prompts, prices=prices,
                                            unreachable=unreachable)
            if on_episode is not None:
                on_episode(record)
            return record

        return list(await asyncio.gather(*(one(spec) for spec in plan)))
