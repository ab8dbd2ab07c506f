"""Figure 5: memory. The coordinator's resident memory with one game in flight and with many (which is also the
error count at that load), and an agent service's memory per open context.

The coordinator's figure is read in this process, first of all figures, so no earlier load has grown its heap:
the peak VmRSS while games run one at a time, then the peak while `many` run at once (LLM games through the fake
vendor at its fixed latency, so every game really is in flight together). An agent's figure is its VmRSS before
and after opening `contexts` conversations, each by a `SeatStart` (a 6x6 pair view), none ended yet.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from collabgap.protocol import MazeParams, SeatEnd, SeatStart, generate_maze, split_views
from collabgap.services.coordinator import AgentConnection, EpisodeRecord, Prompts, run_episodes

from ._games import SIZE, failed, first_error, pair_plan
from ._proc import rss_mib
from ._stack import Service, Stack

SAMPLE_S = 0.02
SENDERS = 16
"""Contexts opened at once."""


@dataclass(frozen=True)
class CoordinatorMemory:
    one_mib: float
    many_mib: float
    many: int
    games: int
    errors: int
    first_error: str

    @property
    def per_game_mib(self) -> float:
        return (self.many_mib - self.one_mib) / (self.many - 1)


@contextlib.asynccontextmanager
async def peak_rss() -> AsyncIterator[list[float]]:
    """Sample this process's VmRSS while the block runs; the list holds the peak when it ends."""
    peak = [rss_mib()]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], rss_mib())
            await asyncio.sleep(SAMPLE_S)

    sampler = asyncio.create_task(sample())
    try:
        yield peak
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        peak[0] = max(peak[0], rss_mib())


async def measure_coordinator_memory(stack: Stack, one_games: int, many: int, first_seed: int,
                                     prompts: Prompts) -> CoordinatorMemory:
    async def run(count: int, in_flight: int, seed: int) -> list[EpisodeRecord]:
        plan = pair_plan(stack.llm_slow.url, count, seed)
        return await run_episodes(plan, stack.referee.url, stack.token, concurrency=in_flight, prompts=prompts)

    await run(1, 1, first_seed)  # warm-up: imports and first-use allocations
    async with peak_rss() as one:
        await run(one_games, 1, first_seed)
    async with peak_rss() as peak:
        records = await run(many, many, first_seed)
    return CoordinatorMemory(one[0], peak[0], many, len(records), len(failed(records)), first_error(records))


async def measure_agent_memory(agent: Service, contexts: int, first_seed: int, prompts: Prompts) -> float:
    """MiB of the agent's resident memory per open context."""
    maze = generate_maze(MazeParams(size=SIZE, seed=first_seed))
    views = split_views(maze, seed=first_seed)
    limit = asyncio.Semaphore(SENDERS)
    async with AgentConnection.open(agent.url) as seat:

        async def open_context(game_id: str) -> None:
            start = SeatStart(game_id=game_id, seat="A", condition="pair", speaks_first=True, message_limit=50,
                              size=SIZE, maps=[list(views[0])], legend="@ start, * goal, . open, # wall, ? hidden")
            async with limit:
                await seat.send("A", f"{game_id}-A", prompts.start(start), start)

        async def end_context(game_id: str) -> None:
            end = SeatEnd(game_id=game_id, seat="A", status="ended", reason="benchmark")
            async with limit:
                await seat.send("A", f"{game_id}-A", ["The game is over: ended."], end)

        warm = [f"bench-warm-{index}" for index in range(SENDERS)]
        await asyncio.gather(*map(open_context, warm))
        await asyncio.gather(*map(end_context, warm))
        before = rss_mib(agent.pid)
        games = [f"bench-memory-{index}" for index in range(contexts)]
        await asyncio.gather(*map(open_context, games))
        after = rss_mib(agent.pid)
        await asyncio.gather(*map(end_context, games))
    return (after - before) / contexts
