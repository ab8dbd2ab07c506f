"""Statistics and analysis of stored episodes: cell summaries with confidence intervals, collaboration gaps,
ordering effects, relay curves and the paper's published pairs beside ours.

Pure computation over `EpisodeRecord`s: it imports only `protocol`, numpy and the coordinator's shared
`_errors` and `_records`, never a client, a store or a report.
"""

from __future__ import annotations

from ._analysis import Analysis, Cell, analyze
from ._stats import mean_ci

__all__ = [
    "Analysis", "Cell", "analyze", "mean_ci",
]
