"""Every table the CLI prints fits an 80-column terminal, and its numbers stay whole (issue 12 part 5)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from collabgap.services._cli import cells_table
from collabgap.services.coordinator import (
    DemoSettings,
    EpisodeRecord,
    SeatSpec,
    analyze,
    build_report,
    run_demo,
    terminal_tables,
)
from collabgap.services.coordinator.analysis._analysis import Analysis
from collabgap.services.coordinator.analysis._stats import Estimate

LONG = {"cartographer": "cartographer-gpt-4.1-2025-04-14-with-a-long-suffix",
        "follower": "follower-claude-sonnet-4-5-20250929"}
"""Player names as long as real model ids get."""


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[EpisodeRecord]:
    """A real small demo run: every scripted player solo and in every pair, two mazes each."""
    runs = tmp_path_factory.mktemp("runs")
    return run_demo(DemoSettings(mazes=2, concurrency=4, runs_dir=runs)).records


def renamed(record: EpisodeRecord) -> EpisodeRecord:
    spec = record.spec
    seats = {"seat_a": SeatSpec(name=LONG[spec.seat_a.name], url=spec.seat_a.url)}
    if spec.seat_b is not None:
        seats["seat_b"] = SeatSpec(name=LONG[spec.seat_b.name], url=spec.seat_b.url)
    return record.model_copy(update={"spec": spec.model_copy(update=seats)})


def printed(tables: list[Table]) -> list[str]:
    console = Console(width=80, soft_wrap=True, file=StringIO())  # as the CLI's console on an 80-column terminal
    for table in tables:
        console.print(table)
    assert isinstance(console.file, StringIO)
    return console.file.getvalue().splitlines()


def readable(name: str, text: str) -> bool:
    """`name` is in `text` whole, folded over lines between other columns perhaps, but never cut short."""
    rest = iter("".join(text.split()))
    return "…" not in text and all(char in rest for char in "".join(name.split()))


def estimates(analysis: Analysis) -> list[tuple[Estimate, bool]]:
    """Every weighted estimate the tables show, and whether it is a signed difference."""
    return [*((c.weighted, False) for c in analysis.cells),
            *((e, False) for g in analysis.gaps for e in (g.solo, g.pair)), *((g.gap, True) for g in analysis.gaps),
            *((e, False) for o in analysis.ordering for e in (o.x_opens, o.y_opens)),
            *((o.effect, True) for o in analysis.ordering)]


def test_the_demo_table_fits_80_columns_with_every_number(records: list[EpisodeRecord]) -> None:
    for batch in (records, [renamed(r) for r in records]):
        cells = analyze(batch).cells
        lines = printed([cells_table(cells)])
        assert max(cell_len(line) for line in lines) <= 80
        text = "\n".join(lines)
        for cell in cells:
            assert f"{cell.weighted.mean:.3f} ± {cell.weighted.ci95:.3f}" in text
            assert f"{cell.success.mean:.0%}" in text
        assert all(readable(f"{cell.seat_a} {cell.seat_b or ''}", text) for cell in cells)


@pytest.mark.parametrize("long_names", [False, True], ids=["demo names", "long names"])
def test_the_report_tables_fit_80_columns_with_every_number(records: list[EpisodeRecord], tmp_path: Path,
                                                            long_names: bool) -> None:
    batch = [renamed(r) for r in records] if long_names else records
    analysis = build_report(batch, tmp_path).analysis
    assert analysis.cells and analysis.gaps and analysis.ordering
    lines = printed(terminal_tables(analysis))
    assert max(cell_len(line) for line in lines) <= 80
    text = "\n".join(lines)
    for estimate, signed in estimates(analysis):
        sign = "+" if signed else ""
        assert estimate.ci95 is not None and estimate.boot_low is not None and estimate.boot_high is not None
        assert f"{estimate.mean:{sign}.3f} ± {estimate.ci95:.3f}" in text
        assert f"[{estimate.boot_low:.3f}, {estimate.boot_high:.3f}]" in text
    for cell in analysis.cells:
        assert cell.success.wilson_low is not None and cell.success.wilson_high is not None
        assert f"[{cell.success.wilson_low:.0%}, {cell.success.wilson_high:.0%}]" in text
        assert readable(cell.label, text)
