"""One episode: create the game, relay the conversation seat by seat, submit votes or grade, score.

Referee mode (DESIGN §3.4): every vote goes to the referee, which alone moves the team. Paper mode: the seats
talk freely; afterwards a grader extracts the agreed route and the referee scores it (`grade_route`).

The conversation itself, seat by seat, is `_relay.Relay`; this module creates the game around it, decides who
is to blame for a failure, and records the outcome.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from collabgap.protocol import CreateGameArgs, GameRecord, Maze, MazeParams, Seat, replay_moves

from .._errors import AgentFault, PlatformFault, RefereeFault
from .._records import (
    EndReason,
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    GradingRecord,
    MessageRecord,
    Score,
    SeatSpec,
)
from ._prices import PriceTable
from ._prompts import Prompts
from ._referee_client import RefereeClient, SeatChannel
from ._relay import Relay
from ._seat_client import AgentConnection

logger = logging.getLogger(__name__)

MessageListener = Callable[[EpisodeSpec, MessageRecord], None]
"""Hears each message of an episode as soon as it is relayed (`collabgap play` prints it)."""


def game_arguments(spec: EpisodeSpec) -> CreateGameArgs:
    """The referee's `create_game` arguments for an episode."""
    arguments: dict[str, Any] = {"mode": "solo" if spec.seat_b is None else "pair", "feedback": spec.feedback}
    if spec.condition == "team":
        arguments["seats"] = len(spec.seats())
    if isinstance(spec.maze, MazeParams):
        arguments.update(spec.maze.model_dump())
    else:
        arguments.update(maze=spec.maze.rows, views=spec.maze.views)
    return CreateGameArgs.model_validate(arguments)


def maze_id(spec: EpisodeSpec) -> str:
    if isinstance(spec.maze, MazeParams):
        return spec.maze.maze_id
    return "x-" + hashlib.sha256("\n".join(spec.maze.rows).encode()).hexdigest()[:12]


def _holders(spec: EpisodeSpec) -> list[tuple[Seat | Literal["grader"], SeatSpec]]:
    """Every agent of an episode with the seat it holds, relay newcomers after the opening players."""
    holders: list[tuple[Seat | Literal["grader"], SeatSpec | None]] = [
        *spec.seats().items(), ("grader", spec.grader), *(spec.relay.newcomers().items() if spec.relay else ())]
    return [(seat, holder) for seat, holder in holders if holder is not None]


def episode_agents(spec: EpisodeSpec) -> list[SeatSpec]:
    """Every agent an episode talks to: its seats, grader and relay newcomers."""
    return [holder for _, holder in _holders(spec)]


def _unreachable(spec: EpisodeSpec, agents: Mapping[str, AgentConnection],
                 reasons: Mapping[str, str]) -> EpisodeError | None:
    """The failure of the first agent of the episode that the run could not connect to, with the reason when it
    is known; None when all are here."""
    for seat, holder in _holders(spec):
        if holder.url not in agents:
            reason = f": {reasons[holder.url]}" if holder.url in reasons else ""
            return EpisodeError(kind="agent_unreachable", seat=seat,
                                message=f"no connection to {holder.url}{reason}"[:2000],
                                blame="grader" if seat == "grader" else f"agent:{holder.name}")
    return None


def _agent_failure(exc: AgentFault, relay: Relay) -> EpisodeError:
    """An agent's fault, blamed on whoever held the seat whose turn it was (a relay newcomer included)."""
    seat = relay.current
    assert seat is not None, "an agent fails only on its turn"
    return EpisodeError(kind=exc.kind, seat=seat, message=str(exc)[:2000], blame=f"agent:{relay.holders[seat].name}")


async def _stop_after_error(referee: RefereeClient, game_id: str | None, kind: str) -> GameRecord | None:
    """End a game that failed on our side and read where it stood; None when the referee cannot say."""
    if game_id is None:
        return None
    try:
        return await referee.end_game(game_id, f"error: {kind}")
    except RefereeFault as exc:  # the referee may be what failed
        logger.info("game %s could not be ended after a platform error: %s", game_id, exc)
        return None


async def play_episode(spec: EpisodeSpec, referee: RefereeClient, agents: Mapping[str, AgentConnection], *,
                       prompts: Prompts | None = None, prices: PriceTable | None = None,
                       on_message: MessageListener | None = None,
                       unreachable: Mapping[str, str] | None = None) -> EpisodeRecord:
    """Play one episode to its end, and record who caused any failure (`EpisodeError.blame`); `on_message`
    hears each message as it is relayed. An agent missing from `agents` is unreachable, for the reason that
    `unreachable` gives for its URL when it has one.

    An agent's own failure (`AgentFault`: unreachable, too slow, an empty or unusable reply, a failed task) ends
    the game where it stands and is scored there, blamed on the agent holding the seat: in referee mode at the
    referee's position, in paper mode as the grader reads what was said. A grader that fails scores an empty
    route, blamed on the grader. A failure of the referee or of collabgap itself is the platform's: the episode
    is `error`, unscored, and keeps the maze, the moves and the messages so far.
    """
    started = time.perf_counter()
    game_id: str | None = None
    game: GameRecord | None = None
    relay: Relay | None = None
    grading: GradingRecord | None = None
    try:
        created = await referee.create_game(game_arguments(spec))
        game_id = created.game_id
        game = await referee.get_game(game_id)
        failure = missing = _unreachable(spec, agents, unreachable or {})
        reason: EndReason | None = None
        async with contextlib.AsyncExitStack() as stack:
            channels: dict[Seat, SeatChannel] = {
                seat: await stack.enter_async_context(referee.seat(created.seat_tokens[seat]))
                for seat in spec.seats()}
            relay = Relay(spec, game, agents, channels, prompts or Prompts.load(), prices or PriceTable.load(),
                           referee, created.seat_tokens, on_message)
            if missing is None:
                try:
                    reason = await relay.play()
                except AgentFault as exc:
                    failure = _agent_failure(exc, relay)
        if spec.grader is not None and spec.mode == "paper" and spec.grader.url in agents and relay.messages:
            final, grading = await relay.grade(agents[spec.grader.url], referee)
        else:
            note = f"agent failure: {failure.kind}" if failure is not None else reason or "finished"
            final = await referee.end_game(game_id, note)
        if missing is None:
            await relay.say_goodbye(final, failed=failure.seat if failure is not None and failure.seat != "grader"
                                    else None)
    except Exception as exc:  # noqa: BLE001 - one place per episode: every failure is recorded, the run goes on
        kind = exc.kind if isinstance(exc, PlatformFault) else "internal"
        if not isinstance(exc, PlatformFault):
            logger.exception("episode %s failed inside collabgap", spec.episode_id)
        stopped = await _stop_after_error(referee, game_id, kind)
        known = stopped or game
        moves = (stopped.moves if stopped else  # the referee is gone: replay the moves it made on the maze
                 replay_moves(Maze.parse(game.maze), relay.executed) if game is not None and relay else [])
        return EpisodeRecord(
            spec=spec, game_id=game_id, maze_id=maze_id(spec), status="error", end_reason="error",
            error=EpisodeError(kind=kind, seat=relay.current if relay else None, message=str(exc)[:2000]),
            messages=relay.messages if relay else [], votes=known.votes if known else [],
            moves=moves, maze=known.maze if known else [], views=known.views if known else [],
            grading=grading, duration_s=time.perf_counter() - started, agents=_provenance(spec, agents),
        )
    end_reason: EndReason = final.end_reason if final.end_reason in ("goal", "wall", "edge") else (reason or "acti")
    if failure is not None:
        end_reason = "agent_failure"
    elif grading is not None and grading.error is not None:
        failure = EpisodeError(kind="grader_error", seat="grader", message=grading.error, blame="grader")
    return EpisodeRecord(
        spec=spec, game_id=game_id, maze_id=maze_id(spec), status="ended" if final.status == "active" else final.status,
        end_reason=end_reason, error=failure,
        score=Score(weighted=final.weighted_score, success=final.success, moves=len(final.moves),
                    conflicts=final.conflicts, optimal_length=final.optimal_length),
        messages=relay.messages, votes=final.votes, moves=final.moves, maze=final.maze, views=final.views,
        grading=grading, duration_s=time.perf_counter() - started, agents=_provenance(spec, agents),
    )


def _provenance(spec: EpisodeSpec, agents: Mapping[str, AgentConnection]) -> dict[str, str]:
    return {s.url: agents[s.url].card_digest for s in episode_agents(spec) if s.url in agents}
