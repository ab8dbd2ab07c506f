"""Reports of a run: CSV, JSON and Parquet exports, Markdown and LaTeX tables, a self-contained HTML page, and
terminal tables.

    files = build_report(records, Path("runs/demo/report"))
    for table in terminal_tables(files.analysis):
        console.print(table)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .._errors import ConfigError
from .._records import EpisodeRecord
from ..analysis._analysis import Analysis, Cell, analyze, maze_facts
from ..analysis._paper import PaperValue
from ..analysis._stats import RESAMPLES, SEED, Estimate, counted
from ._report_html import render_report
from ._tables import format_estimate, format_wilson, write_tables

if TYPE_CHECKING:
    import pyarrow as pa

    from ._store_reader import RunInfo

EPISODE_COLUMNS = [
    ("episode_id", "string"), ("game_id", "string"), ("attempt", "int64"), ("repetition", "int64"),
    ("condition", "string"), ("mode", "string"), ("seat_a", "string"), ("seat_b", "string"),
    ("player_kind_a", "string"), ("player_kind_b", "string"), ("team_size", "int64"), ("more_seats", "string"),
    ("order", "string"), ("relay_kind", "string"), ("relay_k", "int64"), ("relay_seat_a", "string"),
    ("relay_seat_b", "string"),
    ("maze_id", "string"), ("status", "string"), ("end_reason", "string"), ("error_kind", "string"),
    ("error_seat", "string"), ("error_blame", "string"), ("flagged", "bool_"), ("counted", "bool_"),
    ("weighted", "float64"), ("success", "bool_"), ("moves", "int64"), ("optimal_length", "int64"),
    ("wall_fraction", "float64"), ("conflicts", "int64"), ("messages", "int64"), ("prompt_tokens", "int64"),
    ("completion_tokens", "int64"), ("tokens", "int64"), ("cost_usd", "float64"), ("duration_s", "float64"),
]
"""The columns of `episodes.parquet` and their Arrow types (named as `pyarrow` names its type factories), one row
per episode; score columns are null for platform errors. `flagged`: scored although an agent or the grader failed;
`counted`: in n under the run's agent-error policy. `team_size`: 1 alone, 2 in a pair, 3 to 6 in a team, whose
seats C, D, … are `more_seats` (names joined by `+`) and whose speaking order, if the run file set one, is `order`
(`CAB`)."""
PARQUET_EXTRA = "Parquet export needs pyarrow, which is not installed here: pip install 'collabgap[parquet]'"

CELL_COLUMNS = [
    "condition", "mode", "seat_a", "seat_b", "relay_kind", "relay_k", "relay_seat_a", "relay_seat_b", "models_a",
    "models_b", "player_kind_a", "player_kind_b", "team_size", "more_seats", "order", "episodes", "n", "flagged",
    "excluded", "failure_kinds", "errors", "error_kinds", "mazes",
    "wall_fraction", "optimal_length", "weighted_mean", "weighted_se", "weighted_ci95", "weighted_boot_low",
    "weighted_boot_high", "success_rate", "success_se", "success_ci95", "success_boot_low", "success_boot_high",
    "success_wilson_low", "success_wilson_high", "messages_mean", "prompt_tokens", "completion_tokens", "tokens",
    "tokens_per_episode", "cost_usd", "cost_usd_per_episode", "paper_weighted", "paper_weighted_ci95",
    "paper_success", "paper_success_ci95", "paper_source",
]
"""The columns of `cells.csv`, in order; empty where a value does not apply."""


class ReportFiles(BaseModel):
    """What `build_report` wrote, and the analysis behind it."""

    model_config = ConfigDict(frozen=True)

    cells_csv: Path
    analysis_json: Path
    episodes_parquet: Path | None
    """None where pyarrow is not installed (`PARQUET_EXTRA` says how to add it)."""
    report_html: Path
    tables_md: Path
    tables_tex: Path
    analysis: Analysis


def episode_row(record: EpisodeRecord) -> dict[str, object]:
    """One episode as a flat row of `EPISODE_COLUMNS`."""
    spec, relay, score, error = record.spec, record.spec.relay, record.score, record.error
    tokens = record.tokens
    return {
        "episode_id": spec.episode_id, "game_id": record.game_id, "attempt": record.attempt,
        "repetition": spec.repetition, "condition": spec.condition, "mode": spec.mode, "seat_a": spec.seat_a.name,
        "seat_b": spec.seat_b.name if spec.seat_b else None, "player_kind_a": spec.seat_a.player_kind,
        "player_kind_b": spec.seat_b.player_kind if spec.seat_b else None, "team_size": len(spec.seats()),
        "more_seats": "+".join(seat.name for seat in spec.more_seats) or None, "order": "".join(spec.order) or None,
        "relay_kind": relay.kind if relay else None,
        "relay_k": relay.after_messages if relay else None,
        "relay_seat_a": relay.seat_a.name if relay and relay.seat_a else None,
        "relay_seat_b": relay.seat_b.name if relay and relay.seat_b else None, "maze_id": record.maze_id,
        "status": record.status, "end_reason": record.end_reason, "error_kind": error.kind if error else None,
        "error_seat": error.seat if error else None, "error_blame": error.blame if error else None,
        "flagged": record.flagged, "counted": counted(record), "weighted": score.weighted if score else None,
        "success": score.success if score else None, "moves": score.moves if score else None,
        "optimal_length": score.optimal_length if score else None,
        "wall_fraction": maze_facts(tuple(record.maze))[0] if record.maze else None,
        "conflicts": score.conflicts if score else None,
        "messages": len(record.messages), "prompt_tokens": tokens.prompt, "completion_tokens": tokens.completion,
        "tokens": tokens.total, "cost_usd": record.cost_usd, "duration_s": record.duration_s,
    }


def episode_schema() -> pa.Schema:
    """`EPISODE_COLUMNS` as an Arrow schema.

    Raises:
        ConfigError: pyarrow is not installed (the `parquet` extra).
    """
    try:
        import pyarrow as pa
    except ImportError as exc:
        raise ConfigError(PARQUET_EXTRA) from exc
    return pa.schema([(name, getattr(pa, kind)()) for name, kind in EPISODE_COLUMNS])


def write_episodes_parquet(records: Iterable[EpisodeRecord], path: Path) -> Path:
    """Write one row per episode (see `EPISODE_COLUMNS`) to `path`.

    Raises:
        ConfigError: pyarrow is not installed (the `parquet` extra).
    """
    schema = episode_schema()
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([episode_row(r) for r in records], schema=schema), path)
    return path


def _estimate_columns(prefix: str, value: Estimate, mean_name: str) -> dict[str, object]:
    return {mean_name: value.mean, f"{prefix}_se": value.se, f"{prefix}_ci95": value.ci95,
            f"{prefix}_boot_low": value.boot_low, f"{prefix}_boot_high": value.boot_high}


def _counts(counts: dict[str, int]) -> str:
    return ";".join(f"{kind}={count}" for kind, count in counts.items())


def cell_row(cell: Cell) -> dict[str, object]:
    """One cell as a row of `cells.csv`."""
    paper_w, paper_s = cell.paper_weighted, cell.paper_success
    return {
        **cell.model_dump(include={"condition", "mode", "seat_a", "seat_b", "relay_kind", "relay_k", "relay_seat_a",
                                   "relay_seat_b", "player_kind_a", "player_kind_b", "episodes", "n", "flagged",
                                   "excluded", "errors", "mazes",
                                   "wall_fraction", "optimal_length", "messages_mean",
                                   "prompt_tokens", "completion_tokens", "tokens", "tokens_per_episode", "cost_usd",
                                   "cost_usd_per_episode"}),
        "models_a": ";".join(cell.models_a), "models_b": ";".join(cell.models_b), "team_size": cell.team_size,
        "more_seats": "+".join(cell.more_seats), "order": "".join(cell.order),
        "error_kinds": _counts(cell.error_kinds), "failure_kinds": _counts(cell.failure_kinds),
        **_estimate_columns("weighted", cell.weighted, "weighted_mean"),
        **_estimate_columns("success", cell.success, "success_rate"),
        "success_wilson_low": cell.success.wilson_low, "success_wilson_high": cell.success.wilson_high,
        "paper_weighted": paper_w.mean if paper_w else None, "paper_weighted_ci95": paper_w.ci95 if paper_w else None,
        "paper_success": paper_s.mean if paper_s else None, "paper_success_ci95": paper_s.ci95 if paper_s else None,
        "paper_source": "; ".join(v.source for v in (paper_w, paper_s) if v),
    }


def write_cells_csv(analysis: Analysis, path: Path) -> Path:
    """Write one row per cell (see `CELL_COLUMNS`) to `path`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CELL_COLUMNS)
        writer.writeheader()
        for cell in analysis.cells:
            writer.writerow({k: "" if v is None else v for k, v in cell_row(cell).items()})
    return path


def build_report(records: Iterable[EpisodeRecord], out_dir: Path, *, resamples: int = RESAMPLES, seed: int = SEED,
                 title: str = "collabgap report", viewer_limit: int = 2000, run: RunInfo | None = None) -> ReportFiles:
    """Analyse `records` and write `cells.csv`, `analysis.json`, `episodes.parquet` (where pyarrow is installed),
    `tables.md`, `tables.tex` and `report.html` to `out_dir`.

    The HTML page needs no network: its styles, scripts and figures are inline. Its transcript viewer holds at
    most `viewer_limit` episodes (the first ones), to keep the page small. `run`, the stored run, puts its id,
    progress and stored settings at the top of the page.
    """
    records = list(records)
    out_dir.mkdir(parents=True, exist_ok=True)
    analysis = analyze(records, resamples=resamples, seed=seed)
    analysis_json = out_dir / "analysis.json"
    analysis_json.write_text(analysis.model_dump_json(indent=1), encoding="utf-8")
    report_html = out_dir / "report.html"
    report_html.write_text(render_report(analysis, records, title=title, viewer_limit=viewer_limit, run=run),
                           encoding="utf-8")
    tables_md, tables_tex = write_tables(analysis, out_dir)
    try:
        parquet: Path | None = write_episodes_parquet(records, out_dir / "episodes.parquet")
    except ConfigError:  # pyarrow is the `parquet` extra; the rest of the report stands without it
        parquet = None
    return ReportFiles(cells_csv=write_cells_csv(analysis, out_dir / "cells.csv"), analysis_json=analysis_json,
                       episodes_parquet=parquet,
                       report_html=report_html, tables_md=tables_md, tables_tex=tables_tex, analysis=analysis)


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int,
           numeric_to: int | None = None, caption: str | None = None) -> Table:
    """A table that fits the terminal, 80 columns included: numbers (columns `numeric_from` up to, not including,
    `numeric_to`) are right-aligned and never cut, and the text columns fold to the width that is left. Text is
    never read as markup; title and caption wrap even on a console that soft-wraps its other lines."""
    table = Table(title=_wrapping(title), caption=None if caption is None else _wrapping(caption),
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    end = len(columns) if numeric_to is None else numeric_to
    for i, column in enumerate(columns):
        numeric = numeric_from <= i < end
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for row in rows:
        table.add_row(*map(escape, row))
    return table


def _wrapping(text: str) -> Text:
    return Text(text, no_wrap=False, overflow="fold")


def _labelled(label: str, mode: str) -> str:
    """A row's label with its protocol: referee-mode rows bare, others with `(paper)`, as relay curves do."""
    return label if mode == "referee" else f"{label} ({mode})"


def terminal_tables(analysis: Analysis) -> list[Table]:
    """Rich tables for the CLI: cells, then (where the run has them) gaps, ordering, relay curves, cost, errors.

    Intervals read `mean ± 1.96·SE` over `[bootstrap low, high]`; success rates also give their Wilson interval.
    Rows of paper-mode results say `(paper)` after their label, the rest are referee mode; published values
    appear only beside paper-mode pair cells. Every table fits 80 columns: labels fold, numbers stay whole.
    """
    def fmt(value: Estimate, percent: bool = False, signed: bool = False) -> str:
        return format_estimate(value, percent=percent, signed=signed).replace(" [", "\n[")

    def paper(value: PaperValue | None) -> str:
        return "—" if value is None else f"{value.mean:.2f} ± {value.ci95:.2f}"

    note = f"{analysis.policy_note}; flagged: of n, scored although an agent or the grader failed; errors: " \
           "platform errors, never scored"
    tables = [_table("Cells: weighted score, mean ± 1.96·SE [maze bootstrap]",
                     ("cell", "n", "flagged", "errors", "weighted", "paper"),
                     ((_labelled(c.label, c.mode), str(c.n), str(c.flagged), str(c.errors), fmt(c.weighted),
                       paper(c.paper_weighted)) for c in analysis.cells), 1, caption=note),
              _table("Cells: success rate, mean ± 1.96·SE [maze bootstrap] and Wilson 95%",
                     ("cell", "n", "success", "Wilson"),
                     ((_labelled(c.label, c.mode), str(c.n), fmt(c.success, percent=True), format_wilson(c.success))
                      for c in analysis.cells), 1)]
    if analysis.gaps:
        tables.append(_table("Collaboration gap: solo − homogeneous pair (weighted), paired on shared mazes",
                             ("player", "solo", "solo score", "pair score", "gap", "mazes"),
                             ((_labelled(g.player, g.mode), g.solo_condition.removeprefix("solo-"), fmt(g.solo),
                               fmt(g.pair), fmt(g.gap, signed=True), str(g.shared_mazes)) for g in analysis.gaps), 2))
    if analysis.ordering:
        tables.append(_table("Ordering effect: X opens − Y opens (weighted), paired on shared mazes",
                             ("X", "Y", "X opens", "Y opens", "effect", "mazes"),
                             ((e.player_x, _labelled(e.player_y, e.mode), fmt(e.x_opens), fmt(e.y_opens),
                               fmt(e.effect, signed=True), str(e.shared_mazes)) for e in analysis.ordering), 2))
    if analysis.relay_curves:
        tables.append(_table("Relay curves (weighted) by K", ("relay", "K", "n", "weighted"),
                             ((curve.label, str(p.k), str(p.n), fmt(p.weighted))
                              for curve in analysis.relay_curves for p in curve.points), 1))
    if any(c.tokens or c.cost_usd for c in analysis.cells):
        tables.append(_table("Tokens and cost (every attempt and the grader)",
                             ("cell", "episodes", "tokens", "tokens/ep", "cost $", "$/episode"),
                             ((_labelled(c.label, c.mode), str(c.episodes), str(c.tokens),
                               f"{c.tokens_per_episode or 0:.0f}", f"{c.cost_usd:.4f}",
                               f"{c.cost_usd_per_episode or 0:.6f}") for c in analysis.cells), 1))
    if any(a.errors for a in analysis.agent_errors):
        tables.append(_table("Errors per agent: its own failures, scored and flagged",
                             ("agent", "episodes", "failures", "excluded", "rate", "kinds"),
                             ((a.agent, str(a.episodes), str(a.errors), str(a.excluded),
                               "—" if a.rate is None else f"{a.rate:.1%}",
                               ", ".join(f"{k} {v}" for k, v in a.kinds.items())) for a in analysis.agent_errors),
                             1, numeric_to=5, caption=analysis.policy_note))
    if analysis.errors:
        tables.append(_table("Platform errors (never scored)", ("kind", "episodes"),
                             ((kind, str(count)) for kind, count in analysis.platform_errors.items()), 1))
    return tables
