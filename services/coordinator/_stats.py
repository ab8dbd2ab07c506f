"""Confidence intervals as the paper gives them (mean ± 1.96·SE), and bootstraps clustered by maze.

Episodes on the same maze are not independent (a hard maze is hard for every repetition and seating), so the
bootstrap resamples whole mazes. Every bootstrap starts its own generator from a fixed seed: the same records
give the same intervals, whatever else the analysis computes and in whichever order.

`summarize` and `CellSummary` are the short per-cell table the demo and `ExperimentResult` carry; the full
analysis (bootstrap intervals, gaps, ordering effects, relay curves, cost) is `analyze` in `_analysis.py`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict

from ._records import EpisodeRecord

Z95 = 1.96
RESAMPLES = 2000
SEED = 20251104


class CellKey(NamedTuple):
    """What makes two episodes the same cell: condition, mode, who sits where, and the relay (if any)."""

    condition: str
    mode: str
    seat_a: str
    seat_b: str | None
    relay_kind: str | None
    relay_k: int | None
    relay_seat_a: str | None
    """Relay: who takes seat A after K messages (None: A keeps its player, or no relay)."""
    relay_seat_b: str | None


def cell_key(record: EpisodeRecord) -> CellKey:
    """The cell an episode belongs to."""
    spec, relay = record.spec, record.spec.relay
    return CellKey(
        condition=spec.condition, mode=spec.mode, seat_a=spec.seat_a.name,
        seat_b=spec.seat_b.name if spec.seat_b else None,
        relay_kind=relay.kind if relay else None, relay_k=relay.after_messages if relay else None,
        relay_seat_a=relay.seat_a.name if relay and relay.seat_a else None,
        relay_seat_b=relay.seat_b.name if relay and relay.seat_b else None,
    )


def maze_cluster(record: EpisodeRecord) -> str:
    """The maze an episode was played on, for clustering; the maze parameters when the referee gave no id."""
    return record.maze_id or record.spec.maze.model_dump_json()


class Estimate(BaseModel):
    """A mean (or a difference of means) with two 95% intervals.

    `ci95` is the paper's half-width 1.96·SE; `boot_low`/`boot_high` are percentile bounds of a bootstrap that
    resamples mazes. Fields that cannot be computed (no data, one episode, one maze) are None.
    """

    model_config = ConfigDict(frozen=True)

    mean: float | None
    se: float | None = None
    """Standard error: s/√n for a mean, √(se₁² + se₂²) for a difference."""
    ci95: float | None = None
    """Half-width of the normal interval, 1.96·SE."""
    boot_low: float | None = None
    boot_high: float | None = None

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
    data = np.asarray(values, dtype=float)
    if data.size < 2:
        return float(data.mean()), None
    return float(data.mean()), float(Z95 * data.std(ddof=1) / np.sqrt(data.size))


def _cluster_totals(values: Sequence[float], clusters: Sequence[Hashable],
                    order: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums and counts, in the order of `order`."""
    index = {cluster: i for i, cluster in enumerate(order)}
    sums, counts = np.zeros(len(order)), np.zeros(len(order))
    for value, cluster in zip(values, clusters, strict=True):
        if cluster in index:
            sums[index[cluster]] += value
            counts[index[cluster]] += 1
    return sums, counts


def _percentiles(draws: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def cluster_bootstrap(values: Sequence[float], clusters: Sequence[Hashable], *, resamples: int = RESAMPLES,
                      seed: int = SEED) -> tuple[float, float] | None:
    """95% percentile interval of the mean, resampling whole clusters (mazes) with replacement.

    None with fewer than two clusters, where resampling mazes says nothing.
    """
    order = list(dict.fromkeys(clusters))
    if len(order) < 2:
        return None
    sums, counts = _cluster_totals(values, clusters, order)
    picks = np.random.default_rng(seed).integers(0, len(order), size=(resamples, len(order)))
    return _percentiles(sums[picks].sum(axis=1) / counts[picks].sum(axis=1))


def estimate(values: Sequence[float], clusters: Sequence[Hashable], *, resamples: int = RESAMPLES,
             seed: int = SEED) -> Estimate:
    """The mean of `values` with its normal and maze-clustered bootstrap intervals."""
    mean, ci95 = mean_ci(values)
    boot = cluster_bootstrap(values, clusters, resamples=resamples, seed=seed)
    return Estimate(mean=mean, se=None if ci95 is None else ci95 / Z95, ci95=ci95,
                    boot_low=boot[0] if boot else None, boot_high=boot[1] if boot else None)


def difference(first: tuple[Sequence[float], Sequence[Hashable]], second: tuple[Sequence[float], Sequence[Hashable]],
               *, resamples: int = RESAMPLES, seed: int = SEED) -> tuple[Estimate, int]:
    """Mean of `first` minus mean of `second`, each given as (values, maze of each value).

    The normal interval combines the two standard errors, 1.96·√(se₁² + se₂²). The bootstrap resamples the mazes
    both cells played, with the same draw for both, so a maze's difficulty cancels; it needs two shared mazes.
    Returns the estimate and the number of shared mazes.
    """
    (values_1, mazes_1), (values_2, mazes_2) = first, second
    mean_1, ci_1 = mean_ci(values_1)
    mean_2, ci_2 = mean_ci(values_2)
    if mean_1 is None or mean_2 is None:
        return Estimate(mean=None), 0
    se = None if ci_1 is None or ci_2 is None else float(np.hypot(ci_1 / Z95, ci_2 / Z95))
    played_2 = set(mazes_2)
    shared = [maze for maze in dict.fromkeys(mazes_1) if maze in played_2]
    boot = None
    if len(shared) >= 2:
        sums_1, counts_1 = _cluster_totals(values_1, mazes_1, shared)
        sums_2, counts_2 = _cluster_totals(values_2, mazes_2, shared)
        picks = np.random.default_rng(seed).integers(0, len(shared), size=(resamples, len(shared)))
        boot = _percentiles(sums_1[picks].sum(axis=1) / counts_1[picks].sum(axis=1)
                            - sums_2[picks].sum(axis=1) / counts_2[picks].sum(axis=1))
    return Estimate(mean=mean_1 - mean_2, se=se, ci95=None if se is None else Z95 * se,
                    boot_low=boot[0] if boot else None, boot_high=boot[1] if boot else None), len(shared)


class CellSummary(BaseModel):
    """One cell over its scored episodes, in short; errors are counted apart, never scored."""

    model_config = ConfigDict(frozen=True)

    condition: str
    seat_a: str
    seat_b: str | None
    n: int
    """Scored episodes."""
    errors: int
    """Episodes that ended in an infrastructure error."""
    weighted_mean: float | None
    weighted_ci95: float | None
    """Half-width of the 95% interval, 1.96·SE; None with fewer than 2 episodes."""
    success_rate: float | None
    success_ci95: float | None
    mode: str = "referee"
    relay_kind: str | None = None
    relay_k: int | None = None


def summarize(records: Iterable[EpisodeRecord]) -> list[CellSummary]:
    """One summary per cell (see `CellKey`), in first-seen order."""
    cells: dict[CellKey, list[EpisodeRecord]] = {}
    for record in records:
        cells.setdefault(cell_key(record), []).append(record)
    summaries = []
    for key, group in cells.items():
        scored = [r.score for r in group if r.score is not None]
        weighted, weighted_ci = mean_ci([s.weighted for s in scored])
        success, success_ci = mean_ci([float(s.success) for s in scored])
        summaries.append(CellSummary(
            condition=key.condition, seat_a=key.seat_a, seat_b=key.seat_b, n=len(scored),
            errors=len(group) - len(scored), weighted_mean=weighted, weighted_ci95=weighted_ci,
            success_rate=success, success_ci95=success_ci, mode=key.mode, relay_kind=key.relay_kind,
            relay_k=key.relay_k,
        ))
    return summaries
