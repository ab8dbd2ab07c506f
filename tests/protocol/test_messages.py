"""The seat conversation's data part and the votes written in prose (DESIGN.md §3.3)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from collabgap.protocol import (
    COMPLETION_PHRASE,
    DATA_KEY,
    LEGEND,
    RULES_VERSION,
    HistoryEntry,
    SeatEnd,
    SeatEnvelope,
    SeatStart,
    SeatTurn,
    VoteOutcome,
    find_maps,
    find_votes,
    render_map,
    says_done,
)

PAPER_VIEW_6A = ("@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*")


@pytest.mark.parametrize(
    ("text", "votes"),
    [
        pytest.param("MOVE: down", ["down"], id="plain"),
        pytest.param("move: Left", ["Left"], id="lower-case-keyword"),
        pytest.param("**MOVE:** up", ["up"], id="markdown-bold"),
        pytest.param("**MOVE: right**", ["right"], id="bold-around-the-line"),
        pytest.param("`MOVE: down`", ["down"], id="inline-code"),
        pytest.param("- MOVE:right", ["right"], id="bullet-no-space"),
        pytest.param("Move : UP", ["UP"], id="space-before-colon"),
        pytest.param("My map agrees.\nMOVE: down\nYour turn.", ["down"], id="inside-prose"),
        pytest.param("MOVE: down\nthen\nMOVE: right", ["down", "right"], id="two-votes-in-order"),
        pytest.param("MOVE: diagonal", ["diagonal"], id="unvalidated-direction"),
    ],
)
def test_find_votes_reads_move_lines(text: str, votes: list[str]) -> None:
    """A vote is a line `MOVE: <direction>`, in any case, markdown allowed; validation comes later (DESIGN.md §3.3)."""
    assert find_votes(text) == votes


@pytest.mark.parametrize(
    "text",
    [
        "I will move down",
        "Let's move down next, then right.",
        "We should MOVE down.",
        "Remove: the wall idea",
        "MOVEMENT: down",
        "I think the next move: down",
        "",
    ],
)
def test_find_votes_ignores_prose_about_moving(text: str) -> None:
    """Only a line that starts with `MOVE:` is a vote, never a sentence mentioning a move (DESIGN.md §3.3)."""
    assert find_votes(text) == []


@pytest.mark.parametrize(
    ("text", "done"),
    [
        (f"We reached the goal. {COMPLETION_PHRASE}", True),
        ("ACTI!", True),
        ("acti!", False),
        ("ACTI", False),
        ("We are done.", False),
    ],
)
def test_says_done_looks_for_the_completion_phrase(text: str, done: bool) -> None:
    """A message ends the game when it carries the completion phrase `ACTI!` (DESIGN.md §3.4)."""
    assert says_done(text) is done


SEAT_MESSAGES = [
    pytest.param(
        SeatStart(
            game_id="g-1",
            seat="A",
            condition="pair",
            speaks_first=True,
            message_limit=40,
            size=6,
            maps=[list(PAPER_VIEW_6A)],
            legend=LEGEND,
            partner_text="hello",
            history=[HistoryEntry(seat="B", text="MOVE: down")],
        ),
        id="start",
    ),
    pytest.param(
        SeatTurn(
            game_id="g-1",
            seat="B",
            turn=3,
            partner_text="MOVE: down",
            outcomes=[
                VoteOutcome(seat="A", direction="down", executed=True, status="active", position=(1, 0)),
                VoteOutcome(seat="B", direction="left", executed=False, status="active"),
            ],
        ),
        id="turn",
    ),
    pytest.param(SeatEnd(game_id="g-1", seat="A", status="solved", reason="goal"), id="end"),
]


@pytest.mark.parametrize("message", SEAT_MESSAGES)
def test_seat_envelope_round_trips_through_json(message: SeatStart | SeatTurn | SeatEnd) -> None:
    """Each seat message survives JSON and comes back as the same kind (DESIGN.md §3.3)."""
    envelope = SeatEnvelope(collabgap=message)
    wire = envelope.model_dump(mode="json")
    assert list(wire) == [DATA_KEY]
    again = SeatEnvelope.model_validate(wire)
    assert again == envelope
    assert type(again.collabgap) is type(message)


def test_seat_start_carries_the_rules_version_and_message_channel_by_default() -> None:
    """A start message states the rules version the prompt follows (DESIGN.md §3.3)."""
    wire = SeatEnvelope(collabgap=SEAT_MESSAGES[0].values[0]).model_dump(mode="json")
    assert wire[DATA_KEY]["kind"] == "start"
    assert wire[DATA_KEY]["rules_version"] == RULES_VERSION
    assert wire[DATA_KEY]["move_channel"] == "message"


def test_seat_envelope_accepts_whole_numbers_sent_as_floats() -> None:
    """Protobuf Values carry doubles, so `4.0` must read as the int 4 (DESIGN.md §3.3)."""
    turn: dict[str, Any] = {
        "kind": "turn",
        "game_id": "g-1",
        "seat": "A",
        "turn": 4.0,
        "outcomes": [
            {"seat": "B", "direction": "up", "executed": True, "status": "active", "position": [2.0, 3.0]}
        ],
    }
    message = SeatEnvelope.model_validate({DATA_KEY: turn}).collabgap
    assert isinstance(message, SeatTurn)
    assert message.turn == 4
    assert isinstance(message.turn, int)
    assert message.outcomes[0].position == (2, 3)
    start: dict[str, Any] = {
        "kind": "start", "game_id": "g-2", "seat": "B", "condition": "solo-split", "speaks_first": False,
        "message_limit": 40.0, "size": 6.0, "maps": [list(PAPER_VIEW_6A)], "legend": LEGEND,
    }
    opened = SeatEnvelope.model_validate({DATA_KEY: start}).collabgap
    assert isinstance(opened, SeatStart)
    assert (opened.message_limit, opened.size) == (40, 6)


def test_seat_envelope_rejects_a_fractional_number_for_an_int() -> None:
    """Only whole doubles read as ints; `4.5` turns is malformed (DESIGN.md §3.3)."""
    with pytest.raises(ValidationError):
        SeatEnvelope.model_validate({DATA_KEY: {"kind": "turn", "game_id": "g", "seat": "A", "turn": 4.5}})


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"kind": "pause", "game_id": "g", "seat": "A"}, id="unknown-kind"),
        pytest.param({"kind": "end", "game_id": "g", "seat": "G", "status": "solved", "reason": "goal"}, id="seat-g"),
        pytest.param({"kind": "end", "game_id": "g", "seat": "A", "status": "won", "reason": "goal"}, id="status"),
        pytest.param({"game_id": "g", "seat": "A", "turn": 1}, id="no-kind"),
    ],
)
def test_seat_envelope_rejects_unknown_kinds_and_values(payload: dict[str, Any]) -> None:
    """The message kind, seat and status are closed sets (DESIGN.md §3.3)."""
    with pytest.raises(ValidationError):
        SeatEnvelope.model_validate({DATA_KEY: payload})


def test_seat_envelope_ignores_fields_it_does_not_know() -> None:
    """Fields are added, never renamed, so an older reader ignores newer fields (DESIGN.md §3.3)."""
    wire = {DATA_KEY: {"kind": "end", "game_id": "g", "seat": "A", "status": "failed", "reason": "wall", "new": 1}}
    assert SeatEnvelope.model_validate(wire).collabgap == SeatEnd(game_id="g", seat="A", status="failed", reason="wall")


def test_find_maps_extracts_a_map_from_surrounding_prose() -> None:
    """A map is N lines of N symbols, found even with text around it (DESIGN.md §2)."""
    text = "Here is my half of the maze:\n\n" + render_map(PAPER_VIEW_6A) + "\n\nWhat does yours show? MOVE: down"
    assert find_maps(text, 6) == [PAPER_VIEW_6A]


def test_find_maps_reads_indented_and_fenced_maps_in_order() -> None:
    """Map lines may be indented or inside a code fence; several maps come back in order (DESIGN.md §2)."""
    second = ("@.?..#", "??##..", "?#?..?", ".?#?..", "????#?", "..???*")
    text = "Mine:\n```\n" + render_map(PAPER_VIEW_6A) + "\n```\nYours, indented:\n"
    text += "\n".join("    " + row for row in second)
    assert find_maps(text, 6) == [PAPER_VIEW_6A, second]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\n".join(row[:5] for row in PAPER_VIEW_6A), id="width-5"),
        pytest.param("\n".join(row + "." for row in PAPER_VIEW_6A), id="width-7"),
        pytest.param("\n".join(PAPER_VIEW_6A[:5]), id="five-rows"),
        pytest.param("\n".join(PAPER_VIEW_6A[:3] + ("I see a wall.",) + PAPER_VIEW_6A[3:]), id="broken-by-prose"),
        pytest.param(render_map(PAPER_VIEW_6A, labelled=True), id="labelled"),
        pytest.param("\n".join(row.replace("?", "x") for row in PAPER_VIEW_6A), id="foreign-symbol"),
    ],
)
def test_find_maps_ignores_blocks_that_are_not_a_full_map(text: str) -> None:
    """Only `size` consecutive lines of exactly `size` map symbols form a map (DESIGN.md §2)."""
    assert find_maps(text, 6) == []


def test_render_map_is_n_lines_without_labels_unless_asked() -> None:
    """The paper's rendering has no spaces or coordinates; the labelled one adds indices (DESIGN.md §2)."""
    assert render_map(PAPER_VIEW_6A).splitlines() == list(PAPER_VIEW_6A)
    labelled = render_map(PAPER_VIEW_6A, labelled=True).splitlines()
    assert labelled[0] == "   012345"
    assert labelled[1:] == [f" {r} {row}" for r, row in enumerate(PAPER_VIEW_6A)]
