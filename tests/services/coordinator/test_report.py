"""Reports of a run (DESIGN.md §3.4): CSV, JSON and Parquet exports, the HTML page, terminal tables."""

from __future__ import annotations

import csv
import json
import re

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from protocol import MazeParams, MoveRecord, Usage
from services.coordinator import (
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    MessageRecord,
    Score,
    SeatSpec,
)
from services.coordinator._analysis import Analysis
from services.coordinator._report import CELL_COLUMNS, EPISODE_SCHEMA, ReportFiles, build_report, terminal_tables

MINI = SeatSpec(name="gpt-4.1-mini", url="http://127.0.0.1:9001")
FULL = SeatSpec(name="gpt-4.1", url="http://127.0.0.1:9002")
ROGUE = SeatSpec(name="<img src=x onerror=alert(1)>", url="http://127.0.0.1:9003")
HOSTILE = "<script>alert('pwned')</script> & </script><!-- MOVE: right"
MAZE = ["@.#", "..#", "#.*"]
VIEWS = [["@?#", "?.?", "#?*"], ["@.?", ".?#", "?.*"]]


def episode(seat_a: SeatSpec, seat_b: SeatSpec | None, maze: int, weighted: float, *, text: str = "MOVE: down",
            error: bool = False) -> EpisodeRecord:
    names = seat_a.name if seat_b is None else f"{seat_a.name}+{seat_b.name}"
    condition = "solo-full" if seat_b is None else "pair"
    spec = EpisodeSpec(episode_id=f"{condition}/{names}/m{maze}", condition=condition, seat_a=seat_a, seat_b=seat_b,
                       maze=MazeParams(size=3, seed=maze))
    messages = [MessageRecord(index=0, seat="A", player=seat_a.name, text=text, latency_s=0.2, vote="down",
                              usage=Usage(model=seat_a.name, prompt_tokens=100, completion_tokens=20),
                              cost_usd=0.0004)]
    if error:
        return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="error", end_reason="error",
                             error=EpisodeError(kind="protocol_violation", seat="A", message=text), messages=messages)
    moves = [MoveRecord(direction="down", source=(0, 0), target=(1, 0), valid=True),
             MoveRecord(direction="right", source=(1, 0), target=(1, 1), valid=True),
             MoveRecord(direction="right", source=(1, 1), target=(1, 2), valid=False)]
    return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="failed", end_reason="wall",
                         score=Score(weighted=weighted, success=False, moves=3, conflicts=0, optimal_length=4),
                         messages=messages, moves=moves, maze=MAZE, views=VIEWS)


@pytest.fixture(scope="module")
def records() -> list[EpisodeRecord]:
    return [
        *(episode(MINI, MINI, m, w) for m, w in enumerate([0.25, 0.5, 0.75])),
        *(episode(FULL, MINI, m, 0.5) for m in range(3)),
        *(episode(MINI, None, m, w) for m, w in enumerate([0.5, 1.0, 0.75])),
        episode(ROGUE, MINI, 0, 0.5, text=HOSTILE),
        episode(ROGUE, MINI, 1, 0.0, text=HOSTILE, error=True),
    ]


@pytest.fixture(scope="module")
def report(records: list[EpisodeRecord], tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return build_report(records, tmp_path_factory.mktemp("report"))


def test_report_writes_its_four_files_into_the_folder(report: ReportFiles) -> None:
    folder = report.report_html.parent
    assert sorted(p.name for p in folder.iterdir()) == ["analysis.json", "cells.csv", "episodes.parquet",
                                                         "report.html"]
    assert Analysis.model_validate_json(report.analysis_json.read_text()) == report.analysis


def test_parquet_has_one_row_per_episode_errors_unscored(records: list[EpisodeRecord], report: ReportFiles) -> None:
    """Errors are rows with their kind and no score; tokens and cost are there for every episode."""
    table = pq.read_table(report.episodes_parquet)
    assert table.schema.equals(EPISODE_SCHEMA)
    rows = table.to_pylist()
    assert [row["episode_id"] for row in rows] == [r.spec.episode_id for r in records]
    error = rows[-1]
    assert (error["status"], error["error_kind"], error["error_seat"], error["weighted"]) == (
        "error", "protocol_violation", "A", None)
    first = rows[0]
    assert (first["seat_a"], first["seat_b"], first["weighted"], first["tokens"], first["messages"]) == (
        "gpt-4.1-mini", "gpt-4.1-mini", 0.25, 120, 1)
    assert first["cost_usd"] == pytest.approx(0.0004)


def test_cells_csv_has_the_documented_columns(report: ReportFiles) -> None:
    with report.cells_csv.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == CELL_COLUMNS
    homogeneous = next(row for row in rows if (row["seat_a"], row["seat_b"]) == ("gpt-4.1-mini", "gpt-4.1-mini"))
    assert (homogeneous["n"], homogeneous["weighted_mean"], homogeneous["paper_weighted"]) == ("3", "0.5", "0.39")
    rogue = next(row for row in rows if row["seat_a"] == ROGUE.name)
    assert (rogue["errors"], rogue["error_kinds"]) == ("1", "protocol_violation=1")


def test_html_shows_the_paper_value_beside_a_cell_named_like_the_paper_models(report: ReportFiles) -> None:
    """gpt-4.1 opening for gpt-4.1-mini: the paper has 0.50 ± 0.04 weighted and 18% ± 5% success."""
    html = report.report_html.read_text()
    cell = re.search(r'<td class="heat-cell" data-seat-a="gpt-4.1" data-seat-b="gpt-4.1-mini".*?</td>', html)
    assert cell is not None
    assert "paper 0.50 ± 0.04 · 18% ± 5%" in cell.group(0)
    assert "0.500 ± 0.000" in cell.group(0)


def test_html_renders_agent_text_as_text(report: ReportFiles) -> None:
    """Transcripts and names are untrusted: no tag an agent wrote reaches the page as markup."""
    html = report.report_html.read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<script") == 2, "only the data block and the viewer script"
    data = re.search(r'<script type="application/json" id="episodes-data">(.*?)</script>', html, re.S)
    assert data is not None
    hostile = [m["text"] for e in json.loads(data.group(1)) for m in e["messages"] if "pwned" in m["text"]]
    assert hostile == [HOSTILE, HOSTILE]


def test_html_needs_no_network(report: ReportFiles) -> None:
    html = report.report_html.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "default-src 'none'" in html


def test_terminal_tables_cover_cells_gap_cost_and_errors(report: ReportFiles) -> None:
    console = Console(record=True, width=200)
    for table in terminal_tables(report.analysis):
        console.print(table)
    text = console.export_text()
    for title in ("Cells", "Collaboration gap", "Tokens and cost", "Errors per agent"):
        assert title in text
    assert "0.39 ± 0.01" in text
