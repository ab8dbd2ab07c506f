"""Per-cell summaries with the paper's 95% confidence interval: mean ± 1.96·SE."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, ConfigDict

from ._records import EpisodeRecord

Z95 = 1.96


class CellSummary(BaseModel):
    """One condition and seat assignment, over its scored episodes; errors are counted apart, never scored."""

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


def mean_ci(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and the half-width 1.96·s/√n (None when it cannot be computed)."""
    if not values:
        return None, None
    data = np.asarray(values, dtype=float)
    if data.size < 2:
        return float(data.mean()), None
    return float(data.mean()), float(Z95 * data.std(ddof=1) / np.sqrt(data.size))


def summarize(records: Iterable[EpisodeRecord]) -> list[CellSummary]:
    """One summary per (condition, seat A, seat B), in first-seen order."""
    cells: dict[tuple[str, str, str | None], list[EpisodeRecord]] = {}
    for record in records:
        spec = record.spec
        key = (spec.condition, spec.seat_a.name, spec.seat_b.name if spec.seat_b else None)
        cells.setdefault(key, []).append(record)
    summaries = []
    for (condition, seat_a, seat_b), group in cells.items():
        scored = [r.score for r in group if r.score is not None]
        weighted, weighted_ci = mean_ci([s.weighted for s in scored])
        success, success_ci = mean_ci([float(s.success) for s in scored])
        summaries.append(CellSummary(
            condition=condition, seat_a=seat_a, seat_b=seat_b, n=len(scored), errors=len(group) - len(scored),
            weighted_mean=weighted, weighted_ci95=weighted_ci, success_rate=success, success_ci95=success_ci,
        ))
    return summaries
