"""The `collabgap` commands that read what runs stored or check an agent: `report`, `export`, `view` and
`check-agent`.

Their services are imported inside each command, never at the top: `collabgap --help` imports this module.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from ._cli_common import Host, Port, console, err


def report(
    run: Annotated[Path, typer.Argument(help="A run folder holding store.db (from run, demo or play).")],
    store: Annotated[str | None, typer.Option(help="Store URL instead of the folder's store.db (PostgreSQL).")] = None,
    run_id: Annotated[str | None, typer.Option(help="Run id in the store (default: the folder's name).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the report (default: RUN/report).")] = None,
    figures: Annotated[Path | None, typer.Option(help="Also write the figures (matplotlib) to this folder.")] = None,
    formats: Annotated[str, typer.Option("--format", help="Figure formats, comma-separated: png, svg, pdf.")] = (
        "png,svg,pdf"),
) -> None:
    """Tables in the terminal; CSV, JSON, Parquet, Markdown and LaTeX tables, a static HTML report with a
    transcript viewer, and (with --figures) the figures as PNG, SVG and PDF."""
    from collabgap.services.coordinator import build_report, load_records, terminal_tables
    from collabgap.services.coordinator.report._figures import parse_formats, write_figures
    from collabgap.services.coordinator.report._report import PARQUET_EXTRA
    from collabgap.services.coordinator.report._store_reader import StoreReader

    figure_formats = parse_formats(formats)
    name = run_id or run.name
    records = load_records(run, store, name)
    url = store or (f"sqlite:///{run / 'store.db'}" if (run / "store.db").is_file() else None)
    stored = None
    if url is not None:
        with StoreReader.open(url) as reader:
            stored = next((info for info in reader.runs() if info.run_id == name), None)
    files = build_report(records, out or run / "report", title=f"collabgap report: {name}", run=stored)
    for table in terminal_tables(files.analysis):
        console.print(table)
    console.print(f"HTML report: {files.report_html}")
    data = (files.cells_csv, files.analysis_json, files.episodes_parquet)
    console.print(f"Data: {', '.join(str(path) for path in data if path is not None)}")
    if files.episodes_parquet is None:
        console.print(f"No episodes.parquet: {PARQUET_EXTRA}", markup=False)
    console.print(f"Tables for papers: {files.tables_md}, {files.tables_tex}")
    if figures is not None:
        written = write_figures(files.analysis, figures, figure_formats)
        console.print(f"Figures: {', '.join(str(path) for path in written) or 'none (nothing to draw)'}")


_LEFT_OUT_EPISODES = {
    "platform_error": "episodes with a platform error (never exported)",
    "agent_failure": "episodes where an agent or the grader failed (--include-agent-failures takes them)",
    "filtered": "episodes not matching the filters",
}
_LEFT_OUT_SEATS = {
    "filtered": "seats not matching --seat",
    "no_messages": "seats that wrote nothing",
    "no_model_input": "seats whose agent reported no model input (scripted players, most third-party agents)",
    "incomplete_model_input": "seats whose model input misses a report, so the request cannot be rebuilt",
    "transcript_mismatch": "seats whose reported requests do not hold the messages they wrote",
}


def export(
    run: Annotated[Path, typer.Argument(help="A run folder (`run`, `demo` or `play`), holding its store.db.")],
    format_: Annotated[Literal["chat-jsonl"], typer.Option("--format", help="chat-jsonl: one OpenAI chat "
                                                           "example per seat per episode.")] = "chat-jsonl",
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout).")] = None,
    min_score: Annotated[float | None, typer.Option(help="Only episodes with at least this weighted score.")] = None,
    seat: Annotated[Literal["A", "B", "C", "D", "E", "F"] | None, typer.Option(help="Only this seat.")] = None,
    condition: Annotated[list[str], typer.Option(help="Only this condition: pair, team, solo-full or solo-split "
                                                      "(repeatable).")] = [],  # noqa: B006
    include_agent_failures: Annotated[bool, typer.Option("--include-agent-failures", help="Also episodes scored "
                                                         "although an agent or the grader failed.")] = False,
    store: Annotated[str | None, typer.Option(help="Store URL instead of the folder's store.db (PostgreSQL).")] = None,
    run_id: Annotated[str | None, typer.Option(help="Run id in the store (default: the folder's name).")] = None,
) -> None:
    """Training data: each seat's conversation exactly as its model saw it, with its final reply, as JSON lines
    (docs/export.md)."""
    from collabgap.services.coordinator import ExportOptions, ExportTally, chat_examples, load_records, write_jsonl

    name = run_id or run.name
    options = ExportOptions(min_score=min_score, seats=frozenset([seat]) if seat else None,
                            conditions=frozenset(condition) or None, agent_failures=include_agent_failures)
    tally = ExportTally()
    examples = chat_examples(load_records(run, store, name), name, options, tally)
    if out is None:
        written = write_jsonl(examples, sys.stdout)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as sink:
            written = write_jsonl(examples, sink)
    err.print(f"Exported {written} examples of run {name} to {out or 'stdout'}.", markup=False)
    left_out = [f"{_LEFT_OUT_EPISODES[reason]}: {count}" for reason, count in tally.episodes.items()]
    left_out += [f"{_LEFT_OUT_SEATS[reason]}: {count}" for reason, count in tally.seats.items()]
    if left_out:
        err.print("Left out: " + "; ".join(left_out) + ".", markup=False)


def view(
    source: Annotated[str, typer.Argument(help="A runs folder, one run folder, or a store URL (PostgreSQL).")] = "runs",
    host: Host = "127.0.0.1",
    port: Port = 8750,
) -> None:
    """Browse runs in a local web app, read-only: progress (live), tables and figures, episodes filtered and
    searched, each with its maps, replay and transcript."""
    from collabgap.services._serve import serve
    from collabgap.services.coordinator.report._view import LOOPBACK_HOSTS, ViewSource, create_view_app

    app_ = create_view_app(ViewSource(source), allowed_hosts=LOOPBACK_HOSTS if host in ("127.0.0.1", "localhost",
                                                                                         "::1") else ("*",))
    err.print(f"collabgap view of {source}: http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/ "
              "(Ctrl-C stops it)", markup=False)
    serve(app_, host, port)


def check_agent_command(
    url: Annotated[str, typer.Argument(help="The agent's base URL (its card is at /.well-known/agent-card.json).")],
    token_env: Annotated[str | None, typer.Option(help="The variable holding a bearer token for the agent.")] = None,
    deadline: Annotated[float, typer.Option(min=0.1, help="Seconds each probe may take.")] = 10.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
) -> None:
    """Check that an agent can take a collabgap seat: its card, its interfaces, and a short scripted game."""
    from collabgap.services.coordinator import check_agent, check_report_json, render_check_report

    token = None
    if token_env is not None:
        token = os.environ.get(token_env)
        if not token:
            raise typer.BadParameter(f"{token_env} is not set", param_hint="--token-env")
    result = asyncio.run(check_agent(url, token=token, deadline_s=deadline))
    if json_out:
        print(check_report_json(result))  # noqa: T201 - machine-readable output for scripts
    else:
        console.print(render_check_report(result))
        console.print("PASS" if result.passed else "FAIL: see the fixes above")
    raise typer.Exit(code=0 if result.passed else 1)
