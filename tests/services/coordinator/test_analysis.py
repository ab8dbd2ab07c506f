"""The analysis of a run (DESIGN.md §3.4), checked against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from protocol import Condition, MazeParams, Usage
from services.coordinator import (
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    MessageRecord,
    RelaySpec,
    Score,
    SeatSpec,
    summarize,
)
from services.coordinator._analysis import Analysis, analyze
from services.coordinator._errors import ErrorKind

ALPHA = SeatSpec(name="alpha", url="http://127.0.0.1:9001")
BETA = SeatSpec(name="beta", url="http://127.0.0.1:9002")


def record(condition: Condition, seat_a: SeatSpec, seat_b: SeatSpec | None, maze: int, weighted: float, *,
           success: bool | None = None, relay: RelaySpec | None = None, error: ErrorKind | None = None,
           messages: list[MessageRecord] | None = None) -> EpisodeRecord:
    """One finished episode on maze `maze` (or an error, never scored, when `error` names its kind)."""
    names = seat_a.name if seat_b is None else f"{seat_a.name}+{seat_b.name}"
    relay_id = f"/{relay.kind}-{relay.after_messages}" if relay else ""
    spec = EpisodeSpec(episode_id=f"{condition}/{names}{relay_id}/m{maze}", condition=condition,
                       seat_a=seat_a, seat_b=seat_b, maze=MazeParams(size=6, seed=maze), relay=relay)
    if error is not None:
        return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="error", end_reason="error",
                             error=EpisodeError(kind=error, seat="B", message="no reply"),
                             messages=messages or [])
    solved = weighted == 1.0 if success is None else success
    return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="solved" if solved else "failed",
                         end_reason="goal" if solved else "wall", messages=messages or [],
                         score=Score(weighted=weighted, success=solved, moves=7, conflicts=0, optimal_length=7))


def priced_messages() -> list[MessageRecord]:
    """Two messages of 10 prompt and 5 completion tokens, costing $0.001 each."""
    return [MessageRecord(index=i, seat="A", text="MOVE: right", latency_s=0.1, cost_usd=0.001,
                          usage=Usage(model="m", prompt_tokens=10, completion_tokens=5)) for i in range(2)]


def primer(k: int) -> RelaySpec:
    return RelaySpec(kind="primer", after_messages=k, seat_a=BETA)


@pytest.fixture(scope="module")
def records() -> list[EpisodeRecord]:
    """Two players over four mazes: solo, both pairs in both orders, an error, and a primer relay at K = 2, 4."""
    return [
        *(record("solo-full", ALPHA, None, m, w, messages=priced_messages()) for m, w in enumerate([1, 1, .5, 1])),
        *(record("solo-split", ALPHA, None, m, w) for m, w in enumerate([.5, .5, .5, .5])),
        *(record("pair", ALPHA, ALPHA, m, w) for m, w in enumerate([.5, .25, .5, .75])),
        *(record("pair", ALPHA, BETA, m, w) for m, w in enumerate([1, 1, 1, 1])),
        record("pair", ALPHA, BETA, 0, 0.0, error="agent_timeout"),
        *(record("pair", BETA, ALPHA, m, w) for m, w in enumerate([0, .5, .5, 1])),
        *(record("pair", ALPHA, BETA, m, w, relay=primer(2)) for m, w in enumerate([.2, .4])),
        *(record("pair", ALPHA, BETA, m, w, relay=primer(4)) for m, w in enumerate([.6, .8])),
    ]


@pytest.fixture(scope="module")
def analysis(records: list[EpisodeRecord]) -> Analysis:
    return analyze(records)


def test_cell_mean_and_paper_interval_are_mean_plus_minus_1_96_standard_errors(analysis: Analysis) -> None:
    """Weighted scores 1, 1, .5, 1: mean .875, s = .25, SE = .125, half-width 1.96 · .125 (DESIGN.md §3.4)."""
    cell = analysis.cell("solo-full", "alpha")
    assert cell is not None and cell.n == 4 and cell.mazes == 4
    assert cell.weighted.mean == pytest.approx(0.875)
    assert cell.weighted.se == pytest.approx(0.125)
    assert cell.weighted.ci95 == pytest.approx(0.245)
    assert cell.success.mean == pytest.approx(0.75)
    assert cell.success.ci95 == pytest.approx(1.96 * 0.5 / 2)


def test_errors_are_counted_by_kind_and_never_scored(analysis: Analysis) -> None:
    """A timed-out episode adds to `errors`, not to `n`, and leaves the mean alone (DESIGN.md §3.4)."""
    cell = analysis.cell("pair", "alpha", "beta")
    assert cell is not None
    assert (cell.episodes, cell.n, cell.errors, cell.error_kinds) == (5, 4, 1, {"agent_timeout": 1})
    assert cell.weighted.mean == 1.0
    assert (analysis.episodes, analysis.errors) == (25, 1)
    blamed = {row.agent: row for row in analysis.agent_errors}
    assert blamed["beta"].errors == 1 and blamed["beta"].kinds == {"agent_timeout": 1}
    assert blamed["alpha"].errors == 0


def test_tokens_and_cost_are_summed_per_cell_and_per_episode(analysis: Analysis) -> None:
    """Four episodes of two priced messages: 120 tokens and $0.008, so 30 tokens and $0.002 an episode."""
    cell = analysis.cell("solo-full", "alpha")
    assert cell is not None
    assert (cell.prompt_tokens, cell.completion_tokens, cell.tokens) == (80, 40, 120)
    assert cell.tokens_per_episode == 30 and cell.messages_mean == 2
    assert cell.cost_usd == pytest.approx(0.008) and cell.cost_usd_per_episode == pytest.approx(0.002)


def test_collaboration_gap_is_solo_minus_homogeneous_pair(analysis: Analysis) -> None:
    """alpha alone .875, alpha with alpha .5: a gap of .375, SE √(.125² + se_pair²) (DESIGN.md §3.4)."""
    gap = analysis.gap("alpha")
    assert gap is not None and gap.shared_mazes == 4
    assert gap.gap.mean == pytest.approx(0.375)
    pair_se = math.sqrt(0.125 / 3) / 2
    assert gap.pair.se == pytest.approx(pair_se)
    assert gap.gap.ci95 == pytest.approx(1.96 * math.hypot(0.125, pair_se))
    assert gap.gap.boot_low is not None and gap.gap.boot_high is not None
    assert gap.gap.boot_low <= 0.375 <= gap.gap.boot_high
    split = analysis.gap("alpha", "solo-split")
    assert split is not None and split.gap.mean == pytest.approx(0.0)
    assert analysis.gap("beta") is None, "beta has neither a solo cell nor a homogeneous pair"


def test_ordering_effect_is_x_opening_minus_y_opening(analysis: Analysis) -> None:
    """alpha opens: 1.0; beta opens: .5; the effect is +.5 with SE that of beta's cell alone."""
    [effect] = analysis.ordering
    assert (effect.player_x, effect.player_y) == ("alpha", "beta")
    assert effect.effect.mean == pytest.approx(0.5)
    assert effect.effect.ci95 == pytest.approx(1.96 * math.sqrt(0.5 / 3) / 2)


def test_relay_curve_has_one_point_per_k(analysis: Analysis) -> None:
    """Primer alpha→beta with beta: K = 2 scores .3 ± 1.96·.1, K = 4 scores .7 ± 1.96·.1."""
    [curve] = analysis.relay_curves
    assert (curve.kind, curve.seat_a, curve.seat_b, curve.relay_seat_a) == ("primer", "alpha", "beta", "beta")
    assert [(p.k, p.n) for p in curve.points] == [(2, 2), (4, 2)]
    assert [p.weighted.mean for p in curve.points] == pytest.approx([0.3, 0.7])
    assert [p.weighted.ci95 for p in curve.points] == pytest.approx([0.196, 0.196])
    assert analysis.cell("pair", "alpha", "beta", relay_kind="primer", relay_k=4) is not None
    assert len(analysis.ordering) == 1, "relay cells are not part of the ordering effect"


def test_bootstrap_intervals_contain_the_mean_and_repeat_exactly(records: list[EpisodeRecord],
                                                                  analysis: Analysis) -> None:
    """The maze bootstrap starts from a fixed seed: the same records give the same intervals."""
    for cell in analysis.cells:
        low, high, mean = cell.weighted.boot_low, cell.weighted.boot_high, cell.weighted.mean
        assert low is not None and high is not None and mean is not None
        assert low <= mean <= high
    assert analyze(records).model_dump() == analysis.model_dump()
    assert analyze(list(reversed(records))).gap("alpha") == analysis.gap("alpha")


def test_bootstrap_resamples_mazes_not_episodes() -> None:
    """Repetitions of one maze are one cluster: with a single maze there is nothing to resample."""
    one_maze = [record("solo-full", ALPHA, None, 0, w) for w in (0.0, 1.0, 0.5)]
    cell = analyze(one_maze).cell("solo-full", "alpha")
    assert cell is not None and cell.n == 3 and cell.mazes == 1
    assert cell.weighted.ci95 is not None and cell.weighted.boot_low is None


def test_analysis_round_trips_through_json(analysis: Analysis) -> None:
    assert Analysis.model_validate_json(analysis.model_dump_json()) == analysis


def test_paper_values_sit_beside_cells_named_like_the_paper_models() -> None:
    """Seat names match the paper's models case-blind and without a vendor prefix; the opener is `first`."""
    mini, full = SeatSpec(name="openai/gpt-4.1-mini", url="http://a"), SeatSpec(name="gpt-4.1", url="http://b")
    analysis = analyze([record("pair", full, mini, m, 0.5) for m in range(3)]
                       + [record("pair", mini, mini, m, 0.5) for m in range(3)])
    cell = analysis.cell("pair", "gpt-4.1", "openai/gpt-4.1-mini")
    assert cell is not None and cell.paper_weighted is not None and cell.paper_success is not None
    assert (cell.paper_weighted.mean, cell.paper_weighted.ci95) == (0.5, 0.04)
    assert cell.paper_weighted.source == "App. Table 2(a)"


def test_summarize_keeps_relay_cells_apart_from_plain_pairs(records: list[EpisodeRecord]) -> None:
    """The short summary the demo prints uses the same cells as the analysis."""
    plain = [c for c in summarize(records) if (c.condition, c.seat_a, c.seat_b) == ("pair", "alpha", "beta")]
    assert [(c.relay_kind, c.relay_k, c.n) for c in plain] == [(None, None, 4), ("primer", 2, 2), ("primer", 4, 2)]
