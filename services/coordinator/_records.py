"""What the coordinator stores of every episode. These fields are the stored format: bump `format` on change."""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from collabgap.protocol import SEATS, Condition, MazeParams, Mode, ModelCall, MoveRecord, Seat, Usage, VoteRecord

from ._errors import ErrorKind

EpisodeStatus = Literal["solved", "failed", "ended", "error"]
"""`error`: the platform failed and the episode is not scored. Every other status carries a score."""
EndReason = Literal["goal", "wall", "edge", "acti", "message_limit", "agent_failure", "error"]
"""`agent_failure`: a seat's agent failed (crash, timeout, empty or unusable reply); the game is scored where it
stood, and `EpisodeRecord.error` names the agent."""
AgentErrorPolicy = Literal["score", "exclude"]
"""What an agent's own failure counts as: `score` (default, as the paper did) or `exclude` (left out of n)."""
BLAME_PATTERN = r"^(agent:.+|grader|platform)$"


def maze_of(settings: MazeParams) -> MazeParams:
    """The maze's own fields of a settings model that extends `MazeParams` (a run file's `[mazes]`, the demo's,
    play's or the assessor's settings), so that a maze's id never depends on where it was named."""
    return MazeParams.model_validate(settings.model_dump(include=set(MazeParams.model_fields)))


def maze_series(first: MazeParams, count: int) -> list[MazeParams]:
    """`count` mazes of `first`'s parameters (see `maze_of`), with seeds `first.seed`, `first.seed + 1`, …."""
    maze = maze_of(first)
    return [maze.model_copy(update={"seed": maze.seed + i}) for i in range(count)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)


PlayerKind = Literal["agent", "human"]
"""`agent`: software (a scripted player, a model, any A2A agent); `human`: a person at `collabgap human serve`."""


class SeatSpec(_Record):
    """Who holds a seat: a display name, the agent's A2A base URL, and whether a person plays it."""

    name: str
    url: str
    player_kind: PlayerKind = "agent"
    """`human` for a person's seat, so human baselines are rows of their own in the analysis (docs/human.md)."""


class ExplicitMaze(_Record):
    """A maze given row by row, optionally with its two views."""

    rows: list[str]
    views: list[list[str]] | None = None


class RelaySpec(_Record):
    """Relay: after `after_messages` messages, the seats named here change hands (DESIGN §3.4).

    The new player of a seat inherits its frozen history: every earlier message of both seats.
    """

    kind: Literal["primer", "recovery"]
    """`primer`: a strong player opens, weaker ones carry on; `recovery`: the reverse."""
    after_messages: int = Field(ge=1)
    """K: messages written before the hand-over."""
    seat_a: SeatSpec | None = None
    """Who takes seat A after K messages (None: A keeps its player)."""
    seat_b: SeatSpec | None = None
    """Who takes seat B after K messages (None: B keeps its player)."""

    def newcomers(self) -> dict[Seat, SeatSpec]:
        """The seats that change hands, each with its new holder."""
        handovers: tuple[tuple[Seat, SeatSpec | None], ...] = (("A", self.seat_a), ("B", self.seat_b))
        return {seat: holder for seat, holder in handovers if holder is not None}


class EpisodeSpec(_Record):
    """One game to play: enough to play it again."""

    @model_validator(mode="after")
    def _paper_mode_has_a_grader(self) -> EpisodeSpec:
        if self.mode == "paper" and self.grader is None:
            raise ValueError("paper mode needs a grader agent")
        if (self.condition in ("pair", "team")) != (self.seat_b is not None):
            raise ValueError("a pair or team needs seat B; a solo condition has none")
        if (self.condition == "team") != bool(self.more_seats):
            raise ValueError("a team has three to six seats: seats C, D, … in `more_seats`; other conditions none")
        if len(self.more_seats) > len(SEATS) - 2:
            raise ValueError(f"a team has at most {len(SEATS)} seats")
        if self.order and sorted(self.order) != list(self.seats()):
            raise ValueError(f"`order` must name each seat of the team once: {', '.join(self.seats())}")
        if self.relay is not None and self.condition not in ("pair", "team"):
            raise ValueError("a relay hands over the seats of a pair or team")
        return self

    episode_id: str
    condition: Condition
    seat_a: SeatSpec
    seat_b: SeatSpec | None = None
    """None in solo conditions."""
    more_seats: list[SeatSpec] = Field(default_factory=list, exclude_if=lambda seats: not seats)
    """Condition `team`: who holds seats C, D, … in order (`seat_a` and `seat_b` hold A and B); absent otherwise."""
    order: list[Seat] = Field(default_factory=list, exclude_if=lambda order: not order)
    """Condition `team`: the order the seats speak in, when the run file sets one; absent: A, B, C, …"""
    maze: MazeParams | ExplicitMaze
    feedback: Literal["none", "position"] = "none"
    message_limit: int = Field(50, ge=1, le=1000)
    game_timeout_s: float = Field(1800.0, gt=0)
    """A game that takes longer ends as an `agent_timeout` error."""
    mode: Mode = "referee"
    """`referee`: votes go to the referee; `paper`: free dialogue, then a grader extracts the route."""
    grader: SeatSpec | None = None
    """The agent that grades paper-mode transcripts; required in paper mode."""
    relay: RelaySpec | None = None
    """Set for relay episodes (condition `pair`)."""
    repetition: int = Field(0, ge=0)
    """Which repetition of the same cell and maze this is."""
    agent_errors: AgentErrorPolicy = "score"
    """The run's `[errors] agent` policy: how the analysis counts episodes ended by an agent's own failure."""

    def seats(self) -> dict[Seat, SeatSpec]:
        """Every seat of the game, in seat order (A, B, C, …), with its opening holder."""
        holders = [self.seat_a, *([self.seat_b] if self.seat_b else []), *self.more_seats]
        return dict(zip(SEATS, holders, strict=False))

    def speaking_order(self) -> tuple[Seat, ...]:
        """The seats in the order they speak: `order` when set, else seat order."""
        return tuple(self.order) or tuple(self.seats())


class MessageRecord(_Record):
    """One message of the conversation, as relayed."""

    index: int
    seat: Seat
    player: str = ""
    """The name of the agent that wrote it (seats change hands in relays)."""
    text: str
    latency_s: float
    vote: str | None = None
    """The direction this message voted for, as submitted to the referee."""
    vote_error: str | None = None
    """Why a `MOVE:` line in this message could not be submitted (an unknown direction)."""
    usage: Usage | None = None
    """Tokens and model latency, as the agent reported them."""
    cost_usd: float | None = None
    """From `usage` and the run's price table; None when the model has no price."""
    model_input: list[ModelCall] = Field(default_factory=list)
    """What the model saw: every request that made this message, as the agent reported it (none for scripted
    players and most third-party agents). Each shares its leading messages with the seat's request before it;
    `protocol.expand_calls` rebuilds the full requests."""


class GradingRecord(_Record):
    """Paper mode: what the grader answered, and the route the referee scored."""

    text: str
    route: list[str]
    schema_: dict[str, object] = Field(default_factory=dict, alias="schema")
    convention: str | None = None
    """How the referee read the route: `directions` or the most favourable coordinate convention."""
    usage: Usage | None = None
    cost_usd: float | None = None
    error: str | None = None
    """Why the grader's answer could not be used; the route is then empty and scores as no progress."""
    model_input: list[ModelCall] = Field(default_factory=list)
    """What the grader's model saw, as its agent reported it (the first request shares nothing)."""


class EpisodeError(_Record):
    """What went wrong in an episode, and who caused it.

    Blamed on the platform (the referee, our own code): the episode is `error`, retried, and never scored.
    Blamed on an agent or the grader: the episode is scored where it stood and flagged with this error.
    """

    kind: ErrorKind
    seat: Seat | Literal["grader"] | None
    message: str
    blame: str = Field("platform", pattern=BLAME_PATTERN)
    """Who caused it: `agent:<name>` (the seat's holder at that moment), `grader`, or `platform`."""

    @property
    def platform(self) -> bool:
        return self.blame == "platform"


class Score(_Record):
    """From the referee's true maze."""

    weighted: float
    success: bool
    moves: int
    conflicts: int
    optimal_length: int


class AttemptRecord(_Record):
    """An earlier attempt of an episode, ended by a platform error and replayed: kept with what it cost."""

    attempt: int = Field(ge=1)
    error: EpisodeError
    game_id: str | None = None
    messages: list[MessageRecord] = Field(default_factory=list)
    grading: GradingRecord | None = None
    duration_s: float = 0.0


class Tokens(NamedTuple):
    """Prompt and completion tokens of an episode; `total` is what budgets and cost tables count."""

    prompt: int
    completion: int

    @property
    def total(self) -> int:
        return self.prompt + self.completion


def _usages(messages: list[MessageRecord], grading: GradingRecord | None) -> list[Usage]:
    return [u for u in [*(m.usage for m in messages), grading.usage if grading else None] if u is not None]


def _costs(messages: list[MessageRecord], grading: GradingRecord | None) -> float:
    costs = [m.cost_usd for m in messages] + [grading.cost_usd if grading else None]
    return sum(cost for cost in costs if cost is not None)


class EpisodeRecord(_Record):
    """One stored episode."""

    format: Literal[2] = 2
    spec: EpisodeSpec
    game_id: str | None
    maze_id: str | None
    status: EpisodeStatus
    end_reason: EndReason
    error: EpisodeError | None = None
    """Set only when status == "error"."""
    score: Score | None = None
    """None when status == "error"."""
    messages: list[MessageRecord] = Field(default_factory=list)
    votes: list[VoteRecord] = Field(default_factory=list)
    moves: list[MoveRecord] = Field(default_factory=list)
    maze: list[str] = Field(default_factory=list)
    views: list[list[str]] = Field(default_factory=list)
    grading: GradingRecord | None = None
    duration_s: float = 0.0
    attempt: int = 1
    """Which attempt this is: episodes that end in a platform error are retried as configured."""
    attempts: list[AttemptRecord] = Field(default_factory=list)
    """The earlier attempts, oldest first, each ended by a platform error; their cost counts."""
    agents: dict[str, str] = Field(default_factory=dict)
    """Provenance: agent URL → SHA-256 of the agent card it served."""

    @property
    def flagged(self) -> bool:
        """Scored although an agent or the grader failed: the report flags it."""
        return self.error is not None and self.score is not None

    @property
    def usages(self) -> list[Usage]:
        """Every reported model usage of the episode: all attempts, every message and the grading."""
        earlier = [u for a in self.attempts for u in _usages(a.messages, a.grading)]
        return earlier + _usages(self.messages, self.grading)

    @property
    def tokens(self) -> Tokens:
        """Prompt and completion tokens over every attempt, message and grading."""
        usages = self.usages
        return Tokens(sum(u.prompt_tokens for u in usages), sum(u.completion_tokens for u in usages))

    @property
    def cost_usd(self) -> float:
        """Known cost of the episode: every priced message and grading, of every attempt."""
        return sum(_costs(a.messages, a.grading) for a in self.attempts) + _costs(self.messages, self.grading)
