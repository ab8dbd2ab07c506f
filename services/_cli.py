"""The one `collabgap` command: a thin skin over the Python API (parse, build settings, call, render, exit).

`--help` and `--version` must stay fast: the services (a2a, mcp, uvicorn, SQLAlchemy, numpy, httpx, pyarrow and
our own packages) are imported inside the commands that use them, never at the top of this module.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    import uvicorn
    from rich.progress import Progress

    from collabgap.services.coordinator import CellSummary, EpisodeRecord, MessageRecord

REFEREE_TOKEN_ENV = "COLLABGAP_REFEREE_TOKEN"
PUBLIC_URL_DEADLINE_S = 15.0
AGENT_TOKEN_ENV = "COLLABGAP_AGENT_TOKEN"
FAKE_KEY_ENV = "COLLABGAP_FAKE_LLM_KEY"

app = typer.Typer(help="collabgap: measure how well AI agents collaborate.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
referee_app = typer.Typer(help="The referee (MCP server).", no_args_is_help=True)
agent_app = typer.Typer(help="An agent service (A2A server).", no_args_is_help=True)
app.add_typer(referee_app, name="referee")
app.add_typer(agent_app, name="agent")
human_app = typer.Typer(help="A seat played by a person in a web browser (A2A server and web page).",
                        no_args_is_help=True)
app.add_typer(human_app, name="human")
fake_app = typer.Typer(help="The fake LLM vendor (OpenAI and Anthropic APIs), for tests and trying without a key.",
                       no_args_is_help=True)
app.add_typer(fake_app, name="fake-llm")
assessor_app = typer.Typer(help="The coordinator as an A2A agent (AgentBeats assessor).", no_args_is_help=True)
app.add_typer(assessor_app, name="assessor")
console = Console(soft_wrap=True)  # tables fit the terminal; a long line (a path, a URL) is never cut
err = Console(stderr=True)


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"collabgap {version('collabgap')}")  # noqa: T201 - the one line scripts parse
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                               callback=_print_version)] = False,
) -> None:
    """collabgap: measure how well AI agents collaborate."""

Host = Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 unless you mean to expose it.")]
Port = Annotated[int, typer.Option(min=1, max=65535)]
PublicUrl = Annotated[str | None, typer.Option(help="Base URL others reach this service at (containers).")]


def _serve(asgi: object, host: str, port: int, public_url: str | None = None) -> None:
    """Serve until stopped; with a public URL, first prove that it reaches this very service.

    Raises:
        ConfigError: the port could not be bound, or the public URL does not lead here.
    """
    asyncio.run(_serve_checked(asgi, host, port, public_url))


async def _serve_checked(asgi: object, host: str, port: int, public_url: str | None) -> None:
    import uvicorn

    from collabgap.services.coordinator import ConfigError

    server = uvicorn.Server(uvicorn.Config(asgi, host=host, port=port, log_level="warning"))  # type: ignore[arg-type]
    serving = asyncio.create_task(server.serve())
    if public_url:
        problem = await _probe_public_url(server, serving, public_url.rstrip("/"))
        if problem:
            server.should_exit = True
            await serving
            raise ConfigError(f"--public-url {public_url} does not reach this service: {problem}")
    await serving  # a port that cannot be bound makes uvicorn say so and exit with status 3
    if not server.started:
        raise ConfigError(f"cannot serve on {host}:{port}; is the port already taken?")


async def _probe_public_url(server: uvicorn.Server, serving: asyncio.Task[None], url: str) -> str | None:
    import httpx

    deadline = time.monotonic() + PUBLIC_URL_DEADLINE_S
    while not server.started and not serving.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    problem = "the service did not start"
    async with httpx.AsyncClient(timeout=2.0) as http:
        while server.started and time.monotonic() < deadline:
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return None
                problem = "its /healthz does not answer 200"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.2)
    return problem


@referee_app.command("serve")
def referee_serve(host: Host = "127.0.0.1", port: Port = 8760, public_url: PublicUrl = None) -> None:
    """Serve the referee over streamable HTTP at /mcp. The coordinator token comes from COLLABGAP_REFEREE_TOKEN."""
    from pydantic import SecretStr

    from collabgap.referee import RefereeSettings, create_referee_app
    from collabgap.services.coordinator import ConfigError

    token = os.environ.get(REFEREE_TOKEN_ENV)
    if not token and public_url:
        raise ConfigError(f"set {REFEREE_TOKEN_ENV}: a referee others reach at {public_url} needs a known token")
    if not token:
        token = secrets.token_urlsafe(24)
        err.print(f"{REFEREE_TOKEN_ENV} is unset; coordinator token for this run: {token}")
    settings = RefereeSettings(coordinator_token=SecretStr(token), public_url=public_url)
    _serve(create_referee_app(settings), host, port, public_url)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} must look like NAME=VALUE, got {value!r}")
        pairs[key.strip()] = item.strip()
    return pairs


@agent_app.command("serve")
def agent_serve(
    player: Annotated[str, typer.Option(help="scripted:cartographer, scripted:follower, openai:<model> or "
                                             "anthropic:<model> (or openai/<model>, anthropic/<model>).")],
    host: Host = "127.0.0.1", port: Port = 8770, public_url: PublicUrl = None,
    base_url: Annotated[str | None, typer.Option(help="LLM: the API base URL (default: the vendor's).")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="LLM: the NAME of the variable holding the key.")] = None,
    temperature: Annotated[float | None, typer.Option(help="LLM: sampling temperature.")] = None,
    max_tokens: Annotated[int, typer.Option(help="LLM: maximum tokens per reply.")] = 2048,
    reasoning_effort: Annotated[str | None, typer.Option(help="LLM (OpenAI reasoning models): effort.")] = None,
    header: Annotated[list[str], typer.Option(help="LLM: extra request header NAME=VALUE, or NAME=env:VAR to "
                                                   "read its value from VAR (repeatable).")] = [],  # noqa: B006
    body: Annotated[str, typer.Option(help="LLM: extra JSON object merged into each request body.")] = "{}",
    timeout: Annotated[float, typer.Option(help="LLM: seconds per request.")] = 120.0,
    max_retries: Annotated[int, typer.Option(help="LLM: retries on 429, 5xx, timeouts, garbled answers.")] = 5,
    backoff: Annotated[float, typer.Option(help="LLM: first backoff in seconds (doubles per retry).")] = 0.5,
    max_concurrency: Annotated[int, typer.Option(help="LLM: requests in flight to the endpoint.")] = 8,
    system_prompt: Annotated[Path | None, typer.Option(help="LLM: replacement system prompt file.")] = None,
    referee_direct: Annotated[bool, typer.Option("--referee-direct", help="LLM: vote by calling the referee's MCP "
                                                 "tools (declares urn:collabgap:referee-mcp:v1).")] = False,
    max_body: Annotated[int, typer.Option(min=1, help="Bytes a request body may hold; larger: 413.")] = 1 << 20,
) -> None:
    """Serve one player as an A2A agent. Set COLLABGAP_AGENT_TOKEN to require a bearer token."""
    from pydantic import SecretStr

    from collabgap.services.agent import AgentSettings, RetryPolicy, VendorSpec, create_agent_app, parse_player

    token = os.environ.get(AGENT_TOKEN_ENV)
    kind, model = parse_player(player)
    vendor = None
    if kind == "openai" or kind == "anthropic":
        vendor = VendorSpec(kind=kind, model=model, base_url=base_url, api_key_env=api_key_env,
                            temperature=temperature, max_tokens=max_tokens, reasoning_effort=reasoning_effort,
                            extra_headers=_pairs(header, "--header"), extra_body=json.loads(body),
                            timeout_s=timeout, max_concurrency=max_concurrency,
                            retry=RetryPolicy(max_retries=max_retries, backoff_s=backoff))
        vendor.api_key()  # fail now, not at the first game, when the key or a header's variable is missing
        vendor.headers()
    settings = AgentSettings(player=f"{kind}:{model}", vendor=vendor, system_prompt=system_prompt,
                             referee_direct=referee_direct, public_url=public_url or f"http://{host}:{port}",
                             token=SecretStr(token) if token else None, max_body=max_body)
    _serve(create_agent_app(settings), host, port, public_url)


@human_app.command("serve")
def human_serve(
    host: Host = "127.0.0.1", port: Port = 8790, public_url: PublicUrl = None,
    reply_timeout: Annotated[float, typer.Option(min=0.001, help="Seconds a person has for each message; then the "
                                                 "game ends as the seat's timeout.")] = 300.0,
    token_env: Annotated[str | None, typer.Option(help="The NAME of a variable holding an access token that the "
                                                  "page and the A2A endpoint then require.")] = None,
) -> None:
    """Serve a seat that a person plays from a web browser: open the printed URL, join a waiting game, play."""
    from pydantic import SecretStr

    from collabgap.services.agent import HumanSettings, create_human_app
    from collabgap.services.coordinator import ConfigError

    token = os.environ.get(token_env) if token_env else None
    if token_env and not token:
        raise ConfigError(f"set {token_env} to the access token (--token-env names it)")
    url = (public_url or f"http://{host}:{port}").rstrip("/")
    settings = HumanSettings(public_url=url, token=SecretStr(token) if token else None, reply_timeout_s=reply_timeout)
    console.print(f"A person plays this seat at {url}/", markup=False, highlight=False)
    _serve(create_human_app(settings), host, port, public_url)


@fake_app.command("serve")
def fake_llm_serve(
    host: Host = "127.0.0.1", port: Port = 8780,
    config: Annotated[str, typer.Option(help="JSON settings: latency, faults, seed (see docs/fake-llm.md).")] = "{}",
) -> None:
    """Serve the fake LLM vendor: OpenAI chat completions under /v1 and Anthropic messages, scripted models.

    Any key is accepted unless COLLABGAP_FAKE_LLM_KEY is set; then requests must carry that key.
    """
    from pydantic import SecretStr

    from collabgap.services.fake_llm import FakeVendorSettings, create_fake_vendor_app

    settings = FakeVendorSettings.model_validate_json(config)
    if key := os.environ.get(FAKE_KEY_ENV):
        settings = settings.model_copy(update={"api_key": SecretStr(key)})
    _serve(create_fake_vendor_app(settings), host, port)


def _fmt(value: float | None, ci: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" + (f" ± {ci:.3f}" if ci is not None else "")


def _progress(*more_text: str, transient: bool = False) -> Progress:
    """The progress bar of long commands, on stderr: description, bar, done/total, elapsed, then `more_text`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    *(TextColumn(text) for text in more_text), console=err, transient=transient)


def cells_table(cells: list[CellSummary]) -> Table:
    """The demo's cells; fits 80 columns as the report's tables do: names fold, numbers stay whole."""
    table = Table(title="collabgap results (weighted score, mean ± 95% CI)", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, collapse_padding=True)
    for column in ("condition", "seat A", "seat B", "n", "errors", "weighted", "success"):
        numeric = column in ("n", "errors", "weighted", "success")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for cell in cells:
        table.add_row(cell.condition, cell.seat_a, cell.seat_b or "—", str(cell.n), str(cell.errors),
                      _fmt(cell.weighted_mean, cell.weighted_ci95),
                      "—" if cell.success_rate is None else f"{cell.success_rate:.0%}")
    return table


@assessor_app.command("serve")
def assessor_serve(
    host: Host = "127.0.0.1", port: Port = 8790, public_url: PublicUrl = None,
    referee: Annotated[str | None, typer.Option(help="Referee MCP URL (token from COLLABGAP_REFEREE_TOKEN); "
                                                     "default: start one.")] = None,
) -> None:
    """Serve the assessor: send it {"participants": {...}, "config": {...}} and it plays and reports the games."""
    from pydantic import SecretStr

    from collabgap.services.coordinator import AssessorSettings, ServiceGroup, create_assessor_app

    with ServiceGroup() as services:
        token = os.environ.get(REFEREE_TOKEN_ENV, "")
        if referee is None:
            token = token or secrets.token_urlsafe(24)
            referee = services.start_referee(token)
        elif not token:
            raise typer.BadParameter(f"set {REFEREE_TOKEN_ENV} to use --referee", param_hint="--referee")
        settings = AssessorSettings(referee_url=referee, referee_token=SecretStr(token),
                                    public_url=public_url or f"http://{host}:{port}")
        _serve(create_assessor_app(settings), host, port, public_url)


@app.command()
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


@app.command("run")
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


@app.command()
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
    from collabgap.services.coordinator.report._report import PARQUET_EXTRA
    from collabgap.services.coordinator.report._figures import parse_formats, write_figures
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


@app.command()
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


@app.command()
def view(
    source: Annotated[str, typer.Argument(help="A runs folder, one run folder, or a store URL (PostgreSQL).")] = "runs",
    host: Host = "127.0.0.1",
    port: Port = 8750,
) -> None:
    """Browse runs in a local web app, read-only: progress (live), tables and figures, episodes filtered and
    searched, each with its maps, replay and transcript."""
    from collabgap.services.coordinator.report._view import LOOPBACK_HOSTS, ViewSource, create_view_app

    app_ = create_view_app(ViewSource(source), allowed_hosts=LOOPBACK_HOSTS if host in ("127.0.0.1", "localhost",
                                                                                         "::1") else ("*",))
    err.print(f"collabgap view of {source}: http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/ "
              "(Ctrl-C stops it)", markup=False)
    _serve(app_, host, port)


@app.command("check-agent")
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
        tokens = sum((m.usage.prompt_tokens + m.usage.completion_tokens) for m in record.messages if m.usage)
        if tokens:
            console.print(f"Tokens: {tokens}; cost ${record.cost_usd:.6f}")


@app.command()
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
    if referee is not None and not os.environ.get(REFEREE_TOKEN_ENV):
        raise typer.BadParameter(f"set {REFEREE_TOKEN_ENV} to use --referee", param_hint="--referee")
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


def main() -> None:
    """Entry point: known errors print as one line and exit 2; tracebacks are for bugs."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except Exception as exc:
        from pydantic import ValidationError  # here, not at the top: `--help` stays fast

        from collabgap.protocol import CollabgapError

        if not isinstance(exc, CollabgapError | ValidationError):
            raise
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
