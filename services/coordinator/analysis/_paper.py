"""The paper's published pair results, and matching them to our cells by the models each seat reported.

The values ship as `data/paper_pairs.csv`; a cell is matched only in paper mode, as a pair without a relay, when
each seat's messages reported exactly one model (see docs/statistics.md).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Sequence
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .._records import EpisodeRecord, MessageRecord
from ._stats import CellKey

PAPER_SOURCE = "Davidson et al. 2025, The Collaboration Gap, arXiv 2511.02687, appendix Tables 2 and 3"
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


class PaperValue(BaseModel):
    """One published pair result: `first` opens the dialogue (seat A), `second` answers (seat B)."""

    model_config = ConfigDict(frozen=True)

    metric: Literal["weighted", "binary"]
    """`weighted`: mean weighted score; `binary`: success rate."""
    first: str
    second: str
    mean: float
    ci95: float
    """The paper's half-width, 1.96·SE."""
    source: str
    """The appendix table it comes from."""


@functools.cache
def paper_values() -> tuple[PaperValue, ...]:
    """The paper's pair results, shipped as `services/coordinator/analysis/data/paper_pairs.csv`."""
    data = resources.files("collabgap.services.coordinator.analysis").joinpath("data/paper_pairs.csv")
    text = data.read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(line for line in text.splitlines(keepends=True)
                                              if not line.startswith("#"))))
    return tuple(PaperValue.model_validate(row) for row in rows)


def model_id(model: str) -> str:
    """A vendor's model id as compared with the paper's: no vendor prefix, lower case, no dated suffix.

        >>> model_id("openai/GPT-4.1-2025-04-14")
        'gpt-4.1'
    """
    return _DATED.sub("", model.strip().rsplit("/", 1)[-1].lower())


def seat_models(records: Sequence[EpisodeRecord]) -> dict[str, list[str]]:
    """Seat → the models its messages reported, over every attempt, normalised and sorted."""
    models: dict[str, set[str]] = {}
    for record in records:
        messages: list[MessageRecord] = [m for a in record.attempts for m in a.messages] + record.messages
        for message in messages:
            if message.usage is not None and message.usage.model.strip():
                models.setdefault(message.seat, set()).add(model_id(message.usage.model))
    return {seat: sorted(names) for seat, names in models.items()}


def published(key: CellKey, models: dict[str, list[str]], metric: str,
              paper: Sequence[PaperValue]) -> PaperValue | None:
    """The published value of a paper-mode pair cell whose seats each reported exactly one model."""
    if key.mode != "paper" or key.condition != "pair" or key.seat_b is None or key.relay_kind is not None:
        return None
    models_a, models_b = models.get("A", []), models.get("B", [])
    if len(models_a) != 1 or len(models_b) != 1:
        return None
    return next((v for v in paper if (v.metric, v.first, v.second) == (metric, models_a[0], models_b[0])), None)
