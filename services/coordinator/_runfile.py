"""Run files (TOML): what to run, validated in full before anything starts (issue 4).

A run file names agents (a built-in scripted player, an LLM spec, or any A2A URL), conditions and pairings,
the maze set, repetitions, limits, concurrency, the store and budget caps. It expands into episodes with
stable ids, so a second run of the same file skips what is stored and a killed run resumes.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from protocol import CollabgapError, MazeParams, generate_maze

from ._errors import ConfigError

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentEntry(_Strict):
    """One agent: exactly one of `player` (started by the run) or `url` (already running somewhere)."""

    player: str | None = Field(None, pattern=r"^(scripted|openai|anthropic):\S+$")
    """`scripted:<name>`, `openai:<model>` or `anthropic:<model>`: the run starts an agent service for it."""
    url: HttpUrl | None = None
    """The base URL of any A2A agent (its card is at /.well-known/agent-card.json)."""
    token_env: str | None = None
    """The variable holding a bearer token for `url`."""
    base_url: HttpUrl | None = None
    api_key_env: str | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    concurrency: int | None = Field(None, ge=1)
    """Games this agent plays at once (default: `concurrency.per_agent`)."""

    @model_validator(mode="after")
    def _one_source(self) -> AgentEntry:
        if (self.player is None) == (self.url is None):
            raise ValueError("give exactly one of `player` or `url`")
        llm_only = ("base_url", "api_key_env", "temperature", "max_tokens", "reasoning_effort")
        if not (self.player or "").startswith(("openai:", "anthropic:")):
            if set_fields := [name for name in llm_only if getattr(self, name) is not None]:
                raise ValueError(f"{', '.join(set_fields)} only apply to openai: and anthropic: players")
        return self

    @property
    def key_env(self) -> str | None:
        if self.player and self.player.startswith("openai:"):
            return self.api_key_env or "OPENAI_API_KEY"
        if self.player and self.player.startswith("anthropic:"):
            return self.api_key_env or "ANTHROPIC_API_KEY"
        return None

    def serve_options(self) -> list[str]:
        """The `collabgap agent serve` options that configure this LLM player (never a secret)."""
        options: list[str] = []
        for flag, value in (("--base-url", self.base_url), ("--api-key-env", self.api_key_env),
                            ("--temperature", self.temperature), ("--max-tokens", self.max_tokens),
                            ("--reasoning-effort", self.reasoning_effort),
                            ("--max-concurrency", self.concurrency)):
            if value is not None:
                options += [flag, str(value)]
        return options


class MazeSet(_Strict):
    """Generated mazes (`count` seeds from `seed`), or mazes read from a JSONL `file` of MazeParams lines."""

    count: int = Field(20, ge=1, le=100_000)
    seed: int = 0
    size: int = Field(6, ge=3, le=30)
    wall_density: float = Field(0.30, ge=0.0, le=0.8)
    min_path: int = Field(7, ge=1)
    max_path: int = Field(9, ge=1)
    start: Literal["top-left", "top-right", "bottom-left", "bottom-right", "random"] = "top-left"
    file: Path | None = None


class ConditionEntry(_Strict):
    """One block of conditions; `agents` and `pairing` decide who sits where."""

    kind: Literal["solo-full", "solo-split", "pair", "relay"]
    mode: Literal["referee", "paper"] = "referee"
    agents: list[str] = Field(default_factory=list)
    """Solo: each plays alone. Pair: the pool for `pairing`."""
    pairing: Literal["all", "homogeneous", "explicit"] = "all"
    """`all`: every ordered pair, both orders and self-pairs; `homogeneous`: each with itself; `explicit`: `pairs`."""
    pairs: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(default_factory=list)
    relay: Literal["primer", "recovery"] | None = None
    strong: str | None = None
    weak: list[str] = Field(default_factory=list)
    k: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [2, 4, 6, 8])
    seats: list[Literal["A", "B"]] = ["A"]
    """Relay: the seats that change hands after K messages."""

    @model_validator(mode="after")
    def _complete(self) -> ConditionEntry:
        if self.kind == "relay":
            if self.relay is None or self.strong is None or not self.weak:
                raise ValueError("a relay needs `relay` (primer or recovery), `strong` and `weak`")
        elif self.relay is not None or self.strong is not None or self.weak:
            raise ValueError("`relay`, `strong` and `weak` belong to kind = \"relay\"")
        if self.kind != "relay" and not self.agents and not self.pairs:
            raise ValueError("name the agents of this condition")
        if self.pairing == "explicit" and not self.pairs:
            raise ValueError("pairing = \"explicit\" needs `pairs`")
        return self


class Limits(_Strict):
    messages: int = Field(50, ge=1, le=1000)
    turn_timeout_s: float = Field(120.0, gt=0)
    game_timeout_s: float = Field(1800.0, gt=0)
    feedback: Literal["none", "position"] = "none"


class Concurrency(_Strict):
    games: int = Field(8, ge=1, le=4096)
    per_agent: int = Field(8, ge=1, le=4096)


class Budget(_Strict):
    """Caps over the whole run, stored episodes included; no new episode starts once one is reached."""

    max_tokens: int | None = Field(None, ge=1)
    max_usd: float | None = Field(None, gt=0)


class RefereeEntry(_Strict):
    """A referee already running (containers, clusters); without one, the run starts its own."""

    url: HttpUrl
    """Its MCP endpoint, e.g. http://referee:8760/mcp."""
    token_env: str = "COLLABGAP_REFEREE_TOKEN"
    """The variable holding the coordinator token."""


class RunFile(_Strict):
    """A whole run, as written in its TOML file."""

    name: str = Field(pattern=_NAME)
    """Names the run and its folder."""
    store: str | None = None
    """SQLAlchemy URL of the store; default: SQLite in the run folder. PostgreSQL: `postgresql://…`."""
    runs_dir: Path = Path("runs")
    repetitions: int = Field(1, ge=1, le=1000)
    retries: int = Field(2, ge=0, le=20)
    """Extra attempts for an episode that ends in an infrastructure error."""
    grader: str | None = None
    """The agent that grades paper-mode games."""
    referee: RefereeEntry | None = None
    prompts_dir: Path | None = None
    prices_file: Path | None = None
    agents: dict[Annotated[str, Field(pattern=_NAME)], AgentEntry] = Field(min_length=1)
    mazes: MazeSet = MazeSet()
    conditions: list[ConditionEntry] = Field(min_length=1)
    limits: Limits = Limits()
    concurrency: Concurrency = Concurrency()
    budget: Budget = Budget()

    @model_validator(mode="after")
    def _names_exist(self) -> RunFile:
        for index, condition in enumerate(self.conditions):
            names = [*condition.agents, *(n for pair in condition.pairs for n in pair), *condition.weak]
            names += [condition.strong] if condition.strong else []
            if unknown := sorted({n for n in names if n not in self.agents}):
                raise ValueError(f"conditions[{index}] names unknown agents: {', '.join(unknown)}")
            if condition.mode == "paper" and self.grader is None:
                raise ValueError(f"conditions[{index}] is in paper mode: set `grader` to an agent's name")
        if self.grader is not None and self.grader not in self.agents:
            raise ValueError(f"grader {self.grader!r} is not one of the agents")
        return self

    def maze_params(self, base: Path) -> list[MazeParams]:
        """Every maze of the run, in order."""
        spec = self.mazes
        if spec.file is None:
            fields = spec.model_dump(exclude={"count", "seed", "file"})
            return [MazeParams(**fields, seed=spec.seed + i) for i in range(spec.count)]
        path = spec.file if spec.file.is_absolute() else base / spec.file
        return [MazeParams.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]

    def snapshot(self) -> dict[str, Any]:
        """What the run's episodes mean, as stored with the run: it names key variables, never holds a key.

        Budget, concurrency and retries are left out: raising a cap or a limit and running again continues the
        same run, while changing anything else is a different run and the store refuses it.
        """
        return json.loads(self.model_dump_json(exclude={"budget", "concurrency", "retries"}))


def _line_of(text: str, location: tuple[int | str, ...]) -> int | None:
    """The line a validation error points at: the last named key, under the nearest named table."""
    keys = [str(part) for part in location if isinstance(part, str)]
    if not keys:
        return None
    lines = text.splitlines()
    table_at = 0
    for table in keys[:-1]:
        for number, line in enumerate(lines[table_at:], start=table_at):
            if re.match(rf"^\s*\[+\s*[^\]]*\b{re.escape(table)}\b", line):
                table_at = number
                break
    key = re.compile(rf"^\s*\"?{re.escape(keys[-1])}\"?\s*=|^\s*\[+[^\]]*\b{re.escape(keys[-1])}\b")
    for number, line in enumerate(lines[table_at:], start=table_at):
        if key.match(line):
            return number + 1
    return None


def load_run_file(path: Path, *, environ: dict[str, str] | None = None) -> RunFile:
    """Read, validate and check a run file; nothing starts unless all of it can work.

    Raises:
        ConfigError: with the file, the line where it can be found, and the reason.
    """
    environ = dict(os.environ) if environ is None else environ
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read run file {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        run = RunFile.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors():
            line = _line_of(text, error["loc"])
            where = ".".join(str(part) for part in error["loc"]) or "file"
            reason = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{path}:{line or '?'}: {where}: {reason}")
        raise ConfigError("run file refused:\n" + "\n".join(problems)) from exc
    if run.referee is not None and not environ.get(run.referee.token_env):
        raise ConfigError(f"{path}:{_line_of(text, ('referee',)) or '?'}: referee: set {run.referee.token_env} "
                          f"to the referee's coordinator token")
    for name, agent in run.agents.items():
        for variable in (agent.key_env, agent.token_env):
            if variable and not environ.get(variable):
                raise ConfigError(f"{path}:{_line_of(text, ('agents', name)) or '?'}: agents.{name}: "
                                  f"set {variable} in the environment (the run file names it; it never holds keys)")
    try:
        for maze in run.maze_params(path.parent):
            generate_maze(maze)
    except (OSError, pydantic.ValidationError, CollabgapError) as exc:
        raise ConfigError(f"{path}:{_line_of(text, ('mazes',)) or '?'}: mazes: {exc}") from exc
    return run
