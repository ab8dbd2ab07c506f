"""The `collabgap` commands that play games: `demo`, `run` and `play`, with what they print as they go.

Their services are imported inside each command, never at the top: `collabgap --help` imports this module.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ._cli_common import console, err

if TYPE_CHECKING:
    from rich.progress import Progress

    from collabgap.services.coordinator import Cell, EpisodeRecord, MessageRecord


def _fmt(value: float | None, ci: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" + (f" ± {ci:.3f}" if ci is not None else "")


def _progress(*more_text: str, transient: bool = False) -> Progress:
    """The progress bar of long commands, on stderr: description, bar, done/total, elapsed, then `more_text`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    *(TextColumn(text) for text in more_text), console=err, transient=transient)


def cells_table(cells: list[Cell]) -> Table:
    """The demo's cells; fits 80 columns as the report's tables do: names fold, numbers stay whole."""
    table = Table(title="collabgap results (weighted score, mean ± 95% CI)", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, collapse_padding=True)
    for column in ("condition", "seat A", "seat B", "n", "errors", "weighted", "success"):
        numeric = column in ("n", "errors", "weighted", "success")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for cell in cells:
        table.add_row(cell.condition, cell.seat_a, cell.seat_b or "—", str(cell.n), str(cell.errors),
                      _fmt(cell.weighted.mean, cell.weighted.ci95),
                      "—" if cell.success.mean is None else f"{cell.success.mean:.0%}")
    return table


def demo(
    mazes: Annotated[int, typer.Option(min=1, help="Mazes per cell.")] = 20,
    concurrency: Annotated[int, typer.Option(min=1)] = 8,
    seed: int = 0,
    runs_dir: Annotated[Path, typer.Option(help="Where the run folder is created.")] = Path("runs"),
    referee: Annotated[str | None, typer.Option(help="Referee MCP URL (token from COLLABGAP_REFEREE_TOKEN); "
                                                     "default: start one.")] = None,
) -> None:
    """Benchmark the built-in scripted players: every one solo, every ordered pair, on real services, into
    RUNS_DIR/demo-<time>/store.db (platform errors are retried, as in `run`)."""
    from collabgap.services.coordinator import DemoSettings, RunProgress, run_demo

    settings = DemoSettings(mazes=mazes, concurrency=concurrency, seed=seed, runs_dir=runs_dir, referee=referee)
    with _progress(transient=True) as bar:
        task = bar.add_task("starting services", total=None)

        def show(p: RunProgress) -> None:
            bar.update(task, total=p.planned, completed=p.done, description="playing episodes")

        try:
            result = run_demo(settings, on_plan=show, progress=RunProgress(listeners=[show]))
        except KeyboardInterrupt:
            err.print("Interrupted before any episode started; nothing was stored.")
            raise typer.Exit(code=130) from None
    console.print(cells_table(result.cells))
    _print_errors(result.records)
    console.print(f"Store: {result.outcome.store_url}  (tables and charts: collabgap report {result.run_dir}; "
                  f"browse: collabgap view {runs_dir})", markup=False)
    if result.outcome.interrupted:
        console.print("Interrupted: nothing was stored of the episodes in flight.")
        raise typer.Exit(code=130)
    raise typer.Exit(code=1 if result.outcome.errors else 0)


def _print_errors(records: list[EpisodeRecord], shown: int = 10) -> None:
    """Each platform error retried or left, with its reason (the first `shown` of each)."""
    retried = [(record.spec.episode_id, attempt.error) for record in records for attempt in record.attempts]
    left = [(record.spec.episode_id, record.error) for record in records
            if record.status == "error" and record.error is not None]
    for title, errors in (("Retried after a platform error", retried), ("Platform error (not scored)", left)):
        for episode_id, error in errors[:shown]:
            console.print(f"{title}: {episode_id}: {error.kind}: {error.message}", markup=False)
        if len(errors) > shown:
            console.print(f"{title}: {len(errors) - shown} more (collabgap view shows them all)", markup=False)


def run_command(
    file: Annotated[Path, typer.Argument(help="The run file (TOML).", exists=True, dir_okay=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and its size; start nothing.")] = False,
    ray: Annotated[str | None, typer.Option("--ray", help="Spread episodes over the Ray cluster at this address "
                                                          "(e.g. auto, or ray://head:10001).")] = None,
    retry_errors: Annotated[bool, typer.Option("--retry-errors", help="Replay the stored platform errors; each new "
                                               "record keeps the earlier attempts.")] = False,
) -> None:
    """Run the experiment in FILE into its store, skipping every episode already stored (so a killed run resumes).

    Runners started on the same store share the plan. Ctrl-C stores nothing of the episodes in flight (exit 130).
    """
    from collabgap.services.coordinator import RunProgress, execute_run, load_run_file, masked_url, plan_run, run_paths
    from collabgap.services.coordinator.scale import RayBackend

    run = load_run_file(file)
    if dry_run:
        plan = plan_run(run, file)
        table = Table(title=f"plan of run {run.name!r}: {len(plan)} episodes")
        for column in ("condition", "mode", "episodes"):
            table.add_column(column)
        counts: dict[tuple[str, str], int] = {}
        for spec in plan:
            kind = f"relay-{spec.relay.kind}" if spec.relay else spec.condition
            counts[(kind, spec.mode)] = counts.get((kind, spec.mode), 0) + 1
        for (kind, mode), count in counts.items():
            table.add_row(kind, mode, str(count))
        console.print(table)
        local = [f"{name} ({agent.player})" for name, agent in run.agents.items() if agent.player]
        console.print(f"Agents started by the run: {', '.join(local) or 'none'}")
        console.print(f"Store: {masked_url(run_paths(run, file)[1])}")
        counted = "scored and counted in n" if run.errors.agent == "score" else "left out of n"
        console.print(f"An agent's own failure: {counted} ([errors] agent = {run.errors.agent!r})", markup=False)
        raise typer.Exit(code=0)
    with _progress("{task.fields[stats]}") as bar:
        task = bar.add_task("starting services", total=None, stats="")
        started = time.monotonic()

        def show(p: RunProgress) -> None:
            rate = (p.done - stored[0]) / max(time.monotonic() - started, 1e-9)
            bar.update(task, total=p.planned, completed=p.done, description="episodes",
                       stats=f"{rate:.2f}/s · errors {p.errors} · retries {p.retries} · "
                             f"tokens {p.tokens} · ${p.cost_usd:.4f}")

        stored = [0]

        def planned(p: RunProgress) -> None:
            stored[0] = p.done
            for name, page in p.human_pages.items():
                bar.console.print(f"Agent {name} is a person: open {page} to play its seat.", markup=False,
                                  highlight=False)
            show(p)

        progress = RunProgress(listeners=[show])
        try:
            backend = None if ray is None else RayBackend(ray)
            outcome = execute_run(run, file, on_plan=planned, progress=progress, backend=backend,
                                  retry_errors=retry_errors)
        except KeyboardInterrupt:
            err.print("Interrupted before any episode started; nothing was stored.")
            raise typer.Exit(code=130) from None
    elsewhere = f", {outcome.elsewhere} played or claimed by another runner" if outcome.elsewhere else ""
    console.print(f"Run {outcome.run_id}: {outcome.planned} planned, {outcome.already_stored} already stored, "
                  f"{outcome.played} played now, {outcome.errors} errors (platform errors that persisted after "
                  f"retries, kept apart from scores){elsewhere}.")
    if outcome.errors or outcome.skipped_errors:
        console.print(f"Stored platform errors: {outcome.errors + outcome.skipped_errors}; replay them with "
                      "--retry-errors.")
    if outcome.interrupted:
        console.print("Interrupted: nothing was stored of the episodes in flight; run again to play them.")
    if outcome.budget_reached:
        console.print(f"Stopped early: {outcome.budget_reached}. Raise the cap and run again to continue.")
    console.print(f"Store: {outcome.store_url}")
    if outcome.interrupted:
        raise typer.Exit(code=130)
    finished = not outcome.budget_reached and outcome.already_stored + outcome.played + outcome.elsewhere >= \
        outcome.planned
    raise typer.Exit(code=0 if finished and not outcome.errors else 1)


def print_message(message: MessageRecord, label: str) -> None:
    """One relayed message: its seat, the agent holding it, its number and vote, then its text."""
    vote = escape(f"  [vote: {message.vote}]") if message.vote else ""
    console.print(f"[bold]{message.seat}[/bold] · {escape(label)} #{message.index + 1}{vote}")
    console.print(message.text, markup=False, highlight=False)


def print_outcome(record: EpisodeRecord) -> None:
    """How a game ended: its errors with their reasons, its score, graded route and tokens."""
    _print_errors([record])
    if record.error is not None and not record.error.platform:  # blamed on an agent or the grader: still scored
        console.print(f"ERROR ({record.error.kind}, seat {record.error.seat}, blame {record.error.blame}): "
                      f"{record.error.message}", markup=False)
    if record.score is not None:
        s = record.score
        console.print(f"Outcome: {record.status} ({record.end_reason}); weighted score {s.weighted:.3f}; "
                      f"{s.moves} moves (optimal {s.optimal_length}); {s.conflicts} conflicts")
        if record.grading is not None:
            console.print(f"Graded route ({record.grading.convention}): {', '.join(record.grading.route)}",
                          markup=False)
        if record.tokens.total:
            console.print(f"Tokens: {record.tokens.total}; cost ${record.cost_usd:.6f}")


def play(
    a: Annotated[str | None, typer.Option("--a", help="Seat A's agent base URL.")] = None,
    b: Annotated[str | None, typer.Option("--b", help="Seat B's agent base URL (pair only).")] = None,
    seat: Annotated[list[str], typer.Option("--seat", help="An agent base URL for the next seat (A, B, C, …; "
                                                           "repeatable): two make a pair, three to six a team; "
                                                           "instead of --a/--b.")] = [],  # noqa: B006
    referee: Annotated[str | None, typer.Option(help="Referee MCP URL; token from COLLABGAP_REFEREE_TOKEN.")] = None,
    seed: int = 0,
    size: Annotated[int, typer.Option(min=3, max=30)] = 6,
    condition: Annotated[Literal["pair", "solo-full", "solo-split", "team"] | None,
                         typer.Option(help="Default: pair, or team with three --seat or more.")] = None,
    feedback: Literal["none", "position"] = "none",
    message_limit: Annotated[int, typer.Option(min=1)] = 50,
    mode: Annotated[Literal["referee", "paper"], typer.Option(help="paper: free dialogue, then a grader.")] = "referee",
    grader: Annotated[str | None, typer.Option(help="Paper mode: the grading agent's base URL.")] = None,
    turn_timeout: Annotated[float, typer.Option(help="Seconds an agent has for each reply.")] = 120.0,
    prompts: Annotated[Path | None, typer.Option(help="Folder of replacement prompt templates.")] = None,
    prices: Annotated[Path | None, typer.Option(help="Replacement price table (TOML).")] = None,
    a_token_env: Annotated[str | None, typer.Option(help="The variable holding seat A's bearer token.")] = None,
    b_token_env: Annotated[str | None, typer.Option(help="The variable holding seat B's bearer token.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where the run folder is created.")] = Path("runs"),
) -> None:
    """Play one game, printing each message as it is relayed, into RUNS_DIR/play-<time>/store.db (starts its own
    referee when none is given; platform errors are retried, as in `run`)."""
    from collabgap.services.coordinator import PlaySettings, run_play
    from collabgap.services.coordinator.runs._play import seat_labels
    from collabgap.services.shared import SECRET_VARIABLES

    if seat and (a is not None or b is not None):
        raise typer.BadParameter("give the seats with --seat or with --a/--b, not both", param_hint="--seat")
    if seat:
        if len(seat) > 6:
            raise typer.BadParameter("a team has at most six seats", param_hint="--seat")
        a, b, more_seats = seat[0], seat[1] if len(seat) > 1 else None, seat[2:]
        condition = condition or ("team" if more_seats else "pair" if b else "solo-full")
    else:
        more_seats, condition = [], condition or "pair"
    if a is None:
        raise typer.BadParameter("name seat A's agent with --a URL (or each seat with --seat URL)", param_hint="--a")
    if condition == "pair" and b is None:
        raise typer.BadParameter("a pair needs --b", param_hint="--b")
    if (condition == "team") != bool(more_seats):
        raise typer.BadParameter("a team needs three to six --seat URLs, and three or more make a team",
                                 param_hint="--seat")
    if mode == "paper" and grader is None:
        raise typer.BadParameter("paper mode needs --grader URL", param_hint="--grader")
    # as a run file's `token_env`: a variable's name, its value read by the run
    for url, variable, option in ((a, a_token_env, "--a-token-env"), (b, b_token_env, "--b-token-env")):
        if url is not None and variable is not None and not os.environ.get(variable):
            raise typer.BadParameter(f"{variable} is not set", param_hint=option)
    referee_token = SECRET_VARIABLES["referee"][1]
    if referee is not None and not os.environ.get(referee_token):
        raise typer.BadParameter(f"set {referee_token} to use --referee", param_hint="--referee")
    settings = PlaySettings(a=a, b=b, more_seats=more_seats, a_token_env=a_token_env,
                            b_token_env=b_token_env if b else None,
                            referee=referee, grader=grader, seed=seed, size=size, condition=condition,
                            feedback=feedback, message_limit=message_limit, mode=mode, turn_timeout_s=turn_timeout,
                            prompts_dir=prompts, prices_file=prices, runs_dir=runs_dir)
    labels = asyncio.run(seat_labels(settings))
    for letter, url in settings.seats().items():
        console.print(f"Seat {letter}: {labels[letter]} ({url})", markup=False)
    try:
        result = run_play(settings, on_message=lambda spec, message: print_message(message, labels[message.seat]))
    except KeyboardInterrupt:
        err.print("Interrupted before the game started; nothing was stored.")
        raise typer.Exit(code=130) from None
    if result.record is None:
        console.print("Interrupted: the game was not stored.")
        raise typer.Exit(code=130)
    print_outcome(result.record)
    console.print(f"Store: {result.outcome.store_url}  (collabgap report {result.outcome.run_dir}; "
                  f"collabgap view {runs_dir})", markup=False)
    record = result.record
    raise typer.Exit(code=1 if record.error is not None and record.error.platform else 0)  # agents' failures score
