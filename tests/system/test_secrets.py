"""Secrets never leave the environment (issue 11): a real `collabgap run` with planted secrets, searched for
everywhere they must not be: its output, every file it leaves, the store's rows, the report, the command line
of every process, and the environment of every service it starts."""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from collabgap.services.coordinator import ServiceGroup
from collabgap.services.fake_llm import FakeVendorSettings
from tests._command import COLLABGAP
from tests._postgres import fresh_schema

from .test_cli import children_of

KEY_VARIABLE = "COLLABGAP_SECRET_TEST_KEY"
RUN_FILE = """\
name = "secrets"
runs_dir = "{runs}"
store = "{store}"

[agents.gpt]
player = "openai:sim-cartographer"
base_url = "{vendor}/v1"
api_key_env = "{key_variable}"

[agents.leaky]
player = "openai:sim-follower"
base_url = "{vendor}/v1"
api_key_env = "{key_variable}"

[agents.guarded]
url = "{guarded}"
token_env = "COLLABGAP_AGENT_TOKEN"

[mazes]
count = 1

[[conditions]]
kind = "solo-full"
agents = ["gpt", "leaky", "guarded"]
"""
"""Three solo games: an LLM player, one whose vendor echoes its key in a 401, and a token-protected agent."""


@dataclass(frozen=True)
class Planted:
    """Secrets of the run's environment (and the store URL's password), each random, so any match is a leak."""

    api_key: str = f"planted.{secrets.token_hex(5)}"  # looks like no known key: only knowing it scrubs it
    agent_token: str = secrets.token_urlsafe(24)
    password: str = f"pw-{secrets.token_hex(6)}"

    def found_in(self, content: str, *also: str) -> list[str]:
        return [secret for secret in (self.api_key, self.agent_token, self.password, *also) if secret in content]


PLANTED = Planted()


@dataclass(frozen=True)
class Service:
    pid: int
    cmdline: str
    environ: dict[str, str]


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema of the test database (trust auth: any password is accepted), dropped afterwards."""
    with fresh_schema("search a PostgreSQL store for planted secrets") as url:
        yield url


def read_process(pid: int) -> Service:
    proc = Path(f"/proc/{pid}")
    cmdline = proc.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    pairs = [entry.partition("=") for entry in proc.joinpath("environ").read_bytes().decode().split("\0") if entry]
    return Service(pid, cmdline, {name: value for name, _, value in pairs})


def services_while_playing(run: subprocess.Popen[str]) -> list[Service]:
    """The referee and both agents the run started, read while its games are in flight (the vendor is slow)."""
    waited = threading.Event()
    for _ in range(600):  # up to 30 s for the three services to start
        found = [read_process(pid) for pid in children_of(run.pid)]
        if len([s for s in found if "collabgap.services._serve " in s.cmdline]) == 3:
            return found
        assert run.poll() is None, "the run ended before its services could be read"
        waited.wait(0.05)
    raise AssertionError("the run did not start its referee and two agents")


def every_cmdline() -> str:
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # gone since the listing
            continue
    return "\n".join(lines)


def store_rows(url: str) -> str:
    """Every row of every table of the store, as text."""
    parsed = make_url(url)
    engine = create_engine(parsed.set(drivername="postgresql+psycopg") if parsed.drivername == "postgresql" else parsed)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            assert "collabgap_episodes" in tables
            return "\n".join(str(row) for table in tables for row in conn.execute(text(f"SELECT * FROM {table}")))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """(store URL template, password planted in it); the PostgreSQL URL carries a password."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs' / 'secrets' / 'store.db'}", None
    url = make_url(request.getfixturevalue("postgres_url"))
    return url.set(password=PLANTED.password).render_as_string(hide_password=False), PLANTED.password


def test_no_planted_secret_is_printed_stored_logged_or_passed_on(tmp_path: Path, store: tuple[str, str | None]
                                                                ) -> None:
    store_url, password = store
    planted = PLANTED
    with ServiceGroup(log_dir=tmp_path / "ours") as ours:
        echoing = '{"latency": 0.3, "faults": [{"kind": "echo_key", "models": ["sim-follower"]}]}'
        vendor = ours.start_fake_vendor(FakeVendorSettings.model_validate_json(echoing),
                                        env={"COLLABGAP_FAKE_LLM_KEY": planted.api_key})
        guarded = ours.start_agent("scripted:cartographer", env={"COLLABGAP_AGENT_TOKEN": planted.agent_token})
        run_file = tmp_path / "run.toml"
        run_file.write_text(RUN_FILE.format(runs=tmp_path / "runs", store=store_url, vendor=vendor, guarded=guarded,
                                            key_variable=KEY_VARIABLE))
        environment = {**os.environ, KEY_VARIABLE: planted.api_key, "COLLABGAP_AGENT_TOKEN": planted.agent_token,
                       "PGPASSWORD": planted.password}
        run = subprocess.Popen([*COLLABGAP, "run", str(run_file)], env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        try:
            services = services_while_playing(run)
            commands = every_cmdline()
        finally:
            output = run.communicate(timeout=300)[0]
    assert run.returncode == 0, output  # the leaky agent's 401 is its own failure: scored, not a platform error

    [referee] = [s for s in services if "_serve referee" in s.cmdline]
    agents = [s for s in services if "_serve agent" in s.cmdline]
    referee_token = referee.environ["COLLABGAP_REFEREE_TOKEN"]
    # Each check names what leaked, never the whole text: that would print this machine's environment.
    on_command_lines = planted.found_in(commands, referee_token)
    assert not on_command_lines
    held_by_referee = planted.found_in("\n".join(referee.environ.values()))
    assert not held_by_referee
    assert {"PATH", "HOME"} <= referee.environ.keys() and KEY_VARIABLE not in referee.environ
    for agent in agents:
        assert agent.environ[KEY_VARIABLE] == planted.api_key  # its own key, by name: the one secret it needs
        held_by_agent = planted.found_in("\n".join(value for name, value in agent.environ.items()
                                                  if name != KEY_VARIABLE), referee_token)
        assert not held_by_agent

    report_url = make_url(store_url).set(password=None).render_as_string(hide_password=False)  # PGPASSWORD has it
    reported = subprocess.run([*COLLABGAP, "report", str(tmp_path / "runs" / "secrets"),
                               *(["--store", report_url] if password else [])],
                              env=environment, capture_output=True, text=True, timeout=120)
    assert reported.returncode == 0, reported.stderr
    printed = planted.found_in(output + reported.stdout + reported.stderr, referee_token)
    assert not printed
    if password:
        assert ":***@" in output and "Store: postgresql" in output

    files = [path for path in tmp_path.rglob("*") if path.is_file() and path != run_file]
    assert any(path.name == "report.html" for path in files) and len(list(tmp_path.glob("runs/secrets/logs/*"))) == 3
    in_files = {path.name: found for path in files
                if (found := planted.found_in(path.read_bytes().decode(errors="replace"), referee_token))}
    assert not in_files
    rows = store_rows(store_url)
    assert "Incorrect API key provided: [redacted]" in rows  # the vendor did echo the key; the store has it scrubbed
    in_rows = planted.found_in(rows, referee_token)
    assert not in_rows


def test_a_dry_run_shows_the_store_without_its_password(tmp_path: Path) -> None:
    password = secrets.token_hex(8)
    run_file = tmp_path / "run.toml"
    run_file.write_text(RUN_FILE.format(runs=tmp_path / "runs", store=f"postgresql://maze:{password}@db.invalid/runs",
                                        vendor="http://127.0.0.1:9", guarded="http://127.0.0.1:9",
                                        key_variable=KEY_VARIABLE))
    done = subprocess.run([*COLLABGAP, "run", "--dry-run", str(run_file)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, KEY_VARIABLE: "k", "COLLABGAP_AGENT_TOKEN": "t"})
    assert done.returncode == 0, done.stderr
    assert "Store: postgresql://maze:***@db.invalid/runs" in done.stdout and password not in done.stdout
