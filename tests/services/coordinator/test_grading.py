"""Paper mode: reading the grader's answer in the paper's YAML shape (Fig. A.6; issue 9)."""

from __future__ import annotations

import pytest

from collabgap.protocol import Maze, grade_route
from collabgap.services.coordinator import GraderError
from collabgap.services.coordinator.game._grader_answer import parse_grading

PAPER_MAZE_6 = Maze.parse(["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"])
SCHEMA = """route_schema:
  maze_origin: "1"
  maze_orientation: "top_left"
  coordinates_orientation: "row_col"
  coordinates_symbols: "number_number"
"""


def answer(*entries: tuple[int, str, str, str]) -> str:
    items = "".join(f'  - turn: {turn}\n    coordinates: {cells}\n    turn_type: "{kind}"\n    agent: "{agent}"\n'
                    for turn, cells, kind, agent in entries)
    return f"```yaml\n{SCHEMA}route:\n{items}```"


CORRECT = answer(*((i + 1, f"[[{r}, {c}]]", "move", "both") for i, (r, c) in enumerate(
    [(2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (6, 2), (6, 3), (6, 4), (6, 5), (6, 6)])))


def score(text: str) -> float:
    route, _ = parse_grading(text)
    return grade_route(PAPER_MAZE_6, route).weighted


def test_the_papers_format_of_a_correct_route_scores_one() -> None:
    route, schema = parse_grading(CORRECT)
    assert route[:2] == ["2, 1", "3, 1"] and len(route) == 10
    assert schema["coordinates_orientation"] == "row_col"
    assert score(CORRECT) == 1.0


def test_only_moves_count_in_turn_order_and_a_repeated_cell_is_not_a_stop() -> None:
    text = answer((3, "[[4, 1]]", "move", "both"), (1, "[[2, 1]]", "move", "both"),
                  (2, "[[1, 2], [2, 2]]", "consider", "agent_2"), (2, "[[3, 1], [3, 1]]", "move", "both"),
                  *((i, f"[[{cell}]]", "move", "both") for i, cell in enumerate(
                      ["5, 1", "6, 1", "6, 1", "6, 2", "6, 3", "6, 4", "6, 5", "6, 6"], start=4)))
    assert parse_grading(text)[0][:4] == ["2, 1", "3, 1", "3, 1", "4, 1"]
    assert score(text) == 1.0


def test_directions_and_the_older_plain_shape_are_read() -> None:
    directions = answer(*((i, f'["{d}"]', "move", "both") for i, d in enumerate(
        ["down"] * 5 + ["right"] * 5, start=1)))
    assert score(directions) == 1.0
    assert parse_grading("schema:\n  origin: 1\nroute:\n  - [2, 1]\n  - down\n") == (["2, 1", "down"], {"origin": 1})


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"), ("   \n", "empty"),
    ("I think they went down a lot.", "no `route` list"),
    ("```yaml\nroute: [unclosed\n```", "not YAML"),
    ("route_schema: {}\nroute: down", "no `route` list"),
])
def test_an_unusable_answer_is_a_grader_error_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(GraderError, match=reason):
        parse_grading(text)
