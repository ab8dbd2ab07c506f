"""Run files (TOML): what to run, validated in full before anything starts (issue 4).

A run file names agents (a built-in scripted player, an LLM spec, or any A2A URL), conditions and pairings,
the maze set, repetitions, limits, concurrency, the store and budget caps. It expands into episodes with
stable ids, so a second run of the same file skips what is stored and a killed run resumes. `load_run_file`
(`_runfile_load`) reads and checks one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_serializer, field_validator, model_validator

from collabgap.protocol import SEATS, MazeParams, Seat
from collabgap.services.agent import HUMAN_PLAYER, AgentSettings, PlayerSpecError, VendorSpec, canonical_player

from .._records import AgentErrorPolicy, PlayerKind, maze_series
from ._store_url import masked_url

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
AgentName = Annotated[str, Field(pattern=_NAME)]
"""What an agent of a run may be called."""
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

    def agent_settings(self) -> AgentSettings:
        """The settings of the agent service the run starts for `player` (never a secret: the key stays in the
        variable `api_key_env` names)."""
        assert self.player is not None, "an agent given by `url` is not started by the run"
        kind, _, model = self.player.partition(":")
        vendor = None
        if kind in _VENDORS:
            given = {"base_url": self.base_url, "api_key_env": self.api_key_env, "temperature": self.temperature,
                     "max_tokens": self.max_tokens, "reasoning_effort": self.reasoning_effort,
                     "max_concurrency": self.concurrency}
            vendor = VendorSpec.model_validate({"kind": kind, "model": model,
                                                **{name: value for name, value in given.items() if value is not None}})
        return AgentSettings(player=self.player, vendor=vendor)


class MazeSet(MazeParams):
    """Generated mazes (`count` seeds from `seed`, each with these `MazeParams`), or mazes read from a JSONL
    `file` of MazeParams lines."""

    count: int = Field(20, ge=1, le=100_000)
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
    agents: dict[AgentName, AgentEntry] = Field(min_length=1)
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
            return maze_series(spec, spec.count)
        path = spec.file if spec.file.is_absolute() else base / spec.file
        return [MazeParams.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]

    def snapshot(self) -> dict[str, Any]:
        """What the run's episodes mean, as stored with the run: it names key variables, never holds a key.

        Budget, concurrency, retries and the plan-size limit are left out: raising a cap or a limit and running
        again continues the same run, while changing anything else is a different run and the store refuses it.
        """
        snapshot: dict[str, Any] = json.loads(self.model_dump_json(exclude={"budget", "concurrency", "retries",
                                                                            "max_episodes"}))
        return snapshot
