"""Reports of a run (DESIGN.md §3.4): CSV, JSON and Parquet exports, the HTML page, terminal tables."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from collabgap.protocol import MazeParams, Mode, MoveRecord, Usage
from collabgap.services.coordinator import (
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    MessageRecord,
    Score,
    SeatSpec,
)
from collabgap.services.coordinator.analysis._analysis import Analysis
from collabgap.services.coordinator.report._report import (
    CELL_COLUMNS,
    ReportFiles,
    build_report,
    episode_schema,
    terminal_tables,
)

MINI = SeatSpec(name="gpt-4.1-mini", url="http://127.0.0.1:9001")
FULL = SeatSpec(name="gpt-4.1", url="http://127.0.0.1:9002")
ROGUE = SeatSpec(name="<img src=x onerror=alert(1)>", url="http://127.0.0.1:9003")
NORTH = SeatSpec(name="north", url="http://127.0.0.1:9004")
SOUTH = SeatSpec(name="south", url="http://127.0.0.1:9005")
GRADER = SeatSpec(name="judge", url="http://127.0.0.1:9006")
HOSTILE = "<script>alert('pwned')</script> & </script><!-- MOVE: right"
MAZE = ["@.#", "..#", "#.*"]
VIEWS = [["@?#", "?.?", "#?*"], ["@.?", ".?#", "?.*"]]
PLAYED = {MINI.name: "gpt-4.1-mini", FULL.name: "gpt-4.1", NORTH.name: "gpt-4.1-2025-04-14",
          SOUTH.name: "openai/gpt-4.1-mini", ROGUE.name: "rogue-1"}
"""The model each player's vendor answers with: paper values follow these, never the players' names."""
SVG = "{http://www.w3.org/2000/svg}"


def episode(seat_a: SeatSpec, seat_b: SeatSpec | None, maze: int, weighted: float, *, text: str = "MOVE: down",
            mode: Mode = "referee", platform_error: bool = False, failure: bool = False) -> EpisodeRecord:
    names = seat_a.name if seat_b is None else f"{seat_a.name}+{seat_b.name}"
    condition = "solo-full" if seat_b is None else "pair"
    spec = EpisodeSpec(episode_id=f"{mode}/{condition}/{names}/m{maze}", condition=condition, seat_a=seat_a,
                       seat_b=seat_b, maze=MazeParams(size=3, seed=maze), mode=mode,
                       grader=GRADER if mode == "paper" else None)
    messages = [MessageRecord(index=i, seat=seat, player=player.name, text=text, latency_s=0.2, vote="down",
                              usage=Usage(model=PLAYED[player.name], prompt_tokens=100, completion_tokens=20),
                              cost_usd=0.0004)
                for i, (seat, player) in enumerate([("A", seat_a), ("B", seat_b)][:1 if seat_b is None else 2])
                if player is not None]
    if platform_error:
        return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="error", end_reason="error",
                             error=EpisodeError(kind="referee_error", seat=None, message=text), messages=messages)
    moves = [MoveRecord(direction="down", source=(0, 0), target=(1, 0), valid=True),
             MoveRecord(direction="right", source=(1, 0), target=(1, 1), valid=True),
             MoveRecord(direction="right", source=(1, 1), target=(1, 2), valid=False)]
    error = EpisodeError(kind="protocol_violation", seat="A", message=text, blame=f"agent:{seat_a.name}")
    return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="failed",
                         end_reason="agent_failure" if failure else "wall", error=error if failure else None,
                         score=Score(weighted=weighted, success=False, moves=3, conflicts=0, optimal_length=4),
                         messages=messages, moves=moves, maze=MAZE, views=VIEWS)


@pytest.fixture(scope="module")
def records() -> list[EpisodeRecord]:
    return [
        *(episode(MINI, MINI, m, w) for m, w in enumerate([0.25, 0.5, 0.75])),
        *(episode(FULL, MINI, m, 0.5) for m in range(3)),
        *(episode(MINI, None, m, w) for m, w in enumerate([0.5, 1.0, 0.75])),
        *(episode(NORTH, SOUTH, m, 0.5, mode="paper") for m in range(3)),
        episode(ROGUE, MINI, 0, 0.5, text=HOSTILE),
        episode(ROGUE, MINI, 1, 0.0, text=HOSTILE, failure=True),
        episode(ROGUE, MINI, 2, 0.0, text=HOSTILE, platform_error=True),
    ]


@pytest.fixture(scope="module")
def report(records: list[EpisodeRecord], tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return build_report(records, tmp_path_factory.mktemp("report"))


def test_report_writes_its_files_into_the_folder(report: ReportFiles) -> None:
    folder = report.report_html.parent
    assert sorted(p.name for p in folder.iterdir()) == ["analysis.json", "cells.csv", "episodes.parquet",
                                                         "report.html", "tables.md", "tables.tex"]
    assert Analysis.model_validate_json(report.analysis_json.read_text()) == report.analysis


def test_parquet_has_one_row_per_episode_platform_errors_unscored(records: list[EpisodeRecord],
                                                                   report: ReportFiles) -> None:
    """A platform error is a row with its kind and no score; a flagged failure has both; tokens are everywhere."""
    table = pq.read_table(report.episodes_parquet)
    assert table.schema.equals(episode_schema())
    rows = table.to_pylist()
    assert [row["episode_id"] for row in rows] == [r.spec.episode_id for r in records]
    flagged, error = rows[-2:]
    assert (error["status"], error["error_kind"], error["error_blame"], error["weighted"], error["counted"]) == (
        "error", "referee_error", "platform", None, False)
    assert (flagged["error_kind"], flagged["error_blame"], flagged["weighted"], flagged["flagged"],
            flagged["counted"]) == ("protocol_violation", f"agent:{ROGUE.name}", 0.0, True, True)
    first = rows[0]
    assert (first["seat_a"], first["seat_b"], first["weighted"], first["tokens"], first["messages"]) == (
        "gpt-4.1-mini", "gpt-4.1-mini", 0.25, 240, 2)
    assert first["cost_usd"] == pytest.approx(0.0008) and first["wall_fraction"] == pytest.approx(3 / 7)


def test_cells_csv_has_the_documented_columns(report: ReportFiles) -> None:
    """The paper's value sits only beside the paper-mode cell, whose seats reported gpt-4.1 and gpt-4.1-mini."""
    with report.cells_csv.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == CELL_COLUMNS
    homogeneous = next(row for row in rows if (row["seat_a"], row["seat_b"]) == ("gpt-4.1-mini", "gpt-4.1-mini"))
    assert (homogeneous["mode"], homogeneous["n"], homogeneous["weighted_mean"]) == ("referee", "3", "0.5")
    assert homogeneous["paper_weighted"] == "" and homogeneous["success_wilson_high"] != ""
    paper = next(row for row in rows if row["seat_a"] == "north")
    assert (paper["mode"], paper["models_a"], paper["models_b"], paper["paper_weighted"]) == (
        "paper", "gpt-4.1", "gpt-4.1-mini", "0.5")
    rogue = next(row for row in rows if row["seat_a"] == ROGUE.name)
    assert (rogue["n"], rogue["flagged"], rogue["errors"], rogue["error_kinds"], rogue["failure_kinds"]) == (
        "2", "1", "1", "referee_error=1", "protocol_violation=1")
    assert float(rogue["wall_fraction"]) == pytest.approx(3 / 7) and rogue["optimal_length"] == "4.0"


def heatmap_panels(html: str) -> dict[str, list[str]]:
    """The inline heatmap's panels by title (the colour bar's is its label): the text of each, in drawing order."""
    svg = re.search(r'<svg id="figure-pairs".*?</svg>', html, re.S)
    assert svg is not None
    panels = {}
    for group in ET.fromstring(svg.group(0)).iter(f"{SVG}g"):
        if re.fullmatch(r"pairs-axes_\d+", group.get("id", "")):
            texts = [node.text or "" for node in group.iter(f"{SVG}text")]
            panels[texts[-1]] = texts
    return panels


def test_html_shows_published_values_only_beside_paper_mode_cells(report: ReportFiles) -> None:
    """north opening for south, reporting gpt-4.1 and gpt-4.1-mini: the paper has 0.50 ± 0.04 and 18% ± 5%.
    gpt-4.1 opening for gpt-4.1-mini under the referee protocol is another protocol: no published value."""
    html = report.report_html.read_text()
    panels = heatmap_panels(html)
    assert sorted(panels) == ["mean weighted score", "paper protocol", "referee protocol"], "and a colour bar"
    assert panels["mean weighted score"] == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "mean weighted score"]
    paper, referee = panels["paper protocol"], panels["referee protocol"]
    assert ["0.50 ± 0.00", "n = 3", "paper 0.50 ± 0.04"] == paper[-4:-1]
    assert not [text for text in referee if text.startswith("paper")]
    cells_table = re.search(r'<table id="cells-table".*?</table>', html, re.S)
    assert cells_table is not None
    for row in re.findall(r"<tr><td>.*?</tr>", cells_table.group(0)):
        if "<td>referee</td>" in row:
            assert "± 0.04" not in row and "18%" not in row


def test_html_prints_the_policy_flagged_failures_and_platform_errors_apart(report: ReportFiles) -> None:
    html = report.report_html.read_text()
    assert "agent failures: scored (counted in n)" in html
    rogue = ("<tr><td>pair &lt;img src=x onerror=alert(1)&gt; + gpt-4.1-mini</td><td>referee</td><td>2</td><td>1</td>"
             "<td>0</td><td>1</td>")
    assert rogue in html, "n = 2, 1 flagged, none excluded, 1 platform error"
    platform = re.search(r'<table id="platform-table".*?</table>', html)
    assert platform is not None and "<td>referee_error</td><td>1</td>" in platform.group(0)
    errors = re.search(r'<table id="error-table".*?</table>', html)
    assert errors is not None and "<td>&lt;img src=x onerror=alert(1)&gt;</td><td>3</td><td>1</td>" in errors.group(0)


def test_html_renders_agent_text_as_text(report: ReportFiles) -> None:
    """Transcripts and names are untrusted: no tag an agent wrote reaches the page as markup."""
    html = report.report_html.read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<script") == 2, "only the data block and the viewer script"
    data = re.search(r'<script type="application/json" id="episodes-data">(.*?)</script>', html, re.S)
    assert data is not None
    hostile = [m["text"] for e in json.loads(data.group(1)) for m in e["messages"] if "pwned" in m["text"]]
    assert hostile == [HOSTILE] * 6, "three episodes, two messages each"


def test_html_needs_no_network(report: ReportFiles) -> None:
    html = report.report_html.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "default-src 'none'" in html


def test_terminal_tables_cover_cells_gap_cost_and_errors(report: ReportFiles) -> None:
    console = Console(record=True, width=220)
    for table in terminal_tables(report.analysis):
        console.print(table)
    text = console.export_text()
    for title in ("Cells", "Collaboration gap", "Tokens and cost", "Errors per agent", "Platform errors"):
        assert title in text
    assert "agent failures: scored (counted in n)" in text
    paper_rows = [line for line in text.splitlines() if "0.50 ± 0.04" in line]
    assert paper_rows and all("paper" in line and "north" in line for line in paper_rows)
