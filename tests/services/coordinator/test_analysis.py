"""The analysis of a run (DESIGN.md §3.4, docs/statistics.md), checked against numbers worked out by hand."""

from __future__ import annotations

import math
import random

import pytest

from collabgap.protocol import Condition, MazeParams, Mode, Seat, Usage
from collabgap.services.coordinator import (
    AttemptRecord,
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    MessageRecord,
    RelaySpec,
    Score,
    SeatSpec,
)
from collabgap.services.coordinator._errors import ErrorKind
from collabgap.services.coordinator._records import AgentErrorPolicy
from collabgap.services.coordinator.analysis._analysis import Analysis, analyze
from collabgap.services.coordinator.analysis._paper import model_id
from collabgap.services.coordinator.analysis._stats import cluster_bootstrap, wilson

ALPHA = SeatSpec(name="alpha", url="http://127.0.0.1:9001")
BETA = SeatSpec(name="beta", url="http://127.0.0.1:9002")
GRADER = SeatSpec(name="judge", url="http://127.0.0.1:9003")
MAZE = ["@.#", "..#", "#.*"]
"""Three walls among the seven cells besides start and goal; a shortest route of 4 moves."""


def record(condition: Condition, seat_a: SeatSpec, seat_b: SeatSpec | None, maze: int, weighted: float, *,
           success: bool | None = None, relay: RelaySpec | None = None, mode: Mode = "referee",
           platform_error: ErrorKind | None = None, failure: EpisodeError | None = None,
           policy: AgentErrorPolicy = "score", repetition: int = 0,
           messages: list[MessageRecord] | None = None) -> EpisodeRecord:
    """One finished episode on maze `maze`: scored (and flagged, given a `failure`), or a platform error."""
    names = seat_a.name if seat_b is None else f"{seat_a.name}+{seat_b.name}"
    relay_id = f"/{relay.kind}-{relay.after_messages}" if relay else ""
    spec = EpisodeSpec(episode_id=f"{condition}/{names}{relay_id}/m{maze}/r{repetition}", condition=condition,
                       seat_a=seat_a, seat_b=seat_b, maze=MazeParams(size=6, seed=maze), relay=relay, mode=mode,
                       grader=GRADER if mode == "paper" else None, agent_errors=policy, repetition=repetition)
    if platform_error is not None:
        return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="error", end_reason="error",
                             error=EpisodeError(kind=platform_error, seat=None, message="the referee failed"),
                             messages=messages or [])
    solved = weighted == 1.0 if success is None else success
    return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="solved" if solved else "failed",
                         end_reason="agent_failure" if failure else "goal" if solved else "wall", error=failure,
                         messages=messages or [],
                         score=Score(weighted=weighted, success=solved, moves=7, conflicts=0, optimal_length=7))


def timeout_of(seat: SeatSpec) -> EpisodeError:
    return EpisodeError(kind="agent_timeout", seat="B", message="no reply in time", blame=f"agent:{seat.name}")


def priced_messages() -> list[MessageRecord]:
    """Two messages of 10 prompt and 5 completion tokens, costing $0.001 each."""
    return [MessageRecord(index=i, seat="A", text="MOVE: right", latency_s=0.1, cost_usd=0.001,
                          usage=Usage(model="m", prompt_tokens=10, completion_tokens=5)) for i in range(2)]


def said_by(models: dict[Seat, str]) -> list[MessageRecord]:
    """One message per seat, each reporting the model its vendor answered with."""
    return [MessageRecord(index=i, seat=seat, player=f"p{seat}", text="hello", latency_s=0.1,
                          usage=Usage(model=model)) for i, (seat, model) in enumerate(models.items())]


def primer(k: int) -> RelaySpec:
    return RelaySpec(kind="primer", after_messages=k, seat_a=BETA)


@pytest.fixture(scope="module")
def records() -> list[EpisodeRecord]:
    """Two players over four mazes: solo, both pairs in both orders, a platform error, a primer relay at K = 2, 4."""
    return [
        *(record("solo-full", ALPHA, None, m, w, messages=priced_messages()) for m, w in enumerate([1, 1, .5, 1])),
        *(record("solo-split", ALPHA, None, m, w) for m, w in enumerate([.5, .5, .5, .5])),
        *(record("pair", ALPHA, ALPHA, m, w) for m, w in enumerate([.5, .25, .5, .75])),
        *(record("pair", ALPHA, BETA, m, w) for m, w in enumerate([1, 1, 1, 1])),
        record("pair", ALPHA, BETA, 0, 0.0, platform_error="referee_error", repetition=1),
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


def test_platform_errors_are_counted_apart_never_scored_and_blamed_on_no_agent(analysis: Analysis) -> None:
    """A referee failure adds to `errors`, not to `n`, leaves the mean alone, and is no player's failure."""
    cell = analysis.cell("pair", "alpha", "beta")
    assert cell is not None
    assert (cell.episodes, cell.n, cell.flagged, cell.errors, cell.error_kinds) == (5, 4, 0, 1, {"referee_error": 1})
    assert cell.weighted.mean == 1.0
    assert (analysis.episodes, analysis.scored, analysis.errors) == (25, 24, 1)
    assert analysis.platform_errors == {"referee_error": 1}
    assert all(row.errors == 0 for row in analysis.agent_errors)
    assert "platform" not in {row.agent for row in analysis.agent_errors}


def agent_failure_run(policy: AgentErrorPolicy) -> list[EpisodeRecord]:
    """alpha + beta solves three mazes; on a fourth beta times out and the game scores 0. A paper-mode game whose
    grader answered garbage scores 0 too."""
    garbage = EpisodeError(kind="grader_error", seat="grader", message="no route in the answer", blame="grader")
    return [*(record("pair", ALPHA, BETA, m, 1.0, policy=policy) for m in range(3)),
            record("pair", ALPHA, BETA, 3, 0.0, failure=timeout_of(BETA), policy=policy),
            *(record("pair", ALPHA, BETA, m, 1.0, mode="paper", policy=policy) for m in range(3)),
            record("pair", ALPHA, BETA, 3, 0.0, mode="paper", failure=garbage, policy=policy)]


def test_an_agent_failure_is_scored_flagged_and_counted_in_n_by_default() -> None:
    """As the paper did: beta's timeout counts as a failure of the pair (mean 3/4), flagged and charged to beta."""
    analysis = analyze(agent_failure_run("score"))
    cell = analysis.cell("pair", "alpha", "beta")
    assert cell is not None
    assert (cell.n, cell.flagged, cell.excluded, cell.errors) == (4, 1, 0, 0)
    assert cell.failure_kinds == {"agent_timeout": 1}
    assert cell.weighted.mean == pytest.approx(0.75)
    blamed = {row.agent: row for row in analysis.agent_errors}
    assert (blamed["beta"].errors, blamed["beta"].kinds, blamed["beta"].rate) == (1, {"agent_timeout": 1}, 1 / 8)
    assert blamed["alpha"].errors == 0
    assert blamed["judge"].kinds == {"grader_error": 1}
    assert analysis.policy_note == "agent failures: scored (counted in n)"


def test_the_exclude_policy_leaves_agent_failures_out_of_n_but_counts_grader_failures() -> None:
    analysis = analyze(agent_failure_run("exclude"))
    referee = analysis.cell("pair", "alpha", "beta")
    paper = analysis.cell("pair", "alpha", "beta", mode="paper")
    assert referee is not None and paper is not None
    assert (referee.n, referee.flagged, referee.excluded, referee.weighted.mean) == (3, 0, 1, 1.0)
    assert (paper.n, paper.flagged, paper.excluded, paper.weighted.mean) == (4, 1, 0, 0.75)
    assert {row.agent: row.excluded for row in analysis.agent_errors}["beta"] == 1
    assert analysis.policy_note.startswith("agent failures: excluded")


def test_tokens_and_cost_are_summed_per_cell_and_per_episode(analysis: Analysis) -> None:
    """Four episodes of two priced messages: 120 tokens and $0.008, so 30 tokens and $0.002 an episode."""
    cell = analysis.cell("solo-full", "alpha")
    assert cell is not None
    assert (cell.prompt_tokens, cell.completion_tokens, cell.tokens) == (80, 40, 120)
    assert cell.tokens_per_episode == 30 and cell.messages_mean == 2
    assert cell.cost_usd == pytest.approx(0.008) and cell.cost_usd_per_episode == pytest.approx(0.002)


def test_tokens_and_cost_include_earlier_attempts() -> None:
    """An attempt ended by a platform error and replayed still spent its tokens and dollars."""
    replayed = record("solo-full", ALPHA, None, 0, 1.0, messages=priced_messages())
    earlier = AttemptRecord(attempt=1, error=EpisodeError(kind="referee_error", seat=None, message="down"),
                            messages=priced_messages())
    cell = analyze([replayed.model_copy(update={"attempt": 2, "attempts": [earlier]})]).cells[0]
    assert cell.tokens == 60 and cell.cost_usd == pytest.approx(0.004)


def test_collaboration_gap_is_solo_minus_homogeneous_pair_paired_on_mazes(analysis: Analysis) -> None:
    """alpha alone .875, alpha with alpha .5. Per-maze differences .5, .75, 0, .25: gap .375, SE s_d/√4."""
    gap = analysis.gap("alpha")
    assert gap is not None and gap.shared_mazes == 4
    assert gap.gap.mean == pytest.approx(0.375)
    assert gap.pair.se == pytest.approx(math.sqrt(0.125 / 3) / 2)
    assert gap.gap.se == pytest.approx(math.sqrt(0.3125 / 3) / 2)
    assert gap.gap.ci95 == pytest.approx(1.96 * math.sqrt(0.3125 / 3) / 2)
    assert gap.gap.boot_low is not None and gap.gap.boot_high is not None
    assert 0.0 <= gap.gap.boot_low <= 0.375 <= gap.gap.boot_high <= 0.75
    split = analysis.gap("alpha", "solo-split")
    assert split is not None and split.gap.mean == pytest.approx(0.0)
    assert analysis.gap("beta") is None, "beta has neither a solo cell nor a homogeneous pair"


def test_a_paired_difference_is_the_mean_of_per_maze_differences_on_shared_mazes_only() -> None:
    """Solo played mazes 0-3 (maze 1 twice), the pair mazes 1-4: the gap uses mazes 1-3, for its mean and its
    intervals alike, so what solo scored on maze 0 changes nothing."""
    def run(maze_0: float) -> Analysis:
        return analyze([record("solo-full", ALPHA, None, 0, maze_0),
                        record("solo-full", ALPHA, None, 1, 1.0), record("solo-full", ALPHA, None, 1, 0.5,
                                                                         repetition=1),
                        record("solo-full", ALPHA, None, 2, 1.0), record("solo-full", ALPHA, None, 3, 0.5),
                        *(record("pair", ALPHA, ALPHA, m, w) for m, w in zip(range(1, 5), [.25, .5, .5, 0],
                                                                             strict=True))])
    differences = [0.75 - 0.25, 1.0 - 0.5, 0.5 - 0.5]
    low, high = run(0.0).gap("alpha"), run(1.0).gap("alpha")
    assert low is not None and high is not None
    assert low.shared_mazes == 3
    assert low.gap.mean == pytest.approx(sum(differences) / 3)
    mean = sum(differences) / 3
    assert low.gap.se == pytest.approx(math.sqrt(sum((d - mean) ** 2 for d in differences) / 2 / 3))
    assert low.gap == high.gap, "the unshared maze 0 is in neither the estimate nor the bootstrap"
    assert low.solo != high.solo, "the solo cell's own estimate does include it"


def test_ordering_effect_is_x_opening_minus_y_opening(analysis: Analysis) -> None:
    """alpha opens: 1, 1, 1, 1; beta opens: 0, .5, .5, 1. Differences 1, .5, .5, 0: effect .5, SE √(1/6)/2."""
    [effect] = analysis.ordering
    assert (effect.player_x, effect.player_y, effect.shared_mazes) == ("alpha", "beta", 4)
    assert effect.effect.mean == pytest.approx(0.5)
    assert effect.effect.ci95 == pytest.approx(1.96 * math.sqrt(1 / 6) / 2)


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


def test_intervals_do_not_depend_on_the_order_records_were_stored_in() -> None:
    """Three repetitions on each of six mazes, shuffled: every interval is identical, to the last bit."""
    rng = random.Random(7)
    stored = [record(condition, ALPHA, ALPHA if condition == "pair" else None, m, round(rng.random(), 3),
                     repetition=r)
              for condition in ("solo-full", "pair") for m in range(6) for r in range(3)]
    shuffled = stored[:]
    random.Random(11).shuffle(shuffled)
    assert shuffled != stored
    first, second = analyze(stored, resamples=500), analyze(shuffled, resamples=500)
    assert first.model_dump() == second.model_dump()
    values, mazes = [r.score.weighted for r in shuffled if r.score], [r.maze_id or "" for r in shuffled]
    assert cluster_bootstrap(values, mazes) == cluster_bootstrap(values[::-1], mazes[::-1])
    gap = first.gap("alpha")
    assert gap is not None and gap.gap.boot_low is not None


def test_bootstrap_resamples_mazes_not_episodes() -> None:
    """Repetitions of one maze are one cluster: with a single maze there is nothing to resample."""
    one_maze = [record("solo-full", ALPHA, None, 0, w, repetition=r) for r, w in enumerate((0.0, 1.0, 0.5))]
    cell = analyze(one_maze).cell("solo-full", "alpha")
    assert cell is not None and cell.n == 3 and cell.mazes == 1
    assert cell.weighted.ci95 is not None and cell.weighted.boot_low is None


def test_success_rates_get_a_wilson_interval_that_never_collapses() -> None:
    """0/20 and 20/20: the normal interval is ±0, Wilson's is [0, 16.1%] and [83.9%, 100%]."""
    failed = analyze([record("solo-full", ALPHA, None, m, 0.0) for m in range(20)]).cells[0].success
    solved = analyze([record("solo-full", ALPHA, None, m, 1.0) for m in range(20)]).cells[0].success
    assert (failed.mean, failed.ci95, solved.mean, solved.ci95) == (0.0, 0.0, 1.0, 0.0)
    assert failed.wilson_low == 0.0 and failed.wilson_high == pytest.approx(1.96 ** 2 / (20 + 1.96 ** 2))
    assert solved.wilson_high == 1.0 and solved.wilson_low == pytest.approx(20 / (20 + 1.96 ** 2))
    assert wilson(10, 20) == pytest.approx((0.2993, 0.7007), abs=1e-4)
    assert analyze([record("solo-full", ALPHA, None, 0, 0.5)]).cells[0].weighted.wilson_low is None


def test_analysis_round_trips_through_json(analysis: Analysis) -> None:
    assert Analysis.model_validate_json(analysis.model_dump_json()) == analysis


def test_model_ids_lose_vendor_prefix_case_and_date() -> None:
    assert [model_id(m) for m in ("gpt-4.1-2025-04-14", "openai/GPT-4.1-mini", "models/gemini-2.5-pro",
                                  "claude-sonnet-4-20250514", "gpt-5")] == [
        "gpt-4.1", "gpt-4.1-mini", "gemini-2.5-pro", "claude-sonnet-4", "gpt-5"]


def test_paper_values_sit_beside_paper_mode_cells_whose_seats_report_the_papers_models() -> None:
    """Players named anything: what counts is the model each seat's vendor answered with. Seat A opens (`first`)."""
    north, south = SeatSpec(name="north", url="http://a"), SeatSpec(name="south", url="http://b")
    used = said_by({"A": "gpt-4.1-2025-04-14", "B": "openai/gpt-4.1-mini"})
    analysis = analyze([*(record("pair", north, south, m, 0.5, mode="paper", messages=used) for m in range(3)),
                        *(record("pair", north, south, m, 0.5, messages=used) for m in range(3))])
    paper = analysis.cell("pair", "north", "south", mode="paper")
    assert paper is not None and paper.paper_weighted is not None and paper.paper_success is not None
    assert (paper.models_a, paper.models_b) == (["gpt-4.1"], ["gpt-4.1-mini"])
    assert (paper.paper_weighted.mean, paper.paper_weighted.ci95) == (0.5, 0.04)
    assert paper.paper_weighted.source == "App. Table 2(a)"
    referee = analysis.cell("pair", "north", "south")
    assert referee is not None and referee.paper_weighted is None and referee.paper_success is None


def test_no_paper_value_for_agents_named_like_the_papers_models_or_seats_of_several_models() -> None:
    named = SeatSpec(name="gpt-4.1", url="http://a"), SeatSpec(name="gpt-4.1-mini", url="http://b")
    mixed = said_by({"A": "gpt-4.1", "B": "gpt-4.1-mini"}) + said_by({"A": "gpt-4.1-mini"})
    analysis = analyze([record("pair", *named, 0, 0.5, mode="paper"),
                        record("pair", *named, 0, 0.5, mode="paper", messages=mixed, repetition=1)])
    [cell] = analysis.cells
    assert cell.models_a == ["gpt-4.1", "gpt-4.1-mini"]
    assert cell.paper_weighted is None and cell.paper_success is None


def test_cells_give_the_realised_wall_fraction_and_optimal_path_length_of_their_mazes() -> None:
    """A platform error that never got a maze is skipped."""
    played = record("solo-full", ALPHA, None, 0, 1.0).model_copy(update={"maze": MAZE})
    lost = record("solo-full", ALPHA, None, 1, 0.0, platform_error="referee_error")
    cell = analyze([played, lost]).cells[0]
    assert cell.wall_fraction == pytest.approx(3 / 7) and cell.optimal_length == 4


def test_relay_cells_stay_apart_from_plain_pairs(analysis: Analysis) -> None:
    """The demo and the assessor show these same cells."""
    plain = [c for c in analysis.cells if (c.condition, c.seat_a, c.seat_b) == ("pair", "alpha", "beta")]
    assert sorted((c.relay_k or 0, c.relay_kind, c.n) for c in plain) == [(0, None, 4), (2, "primer", 2),
                                                                           (4, "primer", 2)]
