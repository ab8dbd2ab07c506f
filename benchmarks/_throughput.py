"""Figure 3: steady-state throughput of `run_episodes` at a number of games in flight, and its errors.

A run starts as many games as it may at once and ends with fewer and fewer in flight; neither end is the steady
state. Each game's start and end are known (its end from `on_episode`, its start from its `duration_s`), so the
window counted is from the first game's end (every slot has been busy for a whole game) to the last game's start
(every slot still busy); each game counts with the share of its duration inside the window, its messages spread
evenly over it. A run needs well over as many games as it holds in flight for the window to be a real one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from collabgap.services.coordinator import EpisodeRecord, Prompts, run_episodes

from ._games import failed, first_error, pair_plan
from ._stack import Stack


@dataclass(frozen=True)
class Rate:
    messages_per_s: float
    games_per_s: float
    games: int
    errors: int
    first_error: str


@dataclass
class Level:
    """The repetitions at one number of games in flight."""

    in_flight: int
    rates: list[Rate] = field(default_factory=list)

    def values(self, attribute: str) -> list[float]:
        return [getattr(rate, attribute) for rate in self.rates]

    def median(self, attribute: str) -> float:
        return statistics.median(self.values(attribute))

    def spread(self, attribute: str) -> tuple[float, float]:
        values = self.values(attribute)
        return min(values), max(values)

    @property
    def errors(self) -> int:
        return sum(rate.errors for rate in self.rates)

    @property
    def games(self) -> int:
        return sum(rate.games for rate in self.rates)


def steady_rate(spans: list[tuple[float, float, int]]) -> tuple[float, float]:
    """Messages/s and games/s inside the window of every slot busy, from each game's (start, end, messages).

    Falls back to the whole run when the window is shorter than a game (too few games for the number in flight).
    """
    window_start = min(end for _, end, _ in spans)
    window_end = max(start for start, _, _ in spans)
    if window_end - window_start < statistics.median(end - start for start, end, _ in spans):
        window_start, window_end = min(start for start, _, _ in spans), max(end for _, end, _ in spans)
    games = messages = 0.0
    for start, end, count in spans:
        share = max(0.0, min(end, window_end) - max(start, window_start)) / max(end - start, 1e-9)
        games += share
        messages += share * count
    width = window_end - window_start
    return messages / width, games / width


async def measure_rate(stack: Stack, in_flight: int, games: int, first_seed: int, prompts: Prompts) -> Rate:
    """One `run_episodes` call of `games` scripted pair games with `in_flight` at once."""
    ended: dict[str, float] = {}

    def stamp(record: EpisodeRecord) -> None:
        ended[record.spec.episode_id] = time.perf_counter()

    plan = pair_plan(stack.scripted.url, games, first_seed)
    records = await run_episodes(plan, stack.referee.url, stack.token, concurrency=in_flight, prompts=prompts,
                                 on_episode=stamp)
    spans = [(ended[r.spec.episode_id] - r.duration_s, ended[r.spec.episode_id], len(r.messages)) for r in records]
    messages_per_s, games_per_s = steady_rate(spans)
    return Rate(messages_per_s, games_per_s, len(records), len(failed(records)), first_error(records))


async def measure_throughput(stack: Stack, games: dict[int, int], repeats: int, first_seed: int, prompts: Prompts,
                             on_rate: Callable[[int, Rate], None] = lambda in_flight, rate: None) -> list[Level]:
    """`repeats` rounds over every level (`games` by games in flight), round by round so that a drift of the machine
    reaches every level alike; every level plays the same mazes (seeds from `first_seed`)."""
    results = [Level(in_flight) for in_flight in games]
    for _ in range(repeats):
        for level in results:
            level.rates.append(await measure_rate(stack, level.in_flight, games[level.in_flight], first_seed, prompts))
            on_rate(level.in_flight, level.rates[-1])
    return results
