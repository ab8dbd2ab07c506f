"""Reports of a run: CSV, JSON and Parquet exports, a self-contained HTML page, and terminal tables.

    files = build_report(records, Path("runs/demo/report"))
    for table in terminal_tables(files.analysis):
        console.print(table)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict
from rich.markup import escape
from rich.table import Table

from ._analysis import Analysis, Cell, PaperValue, analyze, maze_facts
from ._records import EpisodeRecord
from ._report_html import format_estimate, format_wilson, render_report
from ._stats import RESAMPLES, SEED, Estimate, counted

EPISODE_SCHEMA = pa.schema([
    ("episode_id", pa.string()), ("game_id", pa.string()), ("attempt", pa.int64()), ("repetition", pa.int64()),
    ("condition", pa.string()), ("mode", pa.string()), ("seat_a", pa.string()), ("seat_b", pa.string()),
    ("relay_kind", pa.string()), ("relay_k", pa.int64()), ("relay_seat_a", pa.string()),
    ("relay_seat_b", pa.string()), ("maze_id", pa.string()), ("status", pa.string()), ("end_reason", pa.string()),
    ("error_kind", pa.string()), ("error_seat", pa.string()), ("error_blame", pa.string()), ("flagged", pa.bool_()),
    ("counted", pa.bool_()), ("weighted", pa.float64()), ("success", pa.bool_()), ("moves", pa.int64()),
    ("optimal_length", pa.int64()), ("wall_fraction", pa.float64()), ("conflicts", pa.int64()),
    ("messages", pa.int64()),
    ("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64()), ("tokens", pa.int64()),
    ("cost_usd", pa.float64()), ("duration_s", pa.float64()),
])
"""One row per episode in `episodes.parquet`; score columns are null for platform errors. `flagged`: scored
although an agent or the grader failed; `counted`: in n under the run's agent-error policy."""

CELL_COLUMNS = [
    "condition", "mode", "seat_a", "seat_b", "relay_kind", "relay_k", "relay_seat_a", "relay_seat_b", "models_a",
    "models_b", "episodes", "n", "flagged", "excluded", "failure_kinds", "errors", "error_kinds", "mazes",
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
    episodes_parquet: Path
    report_html: Path
    analysis: Analysis


def episode_row(record: EpisodeRecord) -> dict[str, object]:
    """One episode as a flat row of `EPISODE_SCHEMA`."""
    spec, relay, score, error = record.spec, record.spec.relay, record.score, record.error
    prompt, completion = record.tokens
    return {
        "episode_id": spec.episode_id, "game_id": record.game_id, "attempt": record.attempt,
        "repetition": spec.repetition, "condition": spec.condition, "mode": spec.mode, "seat_a": spec.seat_a.name,
        "seat_b": spec.seat_b.name if spec.seat_b else None, "relay_kind": relay.kind if relay else None,
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
        "messages": len(record.messages), "prompt_tokens": prompt, "completion_tokens": completion,
        "tokens": prompt + completion, "cost_usd": record.cost_usd, "duration_s": record.duration_s,
    }


def write_episodes_parquet(records: Iterable[EpisodeRecord], path: Path) -> Path:
    """Write one row per episode (see `EPISODE_SCHEMA`) to `path`."""
    pq.write_table(pa.Table.from_pylist([episode_row(r) for r in records], schema=EPISODE_SCHEMA), path)
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
                                   "relay_seat_b", "episodes", "n", "flagged", "excluded", "errors", "mazes",
                                   "wall_fraction", "optimal_length", "messages_mean",
                                   "prompt_tokens", "completion_tokens", "tokens", "tokens_per_episode", "cost_usd",
                                   "cost_usd_per_episode"}),
        "models_a": ";".join(cell.models_a), "models_b": ";".join(cell.models_b),
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
                 title: str = "collabgap report", viewer_limit: int = 2000) -> ReportFiles:
    """Analyse `records` and write `cells.csv`, `analysis.json`, `episodes.parquet` and `report.html` to `out_dir`.

    The HTML page needs no network: its styles, scripts and charts are inline. Its transcript viewer holds at
    most `viewer_limit` episodes (the first ones), to keep the page small.
    """
    records = list(records)
    out_dir.mkdir(parents=True, exist_ok=True)
    analysis = analyze(records, resamples=resamples, seed=seed)
    analysis_json = out_dir / "analysis.json"
    analysis_json.write_text(analysis.model_dump_json(indent=1), encoding="utf-8")
    report_html = out_dir / "report.html"
    report_html.write_text(render_report(analysis, records, title=title, viewer_limit=viewer_limit),
                           encoding="utf-8")
    return ReportFiles(cells_csv=write_cells_csv(analysis, out_dir / "cells.csv"), analysis_json=analysis_json,
                       episodes_parquet=write_episodes_parquet(records, out_dir / "episodes.parquet"),
                       report_html=report_html, analysis=analysis)


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int,
           numeric_to: int | None = None, caption: str | None = None) -> Table:
    """Columns `numeric_from` up to (not including) `numeric_to` are right-aligned; text is never read as markup."""
    table = Table(title=escape(title), caption=None if caption is None else escape(caption))
    end = len(columns) if numeric_to is None else numeric_to
    for i, column in enumerate(columns):
        table.add_column(column, justify="right" if numeric_from <= i < end else "left")
    for row in rows:
        table.add_row(*map(escape, row))
    return table


def terminal_tables(analysis: Analysis) -> list[Table]:
    """Rich tables for the CLI: cells, then (where the run has them) gaps, ordering, relay curves, cost, errors.

    Intervals read `mean ± 1.96·SE [bootstrap low, high]`; success rates also give their Wilson interval. Each
    row names its protocol (referee or paper); published values appear only beside paper-mode pair cells.
    """
    fmt = format_estimate

    def paper(value: PaperValue | None) -> str:
        return "—" if value is None else f"{value.mean:.2f} ± {value.ci95:.2f}"

    tables = [_table("Cells: weighted score and success, mean ± 1.96·SE [maze bootstrap]",
                     ("cell", "protocol", "n", "flagged", "errors", "weighted", "success", "success Wilson",
                      "paper weighted"),
                     ((c.label, c.mode, str(c.n), str(c.flagged), str(c.errors), fmt(c.weighted),
                       fmt(c.success, percent=True), format_wilson(c.success), paper(c.paper_weighted))
                      for c in analysis.cells), 2,
                     caption=f"{analysis.policy_note}; flagged: of n, scored although an agent or the grader "
                             f"failed; errors: platform errors, never scored")]
    if analysis.gaps:
        tables.append(_table("Collaboration gap: solo − homogeneous pair (weighted), paired on shared mazes",
                             ("player", "protocol", "solo", "solo score", "pair score", "gap", "shared mazes"),
                             ((g.player, g.mode, g.solo_condition, fmt(g.solo), fmt(g.pair), fmt(g.gap),
                               str(g.shared_mazes)) for g in analysis.gaps), 3))
    if analysis.ordering:
        tables.append(_table("Ordering effect: X opens − Y opens (weighted), paired on shared mazes",
                             ("X", "Y", "protocol", "X opens", "Y opens", "effect", "shared mazes"),
                             ((e.player_x, e.player_y, e.mode, fmt(e.x_opens), fmt(e.y_opens), fmt(e.effect),
                               str(e.shared_mazes)) for e in analysis.ordering), 3))
    if analysis.relay_curves:
        tables.append(_table("Relay curves (weighted) by K", ("relay", "K", "n", "weighted"),
                             ((curve.label, str(p.k), str(p.n), fmt(p.weighted))
                              for curve in analysis.relay_curves for p in curve.points), 1))
    if any(c.tokens or c.cost_usd for c in analysis.cells):
        tables.append(_table("Tokens and cost (every attempt and the grader)",
                             ("cell", "protocol", "episodes", "tokens", "tokens/episode", "cost $", "cost $/episode"),
                             ((c.label, c.mode, str(c.episodes), str(c.tokens), f"{c.tokens_per_episode or 0:.0f}",
                               f"{c.cost_usd:.4f}", f"{c.cost_usd_per_episode or 0:.6f}") for c in analysis.cells), 2))
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
