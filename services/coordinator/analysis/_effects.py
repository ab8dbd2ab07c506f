"""Differences between two cells, paired on the mazes both played: the collaboration gap (solo minus the
homogeneous pair) and the ordering effect (X opens minus Y opens). docs/statistics.md gives the formulas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .._records import EpisodeRecord
from ._stats import CellKey, Estimate, estimate, paired_difference, scored

SoloCondition = Literal["solo-full", "solo-split"]


class Gap(BaseModel):
    """The collaboration gap of one player: solo minus its homogeneous pair (both seats), weighted score.

    `solo` and `pair` are the two cells' own estimates; `gap` is paired on the mazes both played, so it equals
    solo − pair exactly when both cells played the same mazes equally often.
    """

    model_config = ConfigDict(frozen=True)

    player: str
    mode: str
    solo_condition: SoloCondition
    solo: Estimate
    pair: Estimate
    gap: Estimate
    """Mean over shared mazes of (solo − pair) on each; positive when the player does better alone."""
    shared_mazes: int
    """Mazes both cells played: the sample of the gap and of its bootstrap (0: none)."""


class OrderingEffect(BaseModel):
    """Does it matter who opens? Weighted score when X sits in seat A minus when Y does, paired on shared mazes."""

    model_config = ConfigDict(frozen=True)

    mode: str
    player_x: str
    player_y: str
    x_opens: Estimate
    y_opens: Estimate
    effect: Estimate
    shared_mazes: int


def _weighted(records: Sequence[EpisodeRecord]) -> tuple[list[float], list[str]]:
    scores, mazes = scored(records)
    return [s.weighted for s in scores], mazes


def gaps(groups: dict[CellKey, list[EpisodeRecord]], resamples: int, seed: int) -> list[Gap]:
    """Every player with a plain solo cell and a plain homogeneous pair cell in the same mode."""
    found = []
    for key, solo in groups.items():
        if key.condition not in ("solo-full", "solo-split") or key.relay_kind is not None:
            continue
        pair = groups.get(CellKey(condition="pair", mode=key.mode, seat_a=key.seat_a, seat_b=key.seat_a,
                                  relay_kind=None, relay_k=None, relay_seat_a=None, relay_seat_b=None))
        if pair is None:
            continue
        gap, shared = paired_difference(_weighted(solo), _weighted(pair), resamples=resamples, seed=seed)
        condition: SoloCondition = "solo-full" if key.condition == "solo-full" else "solo-split"
        found.append(Gap(player=key.seat_a, mode=key.mode, solo_condition=condition,
                         solo=estimate(*_weighted(solo), resamples=resamples, seed=seed),
                         pair=estimate(*_weighted(pair), resamples=resamples, seed=seed),
                         gap=gap, shared_mazes=shared))
    return sorted(found, key=lambda g: (g.mode, g.player, g.solo_condition))


def ordering(groups: dict[CellKey, list[EpisodeRecord]], resamples: int, seed: int) -> list[OrderingEffect]:
    """Every plain pair X + Y (X < Y) whose swapped seating Y + X was also played in the same mode."""
    effects = []
    for key, x_opens in groups.items():
        if key.condition != "pair" or key.relay_kind is not None or key.seat_b is None or not key.seat_a < key.seat_b:
            continue
        y_opens = groups.get(key.model_copy(update={"seat_a": key.seat_b, "seat_b": key.seat_a}))
        if y_opens is None:
            continue
        effect, shared = paired_difference(_weighted(x_opens), _weighted(y_opens), resamples=resamples, seed=seed)
        effects.append(OrderingEffect(
            mode=key.mode, player_x=key.seat_a, player_y=key.seat_b,
            x_opens=estimate(*_weighted(x_opens), resamples=resamples, seed=seed),
            y_opens=estimate(*_weighted(y_opens), resamples=resamples, seed=seed),
            effect=effect, shared_mazes=shared))
    return sorted(effects, key=lambda e: (e.mode, e.player_x, e.player_y))
