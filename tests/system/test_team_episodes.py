"""Teams of three and four played by the coordinator over the real stack (issue 14, part 2): seats speak
round-robin (or in the spec's order), each message reaches every other seat labelled with its author, every seat
votes with its own token, and paper-mode teams are graded from the whole dialogue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collabgap.protocol import SEATS, MazeParams, expand_calls
from collabgap.services.coordinator import (
    EpisodeRecord,
    EpisodeSpec,
    ExplicitMaze,
    RelaySpec,
    SeatSpec,
    ServiceGroup,
    run_episodes,
)
from tests.conftest import Stack

from .conftest import LLMStack

MAZE_6 = ExplicitMaze(rows=["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"])
"""The paper's 6x6 maze; the referee splits it one view per seat."""


@pytest.fixture(scope="module")
def scripted_grader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeatSpec]:
    with ServiceGroup(log_dir=tmp_path_factory.mktemp("grader-logs")) as services:
        yield SeatSpec(name="grader", url=services.start_agent("scripted:grader"))


async def play_team(stack: Stack, holder: SeatSpec, seats: int, **options: object) -> EpisodeRecord:
    spec = EpisodeSpec(episode_id="team", condition="team", seat_a=holder, seat_b=holder,
                       more_seats=[holder] * (seats - 2), maze=options.pop("maze", MAZE_6), **options)
    [record] = await run_episodes([spec], stack.referee_url, stack.token, turn_timeout_s=10)
    return record


def round_robin(record: EpisodeRecord, seats: int) -> list[str]:
    return [SEATS[index % seats] for index in range(len(record.messages))]


@pytest.mark.parametrize("seats", [3, 4])
async def test_scripted_cartographers_solve_a_team_game_in_referee_mode(stack: Stack, seats: int) -> None:
    """Each seat shares its map in turn, then all of them vote every move: the optimal route, no conflict."""
    record = await play_team(stack, stack.cartographer, seats)
    assert record.status == "solved" and record.error is None and record.score is not None
    assert (record.score.weighted, record.score.moves, record.score.conflicts) == (1.0, 10, 0)
    assert [m.seat for m in record.messages] == round_robin(record, seats)
    assert {vote.seat for vote in record.votes} == set(SEATS[:seats]) and len(record.views) == seats
    assert record.spec.condition == "team" and len(record.spec.seats()) == seats


@pytest.mark.parametrize("seats", [3, 4])
async def test_scripted_cartographers_agree_a_route_in_paper_mode(stack: Stack, scripted_grader: SeatSpec,
                                                                  seats: int) -> None:
    """No referee votes: the grader reads the whole team's dialogue (`[agent_3]: …`) and the route scores."""
    record = await play_team(stack, stack.cartographer, seats, mode="paper", grader=scripted_grader)
    assert record.votes == [] and record.grading is not None and record.grading.error is None
    assert record.score is not None and record.score.weighted == 1.0 and record.status == "solved"
    assert [m.seat for m in record.messages] == round_robin(record, seats)


async def test_the_message_cap_counts_every_seat_and_the_order_is_the_specs(stack: Stack) -> None:
    record = await play_team(stack, stack.cartographer, 3, order=["C", "A", "B"], message_limit=5,
                             maze=MazeParams(size=6, seed=3))
    assert [m.seat for m in record.messages] == ["C", "A", "B", "C", "A"]
    assert (record.status, record.end_reason) == ("ended", "message_limit")


@pytest.mark.parametrize("seats", [3, 4])
async def test_fake_vendor_players_solve_a_team_game_in_referee_mode(stack: Stack, llm: LLMStack, seats: int) -> None:
    """The models see each other seat's messages under its label, `[agent 2]: …`, and the team the task names."""
    record = await play_team(stack, llm.openai_cartographer, seats)
    assert record.status == "solved" and record.score is not None and record.score.weighted == 1.0
    assert {vote.seat for vote in record.votes} == set(SEATS[:seats])
    last = record.messages[-1]
    request = expand_calls([call for m in record.messages if m.seat == last.seat for call in m.model_input])[-1]
    seen = "\n".join(message.content for message in request)
    others = [f"[agent {n}]:" for n in range(1, seats + 1) if SEATS[n - 1] != last.seat]
    assert all(label in seen for label in others) and f"team of {('three', 'four')[seats - 3]} agents" in seen


@pytest.mark.parametrize("seats", [3, 4])
async def test_fake_vendor_players_are_graded_in_paper_mode(stack: Stack, llm: LLMStack, seats: int) -> None:
    record = await play_team(stack, llm.anthropic_cartographer, seats, mode="paper", grader=llm.grader)
    assert record.votes == [] and record.grading is not None and record.grading.error is None
    assert record.score is not None and record.score.weighted == 1.0
    assert f"[agent_{seats}]:" in record.grading.model_input[0].messages[-1].content
    first = expand_calls(record.messages[0].model_input)[0]  # seat A's first request: the system message explains
    assert first[0].role == "system" and 'e.g. "[agent 1]:"' in first[0].content  # the labels (Fig. A.1, team)
    assert first[1].role == "user" and first[1].content.startswith("[user]: ")


async def test_a_relay_hands_over_one_seat_of_a_team(stack: Stack) -> None:
    """After K messages the newcomer takes its seat, with the history; the other seats keep their players."""
    relay = RelaySpec(kind="recovery", after_messages=3, seat_a=stack.cartographer)
    record = await play_team(stack, stack.follower, 3, relay=relay, message_limit=9)
    assert [(m.seat, m.player) for m in record.messages[:6]] == [
        ("A", "follower"), ("B", "follower"), ("C", "follower"),
        ("A", "cartographer"), ("B", "follower"), ("C", "follower")]
    assert record.error is None and record.status != "error"
