"""Figure 4: a latency-bound run, where the model's latency alone should set the pace.

LLM pair games through the fake vendor at a fixed latency: ideally every one of the games in flight is always
waiting for a model, so the run takes Σ(messages of a game × latency) / games in flight. The message counts are
the records'; the vendor's own request count says how many model calls the messages took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from collabgap.services.coordinator import Prompts, run_episodes

from ._games import failed, first_error, pair_plan
from ._stack import FAKE_KEY, LATENCY_S, Stack

COMPLETIONS = "/v1/chat/completions"


@dataclass(frozen=True)
class LatencyBound:
    games: int
    in_flight: int
    messages: int
    model_calls: int
    wall_s: float
    errors: int
    first_error: str

    @property
    def ideal_s(self) -> float:
        return self.messages * LATENCY_S / self.in_flight


def vendor_requests(vendor_url: str) -> int:
    """Chat completions the fake vendor has answered so far."""
    stats = httpx.get(f"{vendor_url}/_fake/stats", headers={"Authorization": f"Bearer {FAKE_KEY}"}).json()
    return int(stats["requests"].get(COMPLETIONS, 0))


async def measure_latency_bound(stack: Stack, games: int, in_flight: int, first_seed: int,
                                prompts: Prompts) -> LatencyBound:
    plan = pair_plan(stack.llm_slow.url, games, first_seed)
    calls0 = vendor_requests(stack.slow_vendor.url)
    started = time.perf_counter()
    records = await run_episodes(plan, stack.referee.url, stack.token, concurrency=in_flight, prompts=prompts)
    wall = time.perf_counter() - started
    return LatencyBound(games, in_flight, sum(len(r.messages) for r in records),
                        vendor_requests(stack.slow_vendor.url) - calls0, wall, len(failed(records)),
                        first_error(records))
