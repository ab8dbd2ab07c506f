"""The one `collabgap` command: a thin skin over the Python API (parse, build settings, call, render, exit).

This module holds the command tree and the `serve` commands, which build each service's settings object and hand
it to the one serve function (`collabgap.services._serve`); `_cli_run` and `_cli_report` hold the other commands.
`--help` and `--version` must stay fast: the services (a2a, mcp, uvicorn, SQLAlchemy, numpy, httpx, pyarrow and
our own packages) are imported inside the commands that use them, never at the top of these modules.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from ._cli_common import Host, Port, PublicUrl, console, err
from ._cli_report import check_agent_command, export, report, view
from ._cli_run import cells_table, demo, play, run_command
from ._serve import known_errors, serve, serve_settings

__all__ = ["app", "cells_table", "main"]

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


@referee_app.command("serve")
def referee_serve(host: Host = "127.0.0.1", port: Port = 8760, public_url: PublicUrl = None) -> None:
    """Serve the referee over streamable HTTP at /mcp. The coordinator token comes from COLLABGAP_REFEREE_TOKEN."""
    from pydantic import SecretStr

    from collabgap.referee import RefereeSettings
    from collabgap.services.coordinator import ConfigError
    from collabgap.services.shared import SECRET_VARIABLES

    variable = SECRET_VARIABLES["referee"][1]
    token = os.environ.get(variable)
    if not token and public_url:
        raise ConfigError(f"set {variable}: a referee others reach at {public_url} needs a known token")
    if not token:
        token = secrets.token_urlsafe(24)
        err.print(f"{variable} is unset; coordinator token for this run: {token}")
    serve_settings(RefereeSettings(coordinator_token=SecretStr(token), public_url=public_url), host, port)


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

    from collabgap.services.agent import AgentSettings, RetryPolicy, VendorSpec, parse_player
    from collabgap.services.shared import SECRET_VARIABLES

    token = os.environ.get(SECRET_VARIABLES["agent"][1])
    kind, model = parse_player(player)
    vendor = None
    if kind == "openai" or kind == "anthropic":
        vendor = VendorSpec(kind=kind, model=model, base_url=base_url, api_key_env=api_key_env,
                            temperature=temperature, max_tokens=max_tokens, reasoning_effort=reasoning_effort,
                            extra_headers=_pairs(header, "--header"), extra_body=json.loads(body),
                            timeout_s=timeout, max_concurrency=max_concurrency,
                            retry=RetryPolicy(max_retries=max_retries, backoff_s=backoff))
    settings = AgentSettings(player=f"{kind}:{model}", vendor=vendor, system_prompt=system_prompt,
                             referee_direct=referee_direct, public_url=public_url,
                             token=SecretStr(token) if token else None, max_body=max_body)
    serve_settings(settings, host, port)


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

    from collabgap.services.agent import HumanSettings
    from collabgap.services.coordinator import ConfigError

    token = os.environ.get(token_env) if token_env else None
    if token_env and not token:
        raise ConfigError(f"set {token_env} to the access token (--token-env names it)")
    settings = HumanSettings(public_url=public_url, token=SecretStr(token) if token else None,
                             reply_timeout_s=reply_timeout)
    url = (public_url or f"http://{host}:{port}").rstrip("/")
    console.print(f"A person plays this seat at {url}/", markup=False, highlight=False)
    serve_settings(settings, host, port)


@fake_app.command("serve")
def fake_llm_serve(
    host: Host = "127.0.0.1", port: Port = 8780,
    config: Annotated[str, typer.Option(help="JSON settings: latency, faults, seed (see docs/fake-llm.md).")] = "{}",
) -> None:
    """Serve the fake LLM vendor: OpenAI chat completions under /v1 and Anthropic messages, scripted models.

    Any key is accepted unless COLLABGAP_FAKE_LLM_KEY is set; then requests must carry that key.
    """
    from pydantic import SecretStr

    from collabgap.services.fake_llm import FakeVendorSettings
    from collabgap.services.shared import SECRET_VARIABLES

    settings = FakeVendorSettings.model_validate_json(config)
    if key := os.environ.get(SECRET_VARIABLES["fake-llm"][1]):
        settings = settings.model_copy(update={"api_key": SecretStr(key)})
    serve_settings(settings, host, port)


@assessor_app.command("serve")
def assessor_serve(
    host: Host = "127.0.0.1", port: Port = 8790, public_url: PublicUrl = None,
    referee: Annotated[str | None, typer.Option(help="Referee MCP URL (token from COLLABGAP_REFEREE_TOKEN); "
                                                     "default: start one.")] = None,
) -> None:
    """Serve the assessor: send it {"participants": {...}, "config": {...}} and it plays and reports the games."""
    from pydantic import SecretStr

    from collabgap.services.coordinator import AssessorSettings, ServiceGroup, create_assessor_app
    from collabgap.services.shared import SECRET_VARIABLES

    with ServiceGroup() as services:
        token = os.environ.get(SECRET_VARIABLES["referee"][1], "")
        if referee is None:
            token = token or secrets.token_urlsafe(24)
            referee = services.start_referee(token)
        elif not token:
            raise typer.BadParameter(f"set {SECRET_VARIABLES['referee'][1]} to use --referee",
                                     param_hint="--referee")
        settings = AssessorSettings(referee_url=referee, referee_token=SecretStr(token),
                                    public_url=public_url or f"http://{host}:{port}")
        serve(create_assessor_app(settings), host, port, public_url)


# Registered here, in the order `--help` lists them.
app.command()(demo)
app.command("run")(run_command)
app.command()(report)
app.command()(export)
app.command()(view)
app.command("check-agent")(check_agent_command)
app.command()(play)


def main() -> None:
    """Entry point: known errors print as one line and exit 2; tracebacks are for bugs."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with known_errors():
        app()
