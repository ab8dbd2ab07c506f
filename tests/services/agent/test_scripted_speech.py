"""The scripted players' speech in a team: who a seat hears, the team size a task states, the votes of every
seat replayed by the rules and the offline grader's answer (issue 14, part 6)."""

from __future__ import annotations

import pytest
import yaml

from collabgap.protocol import Direction, HistoryEntry, render_map
from collabgap.services.agent.scripted import (
    Knowledge,
    Style,
    cartographer_says,
    follower_says,
    grade_transcript,
    relayed,
)

VIEW_6 = ("@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*")
TEAM_TASK = (f"You are one of three agents solving a 6x6 maze as a team.\nYour map:\n{render_map(VIEW_6)}\n"
             "Vote with a line `MOVE: <direction>`.")


def test_a_seat_hears_authored_messages_first_and_labelled_text_otherwise() -> None:
    messages = [HistoryEntry(seat="B", text="one"), HistoryEntry(seat="C", text="two")]
    assert relayed("ignored", messages, "A") == [("B", "one"), ("C", "two")]
    assert relayed("[agent 2]: one\n[agent 1]: mine", seat="A") == [("B", "one"), ("self", "mine")]
    assert relayed("a pair's message, unlabelled") == [("partner", "a pair's message, unlabelled")]
    assert relayed(None) == []


@pytest.mark.parametrize(
    ("task", "seats"),
    [
        pytest.param("Solve it together with another agent.", 2, id="pair"),
        pytest.param("Solve it with a partner agent.", 2, id="partner"),
        pytest.param("You are one of four agents.", 4, id="one-of-four"),
        pytest.param("You play in a team of 5.", 5, id="team-of-digit"),
        pytest.param("You and two other agents share the maze.", 3, id="n-others"),
        pytest.param("You are solving this maze on your own.", 1, id="alone"),
    ],
)
def test_a_task_prompt_states_the_team_size(task: str, seats: int) -> None:
    knowledge = Knowledge.from_transcript(f"{task}\n{render_map(VIEW_6)}", [])
    assert knowledge.seats == seats and knowledge.solo == (seats == 1)


def test_a_team_task_without_a_number_counts_the_authors_it_heard() -> None:
    dialogue = [("B", "hello"), ("C", "hi"), ("D", "hey")]
    assert Knowledge.from_transcript(f"Talk to the other agents.\n{render_map(VIEW_6)}", dialogue).seats == 4


def test_a_team_move_is_made_only_when_every_seat_voted_for_it() -> None:
    """The referee's rule, replayed from text: every seat's latest vote must name the move (issue 14)."""
    knowledge = Knowledge.from_transcript(TEAM_TASK, [("B", "MOVE: down"), ("C", "MOVE: right"),
                                                      ("self", "MOVE: down")])
    assert knowledge.position == (0, 0)
    assert knowledge.pending == {"B": Direction.DOWN, "C": Direction.RIGHT, "self": Direction.DOWN}
    assert knowledge.executes(Direction.DOWN, "C") and not knowledge.executes(Direction.DOWN)
    knowledge = Knowledge.from_transcript(TEAM_TASK, [("B", "MOVE: down"), ("C", "MOVE: right"),
                                                      ("self", "MOVE: down"), ("C", "MOVE: down")])
    assert knowledge.position == (1, 0) and knowledge.pending == {}


def test_in_a_pair_every_other_voice_is_the_partner() -> None:
    """A pair's votes count the same whether the partner's messages come labelled or not."""
    knowledge = Knowledge.from_transcript(f"Play with another agent.\n{render_map(VIEW_6)}",
                                          [("B", "MOVE: down"), ("partner", "MOVE: right"), ("self", "MOVE: right")])
    assert knowledge.position == (0, 1)


def test_a_team_cartographer_agrees_but_says_done_only_with_the_last_vote() -> None:
    """With one seat still to vote the move is not made yet, so nobody may say the completion phrase."""
    task = f"You are one of three agents.\n{render_map(('@##', '.*#', '###'))}\nVote with `MOVE:` lines."
    first_move = [("B", "MOVE: down"), ("C", "MOVE: down"), ("self", "MOVE: down")]
    knowledge = Knowledge.from_transcript(task, [*first_move, ("B", "MOVE: right")])
    assert knowledge.position == (1, 0)
    said = cartographer_says(knowledge, Style())
    assert said.endswith("MOVE: right") and "ACTI!" not in said
    knowledge = Knowledge.from_transcript(task, [*first_move, ("B", "MOVE: right"), ("C", "MOVE: right")])
    assert "ACTI!" in cartographer_says(knowledge, Style())
    assert "ACTI!" in follower_says(knowledge, Style())


def test_the_grader_counts_a_team_move_once_every_agent_named_it() -> None:
    """The paper's grader shape for a team: `consider` until the last agent agrees, then one `move` by all."""
    dialogue = "\n\n".join([
        "[agent_1]: Proposal: down", "[agent_2]: Agreed: down", "[agent_3]: Proposal: right",
        "[agent_1]: Agreed: right", "[agent_2]: Agreed: right"])
    answer = yaml.safe_load(grade_transcript(f"# Dialogue\n{dialogue}").strip("`\nyaml"))
    assert [(entry["turn"], entry["turn_type"], entry["agent"]) for entry in answer["route"]] == [
        (1, "consider", "agent_1"), (2, "consider", "agent_2"), (3, "consider", "agent_3"),
        (4, "consider", "agent_1"), (5, "move", "all")]
    assert answer["route"][-1]["coordinates"] == ["right"]
