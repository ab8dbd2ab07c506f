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
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_serializer, field_validator, model_validator

from collabgap.protocol import SEATS, CollabgapError, MazeParams, Seat, generate_maze
from collabgap.services.agent import HUMAN_PLAYER, PlayerSpecError, canonical_player

from .._errors import ConfigError
from ._plan import plan_size, repeated_cell
from ..game._prices import PriceTable
from ..game._prompts import Prompts
from .._records import AgentErrorPolicy, PlayerKind
from ._store import masked_url

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_VENDORS = ("openai", "anthropic")
HUMAN_SHARE = 0.9
"""The share of the turn timeout a person has for each message (`Limits.human_reply_timeout_s`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentEntry(_Strict):
    """One agent: exactly one of `player` (started by the run) or `url` (already running somewhere)."""

    player: str | None = None
    """`scripted:<name>`, `openai:<model>` or `anthropic:<model>` (or `openai/<model>`, `anthropic/<model>`): the
    run starts an agent service for it. Kept in its `kind:name` form. `human`: a person's seat; the run starts
    `collabgap human serve` and prints the page to open (docs/human.md)."""
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
    human: bool = False
    """The agent at `url` is a person's seat (`collabgap human serve` run elsewhere); `player = "human"` implies
    it. Its episodes record `player_kind = "human"`."""

    @field_validator("player")
    @classmethod
    def _known_player(cls, spec: str | None) -> str | None:
        try:
            return None if spec is None else canonical_player(spec, human=True)
        except PlayerSpecError as exc:
            raise ValueError(str(exc)) from exc

    @model_validator(mode="after")
    def _one_source(self) -> AgentEntry:
        if (self.player is None) == (self.url is None):
            raise ValueError("give exactly one of `player` or `url`")
        if self.human and self.player is not None and self.player != HUMAN_PLAYER:
            raise ValueError(f"`human = true` belongs to a person's seat, not to player {self.player!r}")
        llm_only = ("base_url", "api_key_env", "temperature", "max_tokens", "reasoning_effort")
        if self.model is None:
            if set_fields := [name for name in llm_only if getattr(self, name) is not None]:
                raise ValueError(f"{', '.join(set_fields)} only apply to openai: and anthropic: players")
        return self

    @property
    def player_kind(self) -> PlayerKind:
        """`human` for a person's seat, else `agent`."""
        return "human" if self.human or self.player == HUMAN_PLAYER else "agent"

    @property
    def model(self) -> str | None:
        """The model of an LLM player; None for scripted players and agents given by `url`."""
        kind, _, model = (self.player or "").partition(":")
        return model if kind in _VENDORS else None

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
    min_path: int | None = Field(None, ge=1)
    max_path: int | None = Field(None, ge=1)
    """A bound left unset is derived from the size (docs/maze.md)."""
    start: Literal["top-left", "top-right", "bottom-left", "bottom-right", "random"] = "top-left"
    goal: Literal["any", "bottom-right"] = "bottom-right"
    file: Path | None = None


class ConditionEntry(_Strict):
    """One block of conditions; `agents` and `pairing` decide who sits where."""

    kind: Literal["solo-full", "solo-split", "pair", "relay", "team"]
    mode: Literal["referee", "paper"] = "referee"
    agents: list[str] = Field(default_factory=list)
    """Solo: each plays alone. Pair: the pool for `pairing`. Team (`homogeneous`): each fills every seat."""
    pairing: Literal["all", "homogeneous", "explicit"] = "all"
    """`all`: every ordered pair, both orders and self-pairs; `homogeneous`: each with itself; `explicit`: `pairs`
    (teams: `teams`). A team's pairing is `homogeneous` or `explicit`."""
    pairs: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(default_factory=list)
    size: list[Annotated[int, Field(ge=3, le=len(SEATS))]] = Field(default_factory=list)
    """Team, `homogeneous`: the team sizes, e.g. `[3, 4]`; each agent plays one team of each size."""
    teams: list[Annotated[list[str], Field(min_length=3, max_length=len(SEATS))]] = Field(default_factory=list)
    """Team, `explicit`: who holds seats A, B, C, … of each team, e.g. `[["gpt", "gpt", "claude"]]`."""
    order: list[Seat] = Field(default_factory=list)
    """Team: the order the seats speak in, e.g. `["C", "A", "B"]`; default: A, B, C, … Every team of the block
    must then have that many seats."""
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
        if self.kind == "team":
            return self._complete_team()
        if self.size or self.teams or self.order:
            raise ValueError("`size`, `teams` and `order` belong to kind = \"team\"")
        if self.kind != "relay" and not self.agents and not self.pairs:
            raise ValueError("name the agents of this condition")
        if self.pairing == "explicit" and not self.pairs:
            raise ValueError("pairing = \"explicit\" needs `pairs`")
        return self

    def _complete_team(self) -> ConditionEntry:
        if self.pairing == "homogeneous" and (not self.agents or not self.size or self.teams):
            raise ValueError("a homogeneous team needs `agents` and `size` (e.g. [3, 4]), not `teams`")
        if self.pairing == "explicit" and (not self.teams or self.size or self.agents):
            raise ValueError("pairing = \"explicit\" of a team needs `teams` (lists of agents), not `size`")
        if self.pairing == "all" or self.pairs:
            raise ValueError("a team's pairing is \"homogeneous\" (`agents`, `size`) or \"explicit\" (`teams`)")
        sizes = set(self.size) | {len(team) for team in self.teams}
        if self.order and (sizes != {len(self.order)} or sorted(self.order) != list(SEATS[:len(self.order)])):
            raise ValueError(f"`order` must name each seat of every team once; this block's teams have "
                             f"{' or '.join(str(n) for n in sorted(sizes))} seats")
        return self


class Limits(_Strict):
    messages: int = Field(50, ge=1, le=1000)
    turn_timeout_s: float = Field(120.0, gt=0)
    game_timeout_s: float = Field(1800.0, gt=0)
    feedback: Literal["none", "position"] = "none"

    @property
    def human_reply_timeout_s(self) -> float:
        """What a person the run seats has for each message: 90 % of the turn timeout, so that their seat's own
        timeout answer reaches the coordinator before the coordinator stops waiting (docs/human.md)."""
        return HUMAN_SHARE * self.turn_timeout_s


class Concurrency(_Strict):
    games: int = Field(8, ge=1, le=4096)
    per_agent: int = Field(8, ge=1, le=4096)


class Budget(_Strict):
    """Caps over the whole run, stored episodes included; no new episode starts once one is reached."""

    max_tokens: int | None = Field(None, ge=1)
    max_usd: float | None = Field(None, gt=0)


class ErrorPolicy(_Strict):
    """How failures count in the analysis."""

    agent: AgentErrorPolicy = "score"
    """An agent's own failure (crash, timeout, empty or unusable reply): `score` counts the game where it stood,
    in n and flagged, as the paper did; `exclude` leaves it out of n."""


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
    """Prompt templates replacing the packaged ones; relative to the run file's folder."""
    prices_file: Path | None = None
    """A price table replacing the packaged one; relative to the run file's folder."""
    max_episodes: int = Field(100_000, ge=1)
    """A plan larger than this is refused before anything starts."""
    agents: dict[Annotated[str, Field(pattern=_NAME)], AgentEntry] = Field(min_length=1)
    mazes: MazeSet = MazeSet()
    conditions: list[ConditionEntry] = Field(min_length=1)
    limits: Limits = Limits()
    concurrency: Concurrency = Concurrency()
    budget: Budget = Budget()
    errors: ErrorPolicy = ErrorPolicy()

    @field_serializer("store")
    def _mask_password(self, store: str | None) -> str | None:
        """Every dump (the stored snapshot and provenance, printed plans) shows the store without its password."""
        return None if store is None else masked_url(store)

    @model_validator(mode="after")
    def _names_exist(self) -> RunFile:
        for index, condition in enumerate(self.conditions):
            names = [*condition.agents, *(n for pair in condition.pairs for n in pair), *condition.weak,
                     *(n for team in condition.teams for n in team)]
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

        Budget, concurrency, retries and the plan-size limit are left out: raising a cap or a limit and running
        again continues the same run, while changing anything else is a different run and the store refuses it.
        """
        return json.loads(self.model_dump_json(exclude={"budget", "concurrency", "retries", "max_episodes"}))


def _line_of(text: str, location: tuple[int | str, ...]) -> int | None:
    """The line a validation error points at: each named table or key in turn, the n-th block of an array of
    tables (`[[conditions]]`) where an index follows its name; the nearest one found."""
    lines = text.splitlines()
    start, found = 0, None
    for position, part in enumerate(location):
        if not isinstance(part, str):
            continue
        after = location[position + 1] if position + 1 < len(location) else None
        nth = after if isinstance(after, int) else 0
        name = re.escape(part)
        here = re.compile(rf"^\s*\"?{name}\"?\s*=|^\s*\[\[?\s*(?:[^\]]*\.)?\"?{name}\"?\s*(?:\.|\])")
        matches = [number for number, line in enumerate(lines[start:], start=start) if here.match(line)]
        if len(matches) <= nth:
            break
        start = matches[nth]
        found = start + 1
    return found


def _label(location: tuple[int | str, ...]) -> str:
    """`agents.gpt.player`, `conditions[1].kind`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".") or "file"


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read run file {path}: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not a run file: byte {exc.start} is not UTF-8 text "
                          "(a run file is TOML, in UTF-8)") from exc
    if not text.strip():
        raise ConfigError(f"{path}: the run file is empty (docs/running.md shows what it holds)")
    return text


def _beside(path: Path, name: Path | None) -> Path | None:
    """A path the run file names, from the run file's folder."""
    return None if name is None or name.is_absolute() else (path.parent / name).resolve()


def load_run_file(path: Path, *, environ: dict[str, str] | None = None) -> RunFile:
    """Read, validate and check a run file; nothing starts unless all of it can work.

    Besides the schema, it checks what would otherwise fail once services run: the key variables, the prompt
    folder and price file (made absolute, from the run file's folder), repeated cells, the mazes, the plan's size
    against `max_episodes`, and that a dollar cap can price every LLM player's model.

    Raises:
        ConfigError: with the file, the line where it can be found, and the reason.
    """
    environ = dict(os.environ) if environ is None else environ
    text = _read(path)
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
            reason = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{path}:{line or '?'}: {_label(error['loc'])}: {reason}")
        raise ConfigError("run file refused:\n" + "\n".join(problems)) from exc

    def problem(location: tuple[int | str, ...], reason: str, *, line_at: tuple[int | str, ...] = ()) -> str:
        return f"{path}:{_line_of(text, line_at or location) or '?'}: {_label(location)}: {reason}"

    run = run.model_copy(update={"prompts_dir": _beside(path, run.prompts_dir),
                                 "prices_file": _beside(path, run.prices_file)})
    if run.prompts_dir is not None:
        try:
            Prompts.load(run.prompts_dir)
        except (ConfigError, OSError, ValueError) as exc:
            raise ConfigError(problem(("prompts_dir",), f"{exc} (a folder, from the run file's folder)")) from exc
    try:
        prices = PriceTable.load(run.prices_file)
    except ConfigError as exc:
        raise ConfigError(problem(("prices_file",), f"{exc} (a file, from the run file's folder)")) from exc
    if run.referee is not None and not environ.get(run.referee.token_env):
        raise ConfigError(problem(("referee",), f"set {run.referee.token_env} to the referee's coordinator token"))
    for name, agent in run.agents.items():
        for variable in (agent.key_env, agent.token_env):
            if variable and not environ.get(variable):
                raise ConfigError(problem(("agents", name), f"set {variable} in the environment (the run file "
                                                            "names it; it never holds keys)"))
    if (repeated := repeated_cell(run)) is not None:
        index, cell, first = repeated
        where = "earlier in this block" if first == index else f"by conditions[{first}]"
        raise ConfigError(problem(("conditions", index), f"plays {cell} again, already planned {where}; "
                                                         "remove the repeat"))
    try:
        mazes = run.maze_params(path.parent)
    except (OSError, ValueError) as exc:
        raise ConfigError(problem(("mazes",), str(exc))) from exc
    if not mazes:
        raise ConfigError(problem(("mazes",), "the run has no mazes"))
    if twice := [maze_id for maze_id, count in Counter(m.maze_id for m in mazes).items() if count > 1]:
        raise ConfigError(problem(("mazes",), f"maze {twice[0]} is listed twice; its episodes would be played twice"))
    if (size := plan_size(run, len(mazes))) > run.max_episodes:
        cells = size // (len(mazes) * run.repetitions)
        repetitions = f"{run.repetitions} repetition{'s' if run.repetitions > 1 else ''}"
        raise ConfigError(problem(
            ("max_episodes",), f"the run plans {size:,} episodes ({cells:,} cells × {len(mazes):,} mazes × "
                               f"{repetitions}), more than max_episodes = {run.max_episodes:,}; plan fewer, or "
                               "raise max_episodes",
            line_at=("max_episodes",) if "max_episodes" in data else ("mazes",)))
    try:
        for maze in mazes:
            generate_maze(maze)
    except (CollabgapError, ValueError) as exc:
        raise ConfigError(problem(("mazes",), str(exc))) from exc
    if run.budget.max_usd is not None:
        table = run.prices_file or "the packaged price table"
        if unpriced := [problem(("agents", name, "player"), f"model {agent.model!r} has no price in {table}")
                        for name, agent in run.agents.items() if agent.model and not prices.priced(agent.model)]:
            raise ConfigError("\n".join(unpriced) + "\nbudget.max_usd cannot count what an unpriced model costs: "
                              "add its price to a prices_file, or remove the dollar cap. (Agents given by `url` "
                              "name their model only when they answer; the run checks those then.)")
    return run
