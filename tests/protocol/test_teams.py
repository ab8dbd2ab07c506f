"""Teams of three to six seats in the pure core: author labels and the team fields of the seat messages
(issue 14, part 1)."""

from __future__ import annotations

from collabgap.protocol import (
    SEATS,
    HistoryEntry,
    SeatEnvelope,
    SeatStart,
    SeatTurn,
    agent_name,
    label_message,
    split_authors,
)

VIEW_6 = ("@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*")


def test_seats_are_named_agent_1_to_agent_6_in_order() -> None:
    assert [agent_name(seat) for seat in SEATS] == [f"agent {n}" for n in range(1, 7)]
    assert label_message("C", "Hello!") == "[agent 3]: Hello!"


def test_relayed_text_splits_at_every_kind_of_author_label() -> None:
    """`[agent N]:` (the paper's style), `[agent_N]:`, `[seat X]:` and `[X]:` all name an author (issue 14)."""
    text = "\n\n".join([label_message("A", "My map:\n@.#\n..."), "[agent_3]: MOVE: down", "[seat D]: ok",
                        "[E]: fine\nwith me"])
    assert split_authors(text) == [("A", "My map:\n@.#\n..."), ("C", "MOVE: down"), ("D", "ok"),
                                   ("E", "fine\nwith me")]
    assert split_authors("no label here [agent 2]: mid-line") == [(None, "no label here [agent 2]: mid-line")]
    assert split_authors("preface\n[agent 2]: hi") == [(None, "preface"), ("B", "hi")]


def test_team_fields_are_optional_on_the_wire() -> None:
    """A pair's messages read as before; a team's carry the seats and the authored messages (issue 14)."""
    pair = SeatStart(game_id="g", seat="A", condition="pair", speaks_first=True, message_limit=50, size=6,
                     maps=[list(VIEW_6)], legend="")
    assert pair.team == [] and pair.messages == []
    turn = SeatEnvelope.model_validate({"collabgap": {
        "kind": "turn", "game_id": "g", "seat": "F", "turn": 2,
        "messages": [{"seat": "E", "text": "hi"}]}}).collabgap
    assert isinstance(turn, SeatTurn) and turn.messages == [HistoryEntry(seat="E", text="hi")]
