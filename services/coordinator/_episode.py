"""One episode: create the game, relay the conversation strictly alternating, submit votes, score (DESIGN §3.4)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from protocol import (
    Direction,
    DirectionError,
    GameRecord,
    MazeParams,
    Seat,
    SeatEnd,
    SeatStart,
    SeatTurn,
    VoteOutcome,
    find_votes,
    says_done,
)

from ._errors import AgentUnreachableError, InfrastructureError
from ._prompts import start_text, turn_text
from ._records import EndReason, EpisodeError, EpisodeRecord, EpisodeSpec, MessageRecord, Score
from ._referee_client import RefereeClient, SeatChannel
from ._seat_client import AgentConnection, SeatReply

logger = logging.getLogger(__name__)


def game_arguments(spec: EpisodeSpec) -> dict[str, Any]:
    """The referee's `create_game` arguments for an episode."""
    arguments: dict[str, Any] = {"mode": "pair" if spec.condition == "pair" else "solo", "feedback": spec.feedback}
    if isinstance(spec.maze, MazeParams):
        arguments.update(spec.maze.model_dump())
    else:
        arguments.update(maze=spec.maze.rows, views=spec.maze.views)
    return arguments


def maze_id(spec: EpisodeSpec) -> str:
    if isinstance(spec.maze, MazeParams):
        return spec.maze.maze_id
    return "x-" + hashlib.sha256("\n".join(spec.maze.rows).encode()).hexdigest()[:12]


def pick_vote(reply: SeatReply) -> tuple[Direction | None, str | None]:
    """The one vote a message casts: its data-part move, else its first `MOVE:` line; or why it has none."""
    raw = reply.data_move if reply.data_move is not None else next(iter(find_votes(reply.text)), None)
    if raw is None:
        return None, None
    try:
        return Direction.parse(raw), None
    except DirectionError as exc:
        return None, str(exc)


class _Relay:
    """The state of one conversation while it is relayed."""

    def __init__(self, spec: EpisodeSpec, game: GameRecord, agents: Mapping[Seat, AgentConnection],
                 channels: Mapping[Seat, SeatChannel]) -> None:
        self.spec = spec
        self.game = game
        self.agents = agents
        self.channels = channels
        self.seats: tuple[Seat, ...] = ("A", "B") if spec.condition == "pair" else ("A",)
        self.messages: list[MessageRecord] = []
        self.current: Seat | None = None

    def _maps(self, seat: Seat) -> list[list[str]]:
        if self.spec.condition == "solo-full":
            return [self.game.maze]
        if self.spec.condition == "solo-split":
            return self.game.views
        return [self.game.views[0 if seat == "A" else 1]]

    def _message(self, seat: Seat, sent: int, partner_text: str | None,
                 outcomes: list[VoteOutcome]) -> SeatStart | SeatTurn:
        if sent == 0:
            return SeatStart(
                game_id=self.game.game_id, seat=seat, condition=self.spec.condition, speaks_first=not self.messages,
                message_limit=self.spec.message_limit, size=len(self.game.maze), maps=self._maps(seat),
                legend="@ start, * goal, . open, # wall, ? hidden", partner_text=partner_text,
            )
        return SeatTurn(game_id=self.game.game_id, seat=seat, turn=sent + 1, partner_text=partner_text,
                        outcomes=outcomes)

    async def play(self) -> EndReason | None:
        """Relay until the referee ends the game, a seat says ACTI!, or the message limit; None: the referee ended it."""
        solo = len(self.seats) == 1
        pending: dict[Seat, list[VoteOutcome]] = {seat: [] for seat in self.seats}
        sent: dict[Seat, int] = {seat: 0 for seat in self.seats}
        partner_text: str | None = None
        for index in range(self.spec.message_limit):
            seat = self.current = self.seats[index % len(self.seats)]
            message = self._message(seat, sent[seat], None if solo else partner_text, pending[seat])
            text = start_text(message) if isinstance(message, SeatStart) else turn_text(message, solo)
            pending[seat], sent[seat] = [], sent[seat] + 1
            reply = await self.agents[seat].send(seat, f"{self.game.game_id}-{seat}", text, message)
            vote, vote_error = pick_vote(reply)
            status = "active"
            if vote is not None:
                result = await self.channels[seat].propose_move(vote)
                outcome = VoteOutcome(seat=seat, direction=vote.value, executed=result.executed,
                                      status=result.status, position=result.position)
                for listener in self.seats:
                    pending[listener].append(outcome)
                status = result.status
            self.messages.append(MessageRecord(index=index, seat=seat, text=reply.text, latency_s=reply.latency_s,
                                               vote=vote.value if vote else None, vote_error=vote_error))
            partner_text = reply.text
            if status in ("solved", "failed"):
                return None
            if says_done(reply.text):
                return "acti"
        return "message_limit"

    async def say_goodbye(self, final: GameRecord) -> None:
        """Tell each seat the game is over; an agent that fails to listen no longer matters to the score."""
        for seat in self.seats:
            end = SeatEnd(game_id=final.game_id, seat=seat, status=final.status, reason=final.end_reason or "ended")
            try:
                await self.agents[seat].send(seat, f"{final.game_id}-{seat}", f"The game is over: {final.status}.", end)
            except InfrastructureError as exc:
                logger.info("seat %s did not take the end of game %s: %s", seat, final.game_id, exc)


async def play_episode(spec: EpisodeSpec, referee: RefereeClient, agents: Mapping[str, AgentConnection]) -> EpisodeRecord:
    """Play one episode to its end; infrastructure failures end it as `error` with the reason, never as a score."""
    started = time.perf_counter()
    game_id: str | None = None
    relay: _Relay | None = None
    try:
        seat_specs = {"A": spec.seat_a, **({"B": spec.seat_b} if spec.seat_b else {})}
        missing = [s.url for s in seat_specs.values() if s.url not in agents]
        if missing:
            raise AgentUnreachableError(f"no connection to {', '.join(missing)}")
        created = await referee.create_game(**game_arguments(spec))
        game_id = created.game_id
        game = await referee.get_game(game_id)
        async with contextlib.AsyncExitStack() as stack:
            channels = {seat: await stack.enter_async_context(referee.seat(token))
                        for seat, token in created.seat_tokens.items()}
            relay = _Relay(spec, game, {seat: agents[s.url] for seat, s in seat_specs.items()}, channels)
            reason = await relay.play()
        final = await referee.end_game(game_id, reason or "finished")
        await relay.say_goodbye(final)
    except Exception as exc:  # noqa: BLE001 - one place per episode: every failure is recorded, the run goes on
        kind = exc.kind if isinstance(exc, InfrastructureError) else "internal"
        if kind == "internal":
            logger.exception("episode %s failed inside collabgap", spec.episode_id)
        if game_id is not None:
            with contextlib.suppress(InfrastructureError):
                await referee.end_game(game_id, f"error: {kind}")
        return EpisodeRecord(
            spec=spec, game_id=game_id, maze_id=maze_id(spec), status="error", end_reason="error",
            error=EpisodeError(kind=kind, seat=relay.current if relay else None, message=str(exc)[:2000]),
            messages=relay.messages if relay else [], duration_s=time.perf_counter() - started,
        )
    end_reason: EndReason = final.end_reason if final.end_reason in ("goal", "wall", "edge") else (reason or "acti")
    return EpisodeRecord(
        spec=spec, game_id=game_id, maze_id=maze_id(spec), status="ended" if final.status == "active" else final.status,
        end_reason=end_reason,
        score=Score(weighted=final.weighted_score, success=final.success, moves=len(final.moves),
                    conflicts=final.conflicts, optimal_length=final.optimal_length),
        messages=relay.messages, votes=final.votes, moves=final.moves, maze=final.maze, views=final.views,
        duration_s=time.perf_counter() - started,
    )
