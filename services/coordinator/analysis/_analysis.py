"""The analysis of a run (DESIGN §3.4): cells, the collaboration gap, ordering effects, relay curves, errors, cost.

Every number comes from `EpisodeRecord`s. n counts the scored episodes the run's policy keeps (`_stats.counted`):
an agent's or the grader's own failure is scored and flagged; a platform error is counted apart (by kind) and
never scored. Scores are the referee's: `weighted` (partial progress, may be negative) and `success`. Intervals
are the paper's mean ± 1.96·SE, a bootstrap over mazes and, for rates, Wilson (see `_stats`, docs/statistics.md).

    analysis = analyze(records)
    gap = analysis.gap("gpt-4.1-mini")           # solo-full minus the homogeneous pair, paired on shared mazes
    print(gap.gap.mean, gap.gap.ci95, gap.shared_mazes)
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from collabgap.protocol import Maze

from .._records import EpisodeRecord, PlayerKind
from ._effects import Gap, OrderingEffect, SoloCondition, gaps, ordering
from ._paper import PAPER_SOURCE, PaperValue, paper_values, published, seat_models
from ._stats import RESAMPLES, SEED, CellKey, Estimate, cell_key, counted, estimate, maze_cluster, rate, scored

PolicyInForce = Literal["score", "exclude", "mixed"]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class Cell(CellKey):
    """One condition, mode, seating and relay (its `CellKey` fields), over its episodes."""

    episodes: int
    """Every episode of the cell, platform errors included."""
    n: int
    """Episodes in the estimates: scored, and not excluded by the agent-error policy."""
    flagged: int
    """Of n, episodes scored although an agent or the grader failed."""
    excluded: int
    """Agent failures left out of n under `agent_errors = "exclude"`."""
    errors: int
    """Platform errors: never scored, never in n."""
    error_kinds: dict[str, int]
    """Platform errors by kind."""
    failure_kinds: dict[str, int]
    """Agent and grader failures (flagged or excluded) by kind."""
    mazes: int
    """Distinct mazes among the n episodes: the clusters of the bootstrap."""
    weighted: Estimate
    success: Estimate
    """Success rate (0 to 1), with its Wilson interval."""
    messages_mean: float | None
    """Messages per episode in n."""
    wall_fraction: float | None
    """Mean realised wall fraction of the cell's mazes (None when no maze was recorded)."""
    optimal_length: float | None
    """Mean optimal path length of the cell's mazes."""
    prompt_tokens: int
    completion_tokens: int
    tokens: int
    """Tokens of every attempt, message and grading, errors included: they were spent."""
    tokens_per_episode: float | None
    cost_usd: float
    """Known cost of every attempt and grading, errors included; unpriced models count 0."""
    cost_usd_per_episode: float | None
    models_a: list[str] = []
    """The models seat A's messages reported (`usage.model`, normalised by `model_id`), sorted."""
    models_b: list[str] = []
    paper_weighted: PaperValue | None = None
    """The paper's value: paper-mode pair cells (no relay) whose seats each reported one model the paper ran."""
    paper_success: PaperValue | None = None
    player_kind_a: PlayerKind = "agent"
    """`human` when a person held seat A (docs/human.md): human baselines are rows of their own."""
    player_kind_b: PlayerKind | None = None
    """Seat B's holder, as `player_kind_a`; None without seat B."""

    @property
    def key(self) -> CellKey:
        """The cell's key alone, to select its episodes (`EpisodeFilter.cell`)."""
        return CellKey.model_validate(self.model_dump(include=set(CellKey.model_fields)))

    @property
    def team_size(self) -> int:
        """How many seats play: 1 alone, 2 in a pair, 3 to 6 in a team."""
        return 1 + (self.seat_b is not None) + len(self.more_seats)

    @property
    def label(self) -> str:
        """`condition seat A [+ seat B] [relay kind K=k]`, for tables (the protocol has its own column); a seat a
        person held says `(human)`."""
        seat_a = f"{self.seat_a} (human)" if self.player_kind_a == "human" else self.seat_a
        seat_b = f"{self.seat_b} (human)" if self.player_kind_b == "human" else self.seat_b
        seats = seat_a if seat_b is None else f"{seat_a} + {seat_b}"
        if self.more_seats:  # a team: `team gpt ×3` when one agent holds every seat
            names = [seat_a, seat_b or "", *self.more_seats]
            seats = f"{seat_a} ×{len(names)}" if len(set(names)) == 1 else " + ".join(names)
        relay = f" {self.relay_kind} K={self.relay_k}" if self.relay_kind else ""
        order = f" order {''.join(self.order)}" if self.order else ""
        return f"{self.condition} {seats}{relay}{order}"


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
    """Failures blamed on one agent (`error.blame`), as a player or as the grader, over the episodes it was in."""

    agent: str
    episodes: int
    errors: int
    """Its failures: scored and flagged, or excluded by the policy."""
    excluded: int
    """Of `errors`, those left out of n."""
    kinds: dict[str, int]
    rate: float | None
    """errors / episodes."""


class Analysis(_Result):
    """Everything the reports show; JSON-serialisable with `model_dump_json`."""

    episodes: int
    scored: int
    """Episodes in n, over all cells."""
    flagged: int
    """Of `scored`, those scored although an agent or the grader failed."""
    excluded: int
    """Agent failures the policy left out of n."""
    errors: int
    """Platform errors: never scored."""
    platform_errors: dict[str, int]
    """Platform errors by kind."""
    agent_error_policy: PolicyInForce
    """The runs' `[errors] agent` policy; `mixed` when the records disagree."""
    resamples: int
    seed: int
    cells: list[Cell]
    gaps: list[Gap]
    ordering: list[OrderingEffect]
    relay_curves: list[RelayCurve]
    agent_errors: list[AgentErrors]
    paper_source: str = PAPER_SOURCE

    @property
    def policy_note(self) -> str:
        """The agent-error policy in force, as the reports print it."""
        return {"score": "agent failures: scored (counted in n)",
                "exclude": "agent failures: excluded (left out of n; grader failures are counted)",
                "mixed": "agent failures: scored in some episodes, excluded in others (the runs' policies differ)",
                }[self.agent_error_policy]

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


@functools.lru_cache(maxsize=4096)
def maze_facts(rows: tuple[str, ...]) -> tuple[float, int | None]:
    """A recorded maze's realised wall fraction and optimal path length."""
    maze = Maze.parse(rows)
    return maze.wall_fraction, maze.optimal_length


def _maze_means(records: Sequence[EpisodeRecord]) -> tuple[float | None, float | None]:
    """Mean wall fraction and optimal path length over the distinct mazes recorded (platform errors may have none)."""
    mazes = {maze_cluster(r): tuple(r.maze) for r in records if r.maze}
    facts = [maze_facts(rows) for _, rows in sorted(mazes.items())]
    lengths = [length for _, length in facts if length is not None]
    return (sum(w for w, _ in facts) / len(facts) if facts else None,
            sum(lengths) / len(lengths) if lengths else None)


def _cell(key: CellKey, records: list[EpisodeRecord], paper: Sequence[PaperValue], resamples: int,
          seed: int) -> Cell:
    included = [r for r in records if counted(r)]
    platform = Counter(r.error.kind if r.error else "internal" for r in records if r.status == "error")
    failures = [r for r in records if r.flagged]
    prompt = sum(r.tokens.prompt for r in records)
    completion = sum(r.tokens.completion for r in records)
    cost = sum(r.cost_usd for r in records)
    wall_fraction, optimal_length = _maze_means(records)
    models = seat_models(records)
    scores, mazes = scored(records)
    spec = records[0].spec  # a cell's episodes share their seats' holders
    return Cell(
        **key.model_dump(), episodes=len(records), n=len(included), flagged=sum(r.flagged for r in included),
        excluded=sum(not counted(r) for r in failures), errors=sum(platform.values()),
        error_kinds=dict(sorted(platform.items())),
        failure_kinds=dict(sorted(Counter(r.error.kind for r in failures if r.error).items())),
        mazes=len({maze_cluster(r) for r in included}),
        weighted=estimate([s.weighted for s in scores], mazes, resamples=resamples, seed=seed),
        success=rate([s.success for s in scores], mazes, resamples=resamples, seed=seed),
        messages_mean=sum(len(r.messages) for r in included) / len(included) if included else None,
        wall_fraction=wall_fraction, optimal_length=optimal_length,
        prompt_tokens=prompt, completion_tokens=completion, tokens=prompt + completion,
        tokens_per_episode=(prompt + completion) / len(records), cost_usd=cost,
        cost_usd_per_episode=cost / len(records), models_a=models.get("A", []), models_b=models.get("B", []),
        paper_weighted=published(key, models, "weighted", paper),
        paper_success=published(key, models, "binary", paper),
        player_kind_a=spec.seat_a.player_kind, player_kind_b=spec.seat_b.player_kind if spec.seat_b else None,
    )


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
    """The agent a failure is blamed on: the name in `agent:<name>`, or the episode's grader."""
    blame = record.error.blame if record.error else "platform"
    if blame == "grader":
        return record.spec.grader.name if record.spec.grader else "grader"
    return blame.removeprefix("agent:")


def _agent_errors(records: Sequence[EpisodeRecord]) -> list[AgentErrors]:
    episodes: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {}
    excluded: Counter[str] = Counter()
    for record in records:
        spec, relay = record.spec, record.spec.relay
        newcomers = (relay.seat_a, relay.seat_b) if relay else ()
        episodes.update({seat.name for seat in (*spec.seats().values(), spec.grader, *newcomers) if seat is not None})
        if record.flagged and record.error is not None:
            agent = _blamed(record)
            kinds.setdefault(agent, Counter())[record.error.kind] += 1
            excluded[agent] += not counted(record)
    rows = []
    for agent in sorted(set(episodes) | set(kinds)):
        counts = kinds.get(agent, Counter())
        total = sum(counts.values())
        rows.append(AgentErrors(agent=agent, episodes=episodes[agent], errors=total, excluded=excluded[agent],
                                kinds=dict(sorted(counts.items())),
                                rate=total / episodes[agent] if episodes[agent] else None))
    return rows


def _policy(records: Sequence[EpisodeRecord]) -> PolicyInForce:
    policies = {r.spec.agent_errors for r in records}
    return "mixed" if len(policies) > 1 else "exclude" if policies == {"exclude"} else "score"


def analyze(records: Iterable[EpisodeRecord], *, resamples: int = RESAMPLES, seed: int = SEED,
            paper: Sequence[PaperValue] | None = None) -> Analysis:
    """Analyse a run's records, taken in episode-id order: nothing in the result depends on storage order.

    Args:
        records: every stored episode, errors included.
        resamples: bootstrap resamples per interval.
        seed: every bootstrap starts a generator from this seed, so results are reproducible.
        paper: published values to set beside matching paper-mode pair cells; None for the paper's own tables.
    """
    records = sorted(records, key=lambda r: (r.spec.episode_id, r.attempt))
    reference = paper_values() if paper is None else paper
    groups: dict[CellKey, list[EpisodeRecord]] = {}
    for record in records:
        groups.setdefault(cell_key(record), []).append(record)
    cells = [_cell(key, group, reference, resamples, seed) for key, group in groups.items()]
    platform = Counter(r.error.kind if r.error else "internal" for r in records if r.status == "error")
    return Analysis(
        episodes=len(records), scored=sum(c.n for c in cells), flagged=sum(c.flagged for c in cells),
        excluded=sum(c.excluded for c in cells), errors=sum(platform.values()),
        platform_errors=dict(sorted(platform.items())), agent_error_policy=_policy(records),
        resamples=resamples, seed=seed, cells=cells, gaps=gaps(groups, resamples, seed),
        ordering=ordering(groups, resamples, seed), relay_curves=_relay_curves(cells),
        agent_errors=_agent_errors(records),
    )
