"""The analysis of a run (DESIGN §3.4): cells, the collaboration gap, ordering effects, relay curves, errors, cost.

Every number comes from `EpisodeRecord`s. An episode that ended in an infrastructure error is counted (by
kind, per cell and per agent) and never scored. Scores are the referee's: `weighted` (partial progress, may be
negative) and `success`. Intervals are the paper's mean ± 1.96·SE and a bootstrap over mazes (see `_stats`).

    analysis = analyze(records)
    gap = analysis.gap("gpt-4.1-mini")           # solo-full minus the homogeneous pair
    print(gap.gap.mean, gap.gap.ci95)
"""

from __future__ import annotations

import csv
import functools
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ._records import EpisodeRecord
from ._stats import (
    RESAMPLES,
    SEED,
    CellKey,
    Estimate,
    cell_key,
    difference,
    estimate,
    maze_cluster,
)

PAPER_SOURCE = "Davidson et al. 2025, The Collaboration Gap, arXiv 2511.02687, appendix Tables 2 and 3"
SoloCondition = Literal["solo-full", "solo-split"]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class PaperValue(_Result):
    """One published pair result: `first` opens the dialogue (seat A), `second` answers (seat B)."""

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
    """The paper's pair results, shipped as `services/coordinator/data/paper_pairs.csv`."""
    text = resources.files("services.coordinator").joinpath("data/paper_pairs.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(line for line in text.splitlines(keepends=True)
                                              if not line.startswith("#"))))
    return tuple(PaperValue.model_validate(row) for row in rows)


def model_name(player: str) -> str:
    """How a player's name is compared with the paper's model names: lower case, without a vendor prefix."""
    return player.rsplit("/", 1)[-1].strip().lower()


class Cell(_Result):
    """One condition, mode, seating and relay, over its episodes."""

    condition: str
    mode: str
    seat_a: str
    seat_b: str | None
    relay_kind: str | None
    relay_k: int | None
    relay_seat_a: str | None
    """Relay: who takes seat A after K messages (None: A keeps its player)."""
    relay_seat_b: str | None
    episodes: int
    """Every episode of the cell, errors included."""
    n: int
    """Scored episodes (those that did not end in an error)."""
    errors: int
    error_kinds: dict[str, int]
    mazes: int
    """Distinct mazes among the scored episodes: the clusters of the bootstrap."""
    weighted: Estimate
    success: Estimate
    """Success rate (0 to 1)."""
    messages_mean: float | None
    """Messages per scored episode."""
    prompt_tokens: int
    completion_tokens: int
    tokens: int
    """Prompt plus completion tokens of every message (and paper-mode grading), errors included: they were spent."""
    tokens_per_episode: float | None
    cost_usd: float
    """Known cost of every episode, errors included; unpriced models count 0."""
    cost_usd_per_episode: float | None
    paper_weighted: PaperValue | None = None
    """The paper's value for this seating (pair cells without relay whose names match the paper's models)."""
    paper_success: PaperValue | None = None

    @property
    def key(self) -> CellKey:
        return CellKey(self.condition, self.mode, self.seat_a, self.seat_b, self.relay_kind, self.relay_k,
                       self.relay_seat_a, self.relay_seat_b)

    @property
    def label(self) -> str:
        """`condition seat A [+ seat B] [relay kind K=k]`, for tables."""
        seats = self.seat_a if self.seat_b is None else f"{self.seat_a} + {self.seat_b}"
        relay = f" {self.relay_kind} K={self.relay_k}" if self.relay_kind else ""
        return f"{self.condition} {seats}{relay}" + ("" if self.mode == "referee" else f" ({self.mode})")


class Gap(_Result):
    """The collaboration gap of one player: solo minus its homogeneous pair (both seats), weighted score."""

    player: str
    mode: str
    solo_condition: SoloCondition
    solo: Estimate
    pair: Estimate
    gap: Estimate
    """Positive when the player does better alone than paired with itself."""
    shared_mazes: int
    """Mazes both cells played: the clusters of the paired bootstrap (0: none)."""


class OrderingEffect(_Result):
    """Does it matter who opens? Weighted score when X sits in seat A minus when Y does (X, Y distinct)."""

    mode: str
    player_x: str
    player_y: str
    x_opens: Estimate
    y_opens: Estimate
    effect: Estimate
    shared_mazes: int


class RelayPoint(_Result):
    k: int
    """Messages written before the hand-over."""
    n: int
    weighted: Estimate
    success: Estimate


class RelayCurve(_Result):
    """One relay kind and player combination, as a function of K."""

    mode: str
    kind: str
    seat_a: str
    seat_b: str
    relay_seat_a: str | None
    relay_seat_b: str | None
    points: list[RelayPoint]

    @property
    def label(self) -> str:
        """`kind: A→A' + B→B'`, naming only the seats that change hands."""
        seat_a = self.seat_a if self.relay_seat_a is None else f"{self.seat_a}→{self.relay_seat_a}"
        seat_b = self.seat_b if self.relay_seat_b is None else f"{self.seat_b}→{self.relay_seat_b}"
        return f"{self.kind}: {seat_a} + {seat_b}" + ("" if self.mode == "referee" else f" ({self.mode})")


class AgentErrors(_Result):
    """Errors blamed on one agent (the seat's holder at the time, or the grader), over the episodes it was in."""

    agent: str
    """The agent's name; `platform` for errors no seat caused (e.g. the referee)."""
    episodes: int
    errors: int
    kinds: dict[str, int]
    rate: float | None
    """errors / episodes (None for `platform`)."""


class Analysis(_Result):
    """Everything the reports show; JSON-serialisable with `model_dump_json`."""

    episodes: int
    scored: int
    errors: int
    resamples: int
    seed: int
    cells: list[Cell]
    gaps: list[Gap]
    ordering: list[OrderingEffect]
    relay_curves: list[RelayCurve]
    agent_errors: list[AgentErrors]
    paper_source: str = PAPER_SOURCE

    def cell(self, condition: str, seat_a: str, seat_b: str | None = None, *, mode: str = "referee",
             relay_kind: str | None = None, relay_k: int | None = None) -> Cell | None:
        """The cell with this seating (the first match when relay newcomers differ), or None."""
        for cell in self.cells:
            if (cell.condition, cell.mode, cell.seat_a, cell.seat_b, cell.relay_kind, cell.relay_k) == (
                    condition, mode, seat_a, seat_b, relay_kind, relay_k):
                return cell
        return None

    def gap(self, player: str, solo_condition: SoloCondition = "solo-full", *, mode: str = "referee") -> Gap | None:
        """The collaboration gap of `player`, or None when its solo or homogeneous pair cell is missing."""
        return next((g for g in self.gaps if (g.player, g.solo_condition, g.mode) == (player, solo_condition, mode)),
                    None)


def _scored(records: Sequence[EpisodeRecord]) -> list[EpisodeRecord]:
    return [r for r in records if r.status != "error" and r.score is not None]


def _samples(records: Sequence[EpisodeRecord], metric: str) -> tuple[list[float], list[str]]:
    scored = _scored(records)
    values = [float(r.score.weighted if metric == "weighted" else r.score.success) for r in scored if r.score]
    return values, [maze_cluster(r) for r in scored]


def episode_tokens(record: EpisodeRecord) -> tuple[int, int]:
    """Prompt and completion tokens of an episode: every message, and the grading in paper mode."""
    usages = [m.usage for m in record.messages] + [record.grading.usage if record.grading else None]
    return (sum(u.prompt_tokens for u in usages if u), sum(u.completion_tokens for u in usages if u))


def _paper(key: CellKey, metric: str, paper: Sequence[PaperValue]) -> PaperValue | None:
    if key.condition != "pair" or key.seat_b is None or key.relay_kind is not None:
        return None
    first, second = model_name(key.seat_a), model_name(key.seat_b)
    return next((v for v in paper if (v.metric, v.first, v.second) == (metric, first, second)), None)


def _cell(key: CellKey, records: list[EpisodeRecord], paper: Sequence[PaperValue], resamples: int,
          seed: int) -> Cell:
    scored = _scored(records)
    kinds = Counter(r.error.kind if r.error else "unknown" for r in records if r.status == "error" or r.score is None)
    prompt = completion = 0
    for record in records:
        p, c = episode_tokens(record)
        prompt, completion = prompt + p, completion + c
    cost = sum(r.cost_usd for r in records)
    return Cell(
        **key._asdict(), episodes=len(records), n=len(scored), errors=len(records) - len(scored),
        error_kinds=dict(sorted(kinds.items())), mazes=len({maze_cluster(r) for r in scored}),
        weighted=estimate(*_samples(records, "weighted"), resamples=resamples, seed=seed),
        success=estimate(*_samples(records, "success"), resamples=resamples, seed=seed),
        messages_mean=sum(len(r.messages) for r in scored) / len(scored) if scored else None,
        prompt_tokens=prompt, completion_tokens=completion, tokens=prompt + completion,
        tokens_per_episode=(prompt + completion) / len(records), cost_usd=cost,
        cost_usd_per_episode=cost / len(records),
        paper_weighted=_paper(key, "weighted", paper), paper_success=_paper(key, "binary", paper),
    )


def _plain(key: CellKey) -> bool:
    return key.relay_kind is None


def _gaps(groups: dict[CellKey, list[EpisodeRecord]], resamples: int, seed: int) -> list[Gap]:
    gaps = []
    for key, solo in groups.items():
        if key.condition not in ("solo-full", "solo-split") or not _plain(key):
            continue
        pair = groups.get(CellKey("pair", key.mode, key.seat_a, key.seat_a, None, None, None, None))
        if pair is None:
            continue
        gap, shared = difference(_samples(solo, "weighted"), _samples(pair, "weighted"), resamples=resamples,
                                 seed=seed)
        condition: SoloCondition = "solo-full" if key.condition == "solo-full" else "solo-split"
        gaps.append(Gap(player=key.seat_a, mode=key.mode, solo_condition=condition,
                        solo=estimate(*_samples(solo, "weighted"), resamples=resamples, seed=seed),
                        pair=estimate(*_samples(pair, "weighted"), resamples=resamples, seed=seed),
                        gap=gap, shared_mazes=shared))
    return sorted(gaps, key=lambda g: (g.mode, g.player, g.solo_condition))


def _ordering(groups: dict[CellKey, list[EpisodeRecord]], resamples: int, seed: int) -> list[OrderingEffect]:
    effects = []
    for key, x_opens in groups.items():
        if key.condition != "pair" or not _plain(key) or key.seat_b is None or not key.seat_a < key.seat_b:
            continue
        y_opens = groups.get(key._replace(seat_a=key.seat_b, seat_b=key.seat_a))
        if y_opens is None:
            continue
        effect, shared = difference(_samples(x_opens, "weighted"), _samples(y_opens, "weighted"),
                                    resamples=resamples, seed=seed)
        effects.append(OrderingEffect(
            mode=key.mode, player_x=key.seat_a, player_y=key.seat_b,
            x_opens=estimate(*_samples(x_opens, "weighted"), resamples=resamples, seed=seed),
            y_opens=estimate(*_samples(y_opens, "weighted"), resamples=resamples, seed=seed),
            effect=effect, shared_mazes=shared))
    return sorted(effects, key=lambda e: (e.mode, e.player_x, e.player_y))


def _relay_curves(cells: Iterable[Cell]) -> list[RelayCurve]:
    curves: dict[tuple[str, str, str, str, str | None, str | None], list[RelayPoint]] = {}
    for cell in cells:
        if cell.relay_kind is None or cell.relay_k is None or cell.seat_b is None:
            continue
        curve = (cell.mode, cell.relay_kind, cell.seat_a, cell.seat_b, cell.relay_seat_a, cell.relay_seat_b)
        curves.setdefault(curve, []).append(RelayPoint(k=cell.relay_k, n=cell.n, weighted=cell.weighted,
                                                       success=cell.success))
    return [RelayCurve(mode=mode, kind=kind, seat_a=a, seat_b=b, relay_seat_a=ra, relay_seat_b=rb,
                       points=sorted(points, key=lambda p: p.k))
            for (mode, kind, a, b, ra, rb), points in sorted(curves.items(), key=lambda item: str(item[0]))]


def _blamed(record: EpisodeRecord) -> str:
    """Who an error is charged to: the seat's holder when it failed, the grader, or the platform."""
    spec, error = record.spec, record.error
    if error is None or error.seat is None:
        return "platform"
    if error.seat == "grader":
        return spec.grader.name if spec.grader else "grader"
    holder = spec.seat_a if error.seat == "A" else spec.seat_b
    relay = spec.relay
    if relay is not None and len(record.messages) >= relay.after_messages:
        holder = (relay.seat_a if error.seat == "A" else relay.seat_b) or holder
    return holder.name if holder else "platform"


def _agent_errors(records: Sequence[EpisodeRecord]) -> list[AgentErrors]:
    episodes: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {}
    for record in records:
        spec, relay = record.spec, record.spec.relay
        newcomers = (relay.seat_a, relay.seat_b) if relay else ()
        episodes.update({seat.name for seat in (spec.seat_a, spec.seat_b, spec.grader, *newcomers) if seat is not None})
        if record.status == "error" or record.score is None:
            kinds.setdefault(_blamed(record), Counter())[record.error.kind if record.error else "unknown"] += 1
    rows = []
    for agent in sorted(set(episodes) | set(kinds)):
        counted = kinds.get(agent, Counter())
        total = sum(counted.values())
        rows.append(AgentErrors(agent=agent, episodes=episodes[agent], errors=total,
                                kinds=dict(sorted(counted.items())),
                                rate=total / episodes[agent] if episodes[agent] else None))
    return rows


def analyze(records: Iterable[EpisodeRecord], *, resamples: int = RESAMPLES, seed: int = SEED,
            paper: Sequence[PaperValue] | None = None) -> Analysis:
    """Analyse a run's records; cells come in first-seen order.

    Args:
        records: every stored episode, errors included.
        resamples: bootstrap resamples per interval.
        seed: every bootstrap starts a generator from this seed, so results are reproducible.
        paper: published values to set beside matching pair cells; None for the paper's own tables.
    """
    records = list(records)
    reference = paper_values() if paper is None else paper
    groups: dict[CellKey, list[EpisodeRecord]] = {}
    for record in records:
        groups.setdefault(cell_key(record), []).append(record)
    cells = [_cell(key, group, reference, resamples, seed) for key, group in groups.items()]
    scored = len(_scored(records))
    return Analysis(
        episodes=len(records), scored=scored, errors=len(records) - scored, resamples=resamples, seed=seed,
        cells=cells, gaps=_gaps(groups, resamples, seed), ordering=_ordering(groups, resamples, seed),
        relay_curves=_relay_curves(cells), agent_errors=_agent_errors(records),
    )
