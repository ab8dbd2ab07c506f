"""Tables for papers (issue 12): `tables.md` and `tables.tex` hold the analysis's numbers, escaped for each format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collabgap.services.coordinator import EpisodeRecord, SeatSpec
from collabgap.services.coordinator.analysis._analysis import Analysis
from collabgap.services.coordinator.report._report import build_report
from tests.services.coordinator.test_report import MINI, NORTH, SOUTH, episode

AWKWARD = SeatSpec(name="gpt_4 & co | 100% {best} #1 [x]", url="http://127.0.0.1:9007")


def awkward(maze: int) -> EpisodeRecord:
    """AWKWARD opens for gpt-4.1-mini: weighted 0.75."""
    played = episode(MINI, MINI, maze, 0.75)
    spec = played.spec.model_copy(update={"seat_a": AWKWARD, "episode_id": f"pair/referee/awkward/m{maze}"})
    return played.model_copy(update={"spec": spec})


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Analysis, str, str]:
    """(analysis, tables.md, tables.tex) of a run with a homogeneous pair, a solo cell, a paper-mode pair and a
    player whose name is markup in both formats."""
    records: list[EpisodeRecord] = [
        *(episode(MINI, MINI, m, w) for m, w in enumerate([0.25, 0.5, 1.0])),
        *(episode(MINI, None, m, w) for m, w in enumerate([0.5, 1.0, 1.0])),
        *(episode(NORTH, SOUTH, m, 0.5, mode="paper") for m in range(3)),
        *(awkward(m) for m in range(2)),
    ]
    files = build_report(records, tmp_path_factory.mktemp("report"))
    return files.analysis, files.tables_md.read_text(), files.tables_tex.read_text()


def test_markdown_rows_hold_the_analysis_numbers(written: tuple[Analysis, str, str]) -> None:
    analysis, md, _ = written
    pair = analysis.cell("pair", MINI.name, MINI.name)
    gap = analysis.gap(MINI.name)
    assert pair is not None and gap is not None and pair.success.wilson_high is not None
    assert (f"| pair gpt-4.1-mini + gpt-4.1-mini | referee | 3 | {pair.weighted.mean:.2f} ± {pair.weighted.ci95:.2f} "
            f"| 0% \\[0%, {pair.success.wilson_high:.0%}\\] |  |  |") in md
    assert f"| gpt-4.1-mini | referee | solo-full | 0.83 ± 0.33 | 0.58 ± 0.43 | +{gap.gap.mean:.2f} ± " in md
    assert "| pair north + south | paper | 3 | 0.50 ± 0.00 | 0% \\[0%, 56%\\] | 0.50 ± 0.04 | 18% ± 5% |" in md


def test_markdown_escapes_what_would_break_a_table(written: tuple[Analysis, str, str]) -> None:
    _, md, _ = written
    row = next(line for line in md.splitlines() if "co" in line and "100%" in line)
    assert "gpt\\_4 & co \\| 100% {best} \\#1 \\[x\\] + gpt-4.1-mini" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 8, "seven cells: the name's | is escaped"


def test_latex_is_booktabs_with_every_special_character_escaped(written: tuple[Analysis, str, str]) -> None:
    analysis, _, tex = written
    assert tex.count(r"\begin{tabular}") == 2 and tex.count(r"\toprule") == 2 and tex.count(r"\bottomrule") == 2
    assert r"\label{tab:collabgap-cells}" in tex and r"\label{tab:collabgap-gaps}" in tex
    assert (r"pair gpt\_4 \& co | 100\% \{best\} \#1 {[}x{]} + gpt-4.1-mini & referee & 2 & 0.75 $\pm$ 0.00 & "
            r"0\% {[}0\%, 66\%{]} &  &  \\") in tex
    assert r"solo $-$ homogeneous pair" in tex and r"1.96$\cdot$SE" in tex
    pair = analysis.cell("pair", MINI.name, MINI.name)
    assert pair is not None
    assert f"referee & 3 & {pair.weighted.mean:.2f} $\\pm$ {pair.weighted.ci95:.2f} & " in tex
    body = re.sub(r"\\[a-zA-Z]+|\\[&%$#_{}\\ ]|\$\\pm\$|\$\\cdot\$|\$-\$|\$\\rightarrow\$", "", tex)
    assert not re.search(r"[%#_]", body.split("\n", 1)[1]), "no bare % # _ outside the first comment line"


def test_tables_without_gaps_or_relays_leave_those_tables_out(tmp_path: Path) -> None:
    files = build_report([episode(NORTH, SOUTH, 0, 0.5, mode="paper")], tmp_path)
    md = files.tables_md.read_text()
    assert md.count("**") == 2 and "Collaboration gap" not in md and "Relay" not in md
    assert "paper weighted" in md
