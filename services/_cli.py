"""The one `collabgap` command: a thin skin over the Python API (parse, build settings, call, render, exit)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Annotated, Literal

import httpx
import typer
import uvicorn
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from protocol import CollabgapError, MazeParams
from referee import RefereeSettings, create_referee_app
from services.agent import AgentSettings, RetryPolicy, VendorSpec, create_agent_app
from services.coordinator import (
    AssessorSettings,
    CellSummary,
    ConfigError,
    DemoSettings,
    EpisodeRecord,
    EpisodeSpec,
    PriceTable,
    Prompts,
    RunProgress,
    SeatSpec,
    ServiceGroup,
    build_report,
    check_agent,
    check_report_json,
    create_assessor_app,
    execute_run,
    load_records,
    load_run_file,
    plan_run,
    render_check_report,
    run_demo,
    run_episodes,
    run_paths,
    terminal_tables,
)
from services.fake_llm import FakeVendorSettings, create_fake_vendor_app

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
fake_app = typer.Typer(help="The fake LLM vendor (OpenAI and Anthropic APIs), for tests and trying without a key.",
                       no_args_is_help=True)
app.add_typer(fake_app, name="fake-llm")
assessor_app = typer.Typer(help="The coordinator as an A2A agent (AgentBeats assessor).", no_args_is_help=True)
app.add_typer(assessor_app, name="assessor")
console = Console(width=max(Console().width, 110))
err = Console(stderr=True)

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
                                             "anthropic:<model>.")],
    host: Host = "127.0.0.1", port: Port = 8770, public_url: PublicUrl = None,
    base_url: Annotated[str | None, typer.Option(help="LLM: the API base URL (default: the vendor's).")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="LLM: the NAME of the variable holding the key.")] = None,
    temperature: Annotated[float | None, typer.Option(help="LLM: sampling temperature.")] = None,
    max_tokens: Annotated[int, typer.Option(help="LLM: maximum tokens per reply.")] = 2048,
    reasoning_effort: Annotated[str | None, typer.Option(help="LLM (OpenAI reasoning models): effort.")] = None,
    header: Annotated[list[str], typer.Option(help="LLM: extra request header NAME=VALUE (repeatable).")] = [],  # noqa: B006
    body: Annotated[str, typer.Option(help="LLM: extra JSON object merged into each request body.")] = "{}",
    timeout: Annotated[float, typer.Option(help="LLM: seconds per request.")] = 120.0,
    max_retries: Annotated[int, typer.Option(help="LLM: retries on 429, 5xx, timeouts, garbled answers.")] = 5,
    backoff: Annotated[float, typer.Option(help="LLM: first backoff in seconds (doubles per retry).")] = 0.5,
    max_concurrency: Annotated[int, typer.Option(help="LLM: requests in flight to the endpoint.")] = 8,
    system_prompt: Annotated[Path | None, typer.Option(help="LLM: replacement system prompt file.")] = None,
    referee_direct: Annotated[bool, typer.Option("--referee-direct", help="LLM: vote by calling the referee's MCP "
                                                 "tools (declares urn:collabgap:referee-mcp:v1).")] = False,
) -> None:
    """Serve one player as an A2A agent. Set COLLABGAP_AGENT_TOKEN to require a bearer token."""
    token = os.environ.get(AGENT_TOKEN_ENV)
    kind, _, model = player.partition(":")
    vendor = None
    if kind in ("openai", "anthropic"):
        vendor = VendorSpec(kind=kind, model=model, base_url=base_url, api_key_env=api_key_env,
                            temperature=temperature, max_tokens=max_tokens, reasoning_effort=reasoning_effort,
                            extra_headers=_pairs(header, "--header"), extra_body=json.loads(body),
                            timeout_s=timeout, max_concurrency=max_concurrency,
                            retry=RetryPolicy(max_retries=max_retries, backoff_s=backoff))
        vendor.api_key()  # fail now, not at the first game, when the key is missing
    settings = AgentSettings(player=player, vendor=vendor, system_prompt=system_prompt, referee_direct=referee_direct,
                             public_url=public_url or f"http://{host}:{port}", token=SecretStr(token) if token else None)
    _serve(create_agent_app(settings), host, port, public_url)


@fake_app.command("serve")
def fake_llm_serve(
    host: Host = "127.0.0.1", port: Port = 8780,
    config: Annotated[str, typer.Option(help="JSON settings: latency, faults, seed (see docs/fake-llm.md).")] = "{}",
) -> None:
    """Serve the fake LLM vendor: OpenAI chat completions under /v1 and Anthropic messages, scripted models.

    Any key is accepted unless COLLABGAP_FAKE_LLM_KEY is set; then requests must carry that key.
    """
    settings = FakeVendorSettings.model_validate_json(config)
    if key := os.environ.get(FAKE_KEY_ENV):
        settings = settings.model_copy(update={"api_key": SecretStr(key)})
    _serve(create_fake_vendor_app(settings), host, port)


def _fmt(value: float | None, ci: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" + (f" ± {ci:.3f}" if ci is not None else "")


def cells_table(cells: list[CellSummary]) -> Table:
    table = Table(title="collabgap results (weighted score, mean ± 95% CI)")
    for column in ("condition", "seat A", "seat B", "n", "errors", "weighted", "success"):
        table.add_column(column, justify="right" if column in ("n", "errors", "weighted", "success") else "left")
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
) -> None:
    """Benchmark the built-in scripted players: every one solo, every ordered pair, on real services."""
    settings = DemoSettings(mazes=mazes, concurrency=concurrency, seed=seed, runs_dir=runs_dir)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("starting services", total=None)
        outcome = run_demo(
            settings,
            on_plan=lambda total: progress.update(task, total=total, description="playing episodes"),
            on_episode=lambda record: progress.advance(task),
        )
    console.print(cells_table(outcome.result.cells))
    console.print(f"Results: {outcome.results_path}  (charts and transcripts: collabgap report {outcome.run_dir})")
    errors = sum(cell.errors for cell in outcome.result.cells)
    raise typer.Exit(code=1 if errors else 0)


@app.command("run")
def run_command(
    file: Annotated[Path, typer.Argument(help="The run file (TOML).", exists=True, dir_okay=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and its size; start nothing.")] = False,
    ray: Annotated[str | None, typer.Option("--ray", help="Spread episodes over the Ray cluster at this address "
                                                          "(e.g. auto, or ray://head:10001).")] = None,
    retry_errors: Annotated[bool, typer.Option("--retry-errors", help="Replay the stored platform errors; each "
                                                                      "new record keeps the earlier attempts.")] = False,
) -> None:
    """Run the experiment in FILE into its store, skipping every episode already stored (so a killed run resumes).

    Runners started on the same store share the plan. Ctrl-C stores nothing of the episodes in flight (exit 130).
    """
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
        console.print(f"Store: {run_paths(run, file)[1]}")
        counted = "scored and counted in n" if run.errors.agent == "score" else "left out of n"
        console.print(f"An agent's own failure: {counted} ([errors] agent = {run.errors.agent!r})", markup=False)
        raise typer.Exit(code=0)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[stats]}"), console=err) as bar:
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
            show(p)

        progress = RunProgress(listeners=[show])
        try:
            outcome = execute_run(run, file, on_plan=planned, progress=progress, ray_address=ray,
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
    run: Annotated[Path, typer.Argument(help="A run folder (holding store.db, or a demo's results.json).")],
    store: Annotated[str | None, typer.Option(help="Store URL instead of the folder's store.db (PostgreSQL).")] = None,
    run_id: Annotated[str | None, typer.Option(help="Run id in the store (default: the folder's name).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the report (default: RUN/report).")] = None,
) -> None:
    """Tables in the terminal; CSV, JSON, Parquet and a static HTML report with a transcript viewer."""
    records = load_records(run, store, run_id or run.name)
    files = build_report(records, out or run / "report")
    for table in terminal_tables(files.analysis):
        console.print(table)
    console.print(f"HTML report: {files.report_html}")
    console.print(f"Data: {files.cells_csv}, {files.analysis_json}, {files.episodes_parquet}")


@app.command("check-agent")
def check_agent_command(
    url: Annotated[str, typer.Argument(help="The agent's base URL (its card is at /.well-known/agent-card.json).")],
    token_env: Annotated[str | None, typer.Option(help="The variable holding a bearer token for the agent.")] = None,
    deadline: Annotated[float, typer.Option(min=0.1, help="Seconds each probe may take.")] = 10.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
) -> None:
    """Check that an agent can take a collabgap seat: its card, its interfaces, and a short scripted game."""
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


def print_episode(record: EpisodeRecord) -> None:
    for message in record.messages:
        vote = escape(f"  [vote: {message.vote}]") if message.vote else ""
        console.print(f"[bold]{message.seat}[/bold] #{message.index + 1}{vote}")
        console.print(message.text, markup=False, highlight=False)
    if record.error is not None:  # blamed on an agent or the grader, the episode still has its score below
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
    a: Annotated[str, typer.Option("--a", help="Seat A's agent base URL.")],
    b: Annotated[str | None, typer.Option("--b", help="Seat B's agent base URL (pair only).")] = None,
    referee: Annotated[str | None, typer.Option(help="Referee MCP URL; token from COLLABGAP_REFEREE_TOKEN.")] = None,
    seed: int = 0,
    size: Annotated[int, typer.Option(min=3, max=30)] = 6,
    condition: Literal["pair", "solo-full", "solo-split"] = "pair",
    feedback: Literal["none", "position"] = "none",
    message_limit: Annotated[int, typer.Option(min=1)] = 50,
    mode: Annotated[Literal["referee", "paper"], typer.Option(help="paper: free dialogue, then a grader.")] = "referee",
    grader: Annotated[str | None, typer.Option(help="Paper mode: the grading agent's base URL.")] = None,
    turn_timeout: Annotated[float, typer.Option(help="Seconds an agent has for each reply.")] = 120.0,
    prompts: Annotated[Path | None, typer.Option(help="Folder of replacement prompt templates.")] = None,
    prices: Annotated[Path | None, typer.Option(help="Replacement price table (TOML).")] = None,
) -> None:
    """Play one game and print its transcript and outcome (starts its own referee when none is given)."""
    if condition == "pair" and b is None:
        raise typer.BadParameter("a pair needs --b", param_hint="--b")
    spec = EpisodeSpec(episode_id=f"play/{seed}", condition=condition, seat_a=SeatSpec(name="A", url=a),
                       seat_b=SeatSpec(name="B", url=b) if condition == "pair" and b else None,
                       maze=MazeParams(size=size, seed=seed), feedback=feedback, message_limit=message_limit,
                       mode=mode, grader=SeatSpec(name="grader", url=grader) if grader else None)
    templates, table = Prompts.load(prompts), PriceTable.load(prices)
    with ServiceGroup() as services:
        if referee is None:
            token = secrets.token_urlsafe(24)
            referee = services.start_referee(token)
        else:
            token = os.environ.get(REFEREE_TOKEN_ENV, "")
            if not token:
                raise typer.BadParameter(f"set {REFEREE_TOKEN_ENV} to use --referee", param_hint="--referee")
        [record] = asyncio.run(run_episodes([spec], referee, SecretStr(token), turn_timeout_s=turn_timeout,
                                            prompts=templates, prices=table))
    print_episode(record)
    raise typer.Exit(code=1 if record.error is not None and record.error.platform else 0)  # agents' failures score


def main() -> None:
    """Entry point: known errors print as one line and exit 2; tracebacks are for bugs."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except (CollabgapError, ValidationError) as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
