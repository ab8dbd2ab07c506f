"""Confidence intervals as the paper gives them (mean ± 1.96·SE), Wilson intervals for rates, and bootstraps
clustered by maze. `docs/statistics.md` gives every formula.

Episodes on the same maze are not independent (a hard maze is hard for every repetition and seating), so the
bootstrap resamples whole mazes, and a difference of two cells (the gap, the ordering effect) is paired on the
mazes both played. Every computation first sorts its sample by maze and value, and every bootstrap starts its own
generator from a fixed seed: the same records give the same intervals, in whichever order they were stored.

The analysis built on them (cells, gaps, ordering effects, relay curves, cost) is `analyze` in `_analysis.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from .._records import EpisodeRecord, Score

Z95 = 1.96
RESAMPLES = 2000
SEED = 20251104


class Seating(BaseModel):
    """What an episode's row in a list shows of its cell: condition, protocol, seats A and B, and the relay."""

    model_config = ConfigDict(frozen=True)

    condition: str
    mode: str
    """The protocol the cell was played under: `referee` or `paper`."""
    seat_a: str
    seat_b: str | None
    relay_kind: str | None
    relay_k: int | None


class CellKey(Seating):
    """What makes two episodes the same cell: the seating, the relay's newcomers, and a team's further seats.

    Frozen, so it keys the analysis's groups; `Cell` extends it, keeping the report's JSON flat.
    """

    relay_seat_a: str | None
    """Relay: who takes seat A after K messages (None: A keeps its player, or no relay)."""
    relay_seat_b: str | None
    more_seats: tuple[str, ...] = ()
    """A team's seats C, D, … (who holds them); empty for solo and pairs."""
    order: tuple[str, ...] = ()
    """A team's speaking order, when its run file set one."""


def cell_key(record: EpisodeRecord) -> CellKey:
    """The cell an episode belongs to."""
    spec, relay = record.spec, record.spec.relay
    return CellKey(
        condition=spec.condition, mode=spec.mode, seat_a=spec.seat_a.name,
        seat_b=spec.seat_b.name if spec.seat_b else None,
        relay_kind=relay.kind if relay else None, relay_k=relay.after_messages if relay else None,
        relay_seat_a=relay.seat_a.name if relay and relay.seat_a else None,
        relay_seat_b=relay.seat_b.name if relay and relay.seat_b else None,
        more_seats=tuple(seat.name for seat in spec.more_seats), order=tuple(spec.order),
    )


def maze_cluster(record: EpisodeRecord) -> str:
    """The maze an episode was played on, for clustering; the maze parameters when the referee gave no id."""
    return record.maze_id or record.spec.maze.model_dump_json()


def counted(record: EpisodeRecord) -> bool:
    """Whether an episode is in n: scored, and not an agent's failure that the run's policy excludes.

    Platform errors are never scored. An agent's own failure counts under `agent_errors = "score"` (the default)
    and is left out under `"exclude"`; a grader's failure always counts.
    """
    if record.status == "error" or record.score is None:
        return False
    error = record.error
    return not (error is not None and error.blame.startswith("agent:") and record.spec.agent_errors == "exclude")


def scored(records: Sequence[EpisodeRecord]) -> tuple[list[Score], list[str]]:
    """The scores of the episodes in n (see `counted`), and the maze of each."""
    kept = [(r.score, maze_cluster(r)) for r in records if counted(r) and r.score is not None]
    return [score for score, _ in kept], [maze for _, maze in kept]


class Estimate(BaseModel):
    """A mean (or a paired difference of means) with its 95% intervals.

    `ci95` is the paper's half-width 1.96·SE; `boot_low`/`boot_high` are percentile bounds of a bootstrap that
    resamples mazes; `wilson_low`/`wilson_high` bound a success rate (set for rates only). Fields that cannot be
    computed (no data, one episode, one maze) are None.
    """

    model_config = ConfigDict(frozen=True)

    mean: float | None
    se: float | None = None
    """Standard error: s/√n over episodes for a mean; over per-maze differences for a paired difference."""
    ci95: float | None = None
    """Half-width of the normal interval, 1.96·SE."""
    boot_low: float | None = None
    boot_high: float | None = None
    wilson_low: float | None = None
    """Wilson score interval of a success rate (z = 1.96); it never collapses at 0% or 100%."""
    wilson_high: float | None = None

    @property
    def low(self) -> float | None:
        """Lower bound of the normal interval."""
        return None if self.mean is None or self.ci95 is None else self.mean - self.ci95

    @property
    def high(self) -> float | None:
        """Upper bound of the normal interval."""
        return None if self.mean is None or self.ci95 is None else self.mean + self.ci95


def mean_ci(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and the half-width 1.96·s/√n (None when it cannot be computed)."""
    if not values:
        return None, None
    data = np.sort(np.asarray(values, dtype=float))
    if data.size < 2:
        return float(data.mean()), None
    return float(data.mean()), float(Z95 * data.std(ddof=1) / np.sqrt(data.size))


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion `successes / n`; None when n is 0."""
    if n <= 0:
        return None
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _by_maze(values: Sequence[float], mazes: Sequence[str]) -> dict[str, list[float]]:
    """Values grouped by maze, mazes and values sorted: nothing downstream depends on storage order."""
    groups: dict[str, list[float]] = {}
    for maze, value in sorted(zip(mazes, values, strict=True)):
        groups.setdefault(maze, []).append(value)
    return groups


def _percentiles(draws: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def _picks(clusters: int, resamples: int, seed: int) -> np.ndarray:
    """`resamples` draws of `clusters` cluster indices with replacement, from a fresh seeded generator."""
    return np.random.default_rng(seed).integers(0, clusters, size=(resamples, clusters))


def cluster_bootstrap(values: Sequence[float], mazes: Sequence[str], *, resamples: int = RESAMPLES,
                      seed: int = SEED) -> tuple[float, float] | None:
    """95% percentile interval of the mean, resampling whole mazes with replacement.

    Each draw's mean is its episodes' total over its episodes' count. None with fewer than two mazes, where
    resampling mazes says nothing.
    """
    groups = _by_maze(values, mazes)
    if len(groups) < 2:
        return None
    sums = np.array([sum(group) for group in groups.values()])
    counts = np.array([len(group) for group in groups.values()], dtype=float)
    picks = _picks(len(groups), resamples, seed)
    return _percentiles(sums[picks].sum(axis=1) / counts[picks].sum(axis=1))


def estimate(values: Sequence[float], mazes: Sequence[str], *, resamples: int = RESAMPLES,
             seed: int = SEED) -> Estimate:
    """The mean of `values` (one per episode, on the maze of the same index) with its normal and bootstrap intervals."""
    mean, ci95 = mean_ci(values)
    boot = cluster_bootstrap(values, mazes, resamples=resamples, seed=seed)
    return Estimate(mean=mean, se=None if ci95 is None else ci95 / Z95, ci95=ci95,
                    boot_low=boot[0] if boot else None, boot_high=boot[1] if boot else None)


def rate(successes: Sequence[bool], mazes: Sequence[str], *, resamples: int = RESAMPLES,
         seed: int = SEED) -> Estimate:
    """A success rate: `estimate` of the 0/1 outcomes, plus its Wilson interval."""
    base = estimate([float(s) for s in successes], mazes, resamples=resamples, seed=seed)
    bounds = wilson(sum(map(bool, successes)), len(successes))
    return base.model_copy(update={"wilson_low": bounds[0] if bounds else None,
                                   "wilson_high": bounds[1] if bounds else None})


def paired_difference(first: tuple[Sequence[float], Sequence[str]], second: tuple[Sequence[float], Sequence[str]],
                      *, resamples: int = RESAMPLES, seed: int = SEED) -> tuple[Estimate, int]:
    """`first` minus `second` on the mazes both played, each given as (values, maze of each value).

    Each shared maze gives one difference, the mean of `first` on it minus the mean of `second` on it. The
    estimate is the mean of these differences, its SE their s/√m, and the bootstrap resamples the same mazes.
    Returns the estimate and m, the number of shared mazes (0: no estimate).
    """
    groups_1, groups_2 = _by_maze(*first), _by_maze(*second)
    shared = sorted(groups_1.keys() & groups_2.keys())
    diffs = np.array([np.mean(groups_1[maze]) - np.mean(groups_2[maze]) for maze in shared])
    mean, ci95 = mean_ci(list(diffs))
    boot = None
    if len(shared) >= 2:
        boot = _percentiles(diffs[_picks(len(shared), resamples, seed)].mean(axis=1))
    return Estimate(mean=mean, se=None if ci95 is None else ci95 / Z95, ci95=ci95,
                    boot_low=boot[0] if boot else None, boot_high=boot[1] if boot else None), len(shared)
