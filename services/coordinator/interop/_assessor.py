"""Assessor mode: the coordinator served as an A2A agent that assesses other agents (an AgentBeats "green agent").

A client sends one message whose text is JSON (a data part of the same shape also works):

    {"participants": {"A": "http://127.0.0.1:9101", "B": "http://127.0.0.1:9102"},
     "config": {"conditions": ["pair"], "mazes": 5}}

Roles `A` and `B` play one pair (A opens). Any other role names play every ordered pair of participants,
self-pairs included, as a run file's `pairing = "all"` does. Solo conditions give every participant its own
episodes. The request is planned as a run file of agents given by URL (`assessment_run`), so its episodes have a
run's ids, and played in memory: nothing is stored. The task streams a WORKING update after each episode
("3/10 episodes done"), then an artifact named `results` (see `AssessmentResult`), then completes. A request that
cannot be played is REJECTED with the reason; a referee that cannot be reached FAILS the task. Episode errors are
data in the results, as in any run.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from a2a.helpers import (
    get_data_parts,
    get_text_parts,
    new_data_part,
    new_task_from_user_message,
    new_text_part,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import (
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    TaskState,
)
from a2a.utils.errors import InvalidParamsError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from collabgap.protocol import Condition, MazeParams

from .._errors import ConfigError, CoordinatorError
from .._records import EndReason, EpisodeError, EpisodeRecord, EpisodeSpec, EpisodeStatus, maze_of
from ..analysis._analysis import Cell, analyze
from ..game._experiment import run_episodes
from ..runs._plan import expand, plan_size
from ..runs._runfile import AgentEntry, AgentName, ConditionEntry, Limits, MazeSet, RunFile

JSONRPC_PATH = "/a2a/jsonrpc/"
REST_PATH = "/a2a/rest"
ASSESS_SKILL_ID = "collabgap.assess"


def _agent_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL of an A2A agent")
    return url.rstrip("/")


AgentURL = Annotated[str, AfterValidator(_agent_url)]


AssessedCondition = Literal["solo-full", "solo-split", "pair"]
"""What an assessment plays; teams are played from run files."""


class AssessmentConfig(MazeParams):
    """What to play; the `config` object of a request. Unknown keys are refused, so a typo fails loudly. The
    `MazeParams` fields (size, wall_density, start, goal, min_path, max_path, seed) make the mazes, maze i with
    seed `seed + i`."""

    conditions: list[AssessedCondition] = Field(default_factory=lambda: list[AssessedCondition](["pair"]),
                                                min_length=1)
    """Conditions to play: `solo-full`, `solo-split` (each participant alone), `pair`."""
    mazes: int = Field(5, ge=1, le=10_000)
    """Mazes per cell (condition and seating)."""
    message_limit: int = Field(50, ge=1, le=1000)
    concurrency: int = Field(4, ge=1, le=256)
    """Episodes played at once."""
    turn_timeout_s: float = Field(60.0, gt=0, le=3600)
    """How long one agent may take to answer one message."""


class AssessmentRequest(BaseModel):
    """The AgentBeats assessment request: who is assessed (role → agent base URL) and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    participants: dict[AgentName, AgentURL] = Field(min_length=1)
    """Role → agent base URL; the roles name the agents of the assessment's run."""
    config: AssessmentConfig = Field(default_factory=AssessmentConfig)


class EpisodeOutcome(BaseModel):
    """One episode, in short; `weighted` and `success` are None for an episode that ended in an error."""

    model_config = ConfigDict(frozen=True)

    episode_id: str
    condition: Condition
    seat_a: str
    """The role in seat A."""
    seat_b: str | None
    """The role in seat B; None in solo conditions."""
    status: EpisodeStatus
    end_reason: EndReason
    weighted: float | None
    success: bool | None
    error: EpisodeError | None


class AssessmentResult(BaseModel):
    """The `results` artifact: the request as resolved, per-cell summaries and every episode."""

    model_config = ConfigDict(frozen=True)

    participants: dict[str, str]
    config: AssessmentConfig
    cells: list[Cell]
    """The analysis's cells: n, errors, weighted score and success rate with their intervals, tokens, cost."""
    episodes: list[EpisodeOutcome]

    @classmethod
    def from_records(cls, request: AssessmentRequest, records: list[EpisodeRecord]) -> AssessmentResult:
        episodes = [EpisodeOutcome(
            episode_id=r.spec.episode_id, condition=r.spec.condition, seat_a=r.spec.seat_a.name,
            seat_b=r.spec.seat_b.name if r.spec.seat_b else None, status=r.status, end_reason=r.end_reason,
            weighted=r.score.weighted if r.score else None, success=r.score.success if r.score else None,
            error=r.error,
        ) for r in records]
        return cls(participants=dict(request.participants), config=request.config, cells=analyze(records).cells,
                   episodes=episodes)


class AssessorSettings(BaseModel):
    """How the assessor is served and which referee it plays on; validated once, at the edge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    referee_url: str
    """The referee's MCP endpoint, ending in `/mcp`."""
    referee_token: SecretStr
    """The referee's coordinator token."""
    public_url: str
    """The base URL the agent card advertises (where clients reach this service)."""
    max_episodes: int = Field(1000, ge=1)
    """Requests that plan more episodes are rejected."""


def read_request(message: Message) -> AssessmentRequest:
    """The assessment request in `message`: a data part holding `participants`, else the text parts as JSON.

    Raises:
        ConfigError: no request, or one that does not validate; the message says what is wrong.
    """
    try:
        for item in get_data_parts(message.parts):
            if isinstance(item, dict) and "participants" in item:
                return AssessmentRequest.model_validate(item)
        text = "\n".join(get_text_parts(message.parts)).strip()
        if not text:
            raise ConfigError('send the request as JSON text: {"participants": {"A": url, "B": url}, "config": {}}')
        return AssessmentRequest.model_validate_json(text)
    except pydantic.ValidationError as exc:
        raise _bad_request(exc) from exc


def _bad_request(exc: pydantic.ValidationError) -> ConfigError:
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'request'}: {e['msg']}" for e in exc.errors())
    return ConfigError(f"bad assessment request: {problems}")


def _block(condition: AssessedCondition, roles: list[str]) -> ConditionEntry:
    """One condition over the roles: `A` and `B` pair once, A opening; other roles every ordered pair."""
    if condition == "pair" and set(roles) == {"A", "B"}:
        return ConditionEntry(kind="pair", pairing="explicit", pairs=[["A", "B"]])
    return ConditionEntry(kind=condition, agents=roles)


def assessment_run(request: AssessmentRequest) -> RunFile:
    """The request as a run file of agents given by URL, one condition block per condition asked for.

    Raises:
        ConfigError: a participant the run file refuses (a URL pydantic's `HttpUrl` does not take).
    """
    config = request.config
    try:
        agents = {role: AgentEntry(url=url) for role, url in request.participants.items()}
        return RunFile(name="assessment", agents=agents,
                       mazes=MazeSet(count=config.mazes, **maze_of(config).model_dump()),
                       conditions=[_block(condition, list(request.participants)) for condition in config.conditions],
                       limits=Limits(messages=config.message_limit, turn_timeout_s=config.turn_timeout_s))
    except pydantic.ValidationError as exc:
        raise _bad_request(exc) from exc


def _note(updater: TaskUpdater, text: str) -> Message:
    return updater.new_agent_message([new_text_part(text)])


class AssessorExecutor(AgentExecutor):
    """One task per request: validate, play every planned episode, stream progress, publish the results."""

    def __init__(self, settings: AssessorSettings) -> None:
        self._settings = settings

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        if context.message is None:
            raise InvalidParamsError("send the assessment request as a message")
        task = context.current_task
        if task is None:
            try:
                task = new_task_from_user_message(context.message)
            except ValueError as exc:
                raise InvalidParamsError(str(exc)) from exc
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        try:
            request = read_request(context.message)
            run = assessment_run(request)
        except ConfigError as exc:
            await updater.reject(_note(updater, str(exc)))
            return
        # Counted before planning, so that a request too large is refused without building its plan.
        if (planned := plan_size(run, request.config.mazes)) > (most := self._settings.max_episodes):
            await updater.reject(_note(updater, f"the request plans {planned} episodes; this assessor plays at "
                                                f"most {most}: ask for fewer mazes or conditions"))
            return
        # Conditions × seatings × mazes, as the run file's planner orders them; each seat holds its URL as given.
        plan = expand(run, Path(), request.participants.__getitem__)
        await updater.start_work(_note(updater, f"0/{len(plan)} episodes done"))
        try:
            records = await self._play(request, plan, updater)
        except CoordinatorError as exc:
            await updater.failed(_note(updater, f"assessment failed: {exc}"))
            return
        result = AssessmentResult.from_records(request, records)
        await updater.add_artifact([new_data_part(result.model_dump(mode="json"), media_type="application/json"),
                                    new_text_part(result.model_dump_json(), media_type="application/json")],
                                   name="results")
        counts = Counter(record.status for record in records)
        await updater.complete(_note(updater, f"{len(records)} episodes: "
                                              + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))))

    async def _play(self, request: AssessmentRequest, plan: list[EpisodeSpec],
                    updater: TaskUpdater) -> list[EpisodeRecord]:
        """Play `plan`, publishing a WORKING update after each episode (the callback cannot await, a task can)."""
        finished: asyncio.Queue[EpisodeRecord] = asyncio.Queue()

        async def report() -> None:
            for done in range(1, len(plan) + 1):
                record = await finished.get()
                await updater.update_status(TaskState.TASK_STATE_WORKING, _note(
                    updater, f"{done}/{len(plan)} episodes done ({record.spec.episode_id}: {record.status})"))

        reporter = asyncio.create_task(report())
        try:
            records = await run_episodes(
                plan, self._settings.referee_url, self._settings.referee_token,
                concurrency=request.config.concurrency, turn_timeout_s=request.config.turn_timeout_s,
                on_episode=finished.put_nowait)
            await reporter  # every record was queued before run_episodes returned
            return records
        finally:
            if not reporter.done():
                reporter.cancel()
                await asyncio.wait({reporter})

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        if context.task_id and context.context_id:
            await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def build_assessor_card(settings: AssessorSettings) -> AgentCard:
    """The assessor's card: streaming, JSON-RPC (1.0 and 0.3) and HTTP+JSON, one `collabgap.assess` skill."""
    base = settings.public_url.rstrip("/")
    example = '{"participants": {"A": "http://127.0.0.1:9101", "B": "http://127.0.0.1:9102"}, "config": {"mazes": 5}}'
    return AgentCard(
        name="collabgap assessor",
        description="Assesses how well A2A agents collaborate: plays them on collabgap mazes, alone and in pairs, "
                    "and reports weighted scores and success rates.",
        version="1",
        supported_interfaces=[
            AgentInterface(protocol_binding="JSONRPC", protocol_version="1.0", url=f"{base}{JSONRPC_PATH}"),
            AgentInterface(protocol_binding="HTTP+JSON", protocol_version="1.0", url=f"{base}{REST_PATH}"),
            # AgentBeats-era clients speak A2A 0.3 JSON-RPC; the same endpoint answers them.
            AgentInterface(protocol_binding="JSONRPC", protocol_version="0.3", url=f"{base}{JSONRPC_PATH}"),
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["application/json", "text/plain"],
        skills=[AgentSkill(
            id=ASSESS_SKILL_ID, name="Assess collaboration",
            description="Send JSON {participants: {role: agent URL}, config: {conditions, mazes, size, "
                        "wall_density, start, goal, min_path, max_path, seed, message_limit, concurrency, "
                        "turn_timeout_s}}. Roles A and B play one pair (A opens); "
                        "other role names play every ordered pair. Streams progress, then a `results` artifact.",
            tags=["collabgap", "assessment", "maze", "collaboration"],
            examples=[example],
        )],
    )


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": "collabgap-assessor"})


def create_assessor_app(settings: AssessorSettings) -> Starlette:
    """The assessor service: card at the well-known path, JSON-RPC at `/a2a/jsonrpc/`, HTTP+JSON at `/a2a/rest`."""
    card = build_assessor_card(settings)
    handler = DefaultRequestHandler(agent_executor=AssessorExecutor(settings), task_store=InMemoryTaskStore(),
                                    agent_card=card)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await handler.aclose()

    return Starlette(
        routes=[
            Route("/healthz", _health),
            *create_agent_card_routes(card, cache_control="public, max-age=60"),
            *create_jsonrpc_routes(handler, rpc_url=JSONRPC_PATH, enable_v0_3_compat=True),
            *create_rest_routes(handler, path_prefix=REST_PATH),
        ],
        lifespan=lifespan,
    )
