"""One episode: create the game, relay the conversation strictly alternating, submit votes or grade, score.

Referee mode (DESIGN §3.4): every vote goes to the referee, which alone moves the team. Paper mode: the seats
talk freely; afterwards a grader extracts the agreed route and the referee scores it (`grade_route`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import yaml

from protocol import (
    Direction,
    DirectionError,
    GameRecord,
    GradeRequest,
    HistoryEntry,
    MazeParams,
    Seat,
    SeatEnd,
    SeatStart,
    SeatTurn,
    VoteOutcome,
    find_votes,
    says_done,
)

from ._errors import (
    AgentTimeoutError,
    AgentUnreachableError,
    GraderError,
    InfrastructureError,
)
from ._prices import PriceTable
from ._prompts import Prompts
from ._records import (
    EndReason,
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    GradingRecord,
    MessageRecord,
    Score,
    SeatSpec,
)
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


def episode_agents(spec: EpisodeSpec) -> list[SeatSpec]:
    """Every agent an episode talks to: its seats, relay newcomers and grader."""
    relay = spec.relay
    seats = (spec.seat_a, spec.seat_b, spec.grader, relay.seat_a if relay else None, relay.seat_b if relay else None)
    return [seat for seat in seats if seat is not None]


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

    def __init__(self, spec: EpisodeSpec, game: GameRecord, connections: Mapping[str, AgentConnection],
                 channels: Mapping[Seat, SeatChannel], prompts: Prompts, prices: PriceTable,
                 referee: RefereeClient, seat_tokens: Mapping[str, str]) -> None:
        self.spec = spec
        self.game = game
        self.referee = referee
        self.seat_tokens = seat_tokens
        self.seen_votes = 0
        self.connections = connections
        self.holders: dict[Seat, SeatSpec] = {"A": spec.seat_a, **({"B": spec.seat_b} if spec.seat_b else {})}
        self.contexts: dict[Seat, str] = {seat: f"{game.game_id}-{seat}" for seat in self.holders}
        self.channels = channels
        self.prompts = prompts
        self.prices = prices
        self.seats: tuple[Seat, ...] = ("A", "B") if spec.condition == "pair" else ("A",)
        self.messages: list[MessageRecord] = []
        self.current: Seat | None = None

    def _maps(self, seat: Seat) -> list[list[str]]:
        if self.spec.condition == "solo-full":
            return [self.game.maze]
        if self.spec.condition == "solo-split":
            return self.game.views
        return [self.game.views[0 if seat == "A" else 1]]

    def _hand_over(self) -> None:
        """Relay: the new players take their seats, each in a new conversation that starts with the history."""
        relay = self.spec.relay
        assert relay is not None
        handovers: tuple[tuple[Seat, SeatSpec | None], ...] = (("A", relay.seat_a), ("B", relay.seat_b))
        for seat, newcomer in handovers:
            if newcomer is not None:
                self.holders[seat] = newcomer
                self.contexts[seat] = f"{self.game.game_id}-{seat}-relay"

    def _direct(self, seat: Seat) -> bool:
        """The seat's agent votes at the referee itself (it declares the referee extension); referee mode only."""
        return self.spec.mode == "referee" and self.connections[self.holders[seat].url].referee_direct

    def _message(self, seat: Seat, sent: int, partner_text: str | None,
                 outcomes: list[VoteOutcome]) -> SeatStart | SeatTurn:
        if sent == 0:
            direct = self._direct(seat)
            return SeatStart(
                game_id=self.game.game_id, seat=seat, condition=self.spec.condition, speaks_first=not self.messages,
                message_limit=self.spec.message_limit, size=len(self.game.maze), maps=self._maps(seat),
                legend="@ start, * goal, . open, # wall, ? hidden", partner_text=partner_text, mode=self.spec.mode,
                move_channel=("referee" if direct else "message") if self.spec.mode == "referee" else "none",
                referee_url=self.referee.url if direct else None,
                seat_token=self.seat_tokens[seat] if direct else None,
                history=[HistoryEntry(seat=m.seat, text=m.text) for m in self.messages],
            )
        return SeatTurn(game_id=self.game.game_id, seat=seat, turn=sent + 1, partner_text=partner_text,
                        outcomes=outcomes)

    async def _send(self, seat: Seat, message: SeatStart | SeatTurn, texts: list[str]) -> SeatReply:
        return await self.connections[self.holders[seat].url].send(seat, self.contexts[seat], texts, message)

    def _record(self, seat: Seat, reply: SeatReply, vote: Direction | None, vote_error: str | None) -> None:
        self.messages.append(MessageRecord(
            index=len(self.messages), seat=seat, player=self.holders[seat].name, text=reply.text,
            latency_s=reply.latency_s,
            vote=vote.value if vote else None, vote_error=vote_error, usage=reply.usage,
            cost_usd=self.prices.cost(reply.usage)))

    async def play(self) -> EndReason | None:
        """Relay until the referee ends the game, a seat says ACTI!, or the message limit; None: the referee ended it.

        Raises:
            AgentTimeoutError: the whole game took longer than its `game_timeout_s`.
        """
        try:
            async with asyncio.timeout(self.spec.game_timeout_s):
                return await self._play()
        except TimeoutError as exc:
            raise AgentTimeoutError(f"the game took longer than {self.spec.game_timeout_s:g} s") from exc

    async def _play(self) -> EndReason | None:
        solo = len(self.seats) == 1
        referee_mode = self.spec.mode == "referee"
        pending: dict[Seat, list[VoteOutcome]] = {seat: [] for seat in self.seats}
        sent: dict[Seat, int] = {seat: 0 for seat in self.seats}
        partner_text: str | None = None
        reviewed = False
        for index in range(self.spec.message_limit):
            if self.spec.relay is not None and index == self.spec.relay.after_messages:
                self._hand_over()
                sent = {seat: 0 if self.contexts[seat].endswith("-relay") else sent[seat] for seat in self.seats}
            seat = self.current = self.seats[index % len(self.seats)]
            message = self._message(seat, sent[seat], None if solo else partner_text, pending[seat])
            if isinstance(message, SeatStart):
                texts = self.prompts.start(message)
            elif solo and reviewed:
                texts = [self.prompts.review()]
            else:
                texts = self.prompts.turn(message, solo, self.spec.mode)
            pending[seat], sent[seat] = [], sent[seat] + 1
            reply = await self._send(seat, message, texts)
            direct = self._direct(seat)
            vote, vote_error = pick_vote(reply) if referee_mode and not direct else (None, None)
            status = "active"
            if vote is not None:
                result = await self.channels[seat].propose_move(vote)
                self.seen_votes += 1
                outcome = VoteOutcome(seat=seat, direction=vote.value, executed=result.executed,
                                      status=result.status, position=result.position)
                for listener in self.seats:
                    pending[listener].append(outcome)
                status = result.status
            elif direct:  # it voted at the referee itself, if at all: learn what happened from the record
                status, outcomes = await self._direct_votes()
                for listener in self.seats:
                    pending[listener].extend(outcomes)
                vote = Direction(outcomes[-1].direction) if outcomes else None
            self._record(seat, reply, vote, vote_error)
            partner_text = reply.text
            if status in ("solved", "failed"):
                return None
            if says_done(reply.text):
                if solo and not referee_mode and not reviewed:
                    reviewed = True  # paper mode, alone: one review before the answer is final
                    continue
                return "acti"
        return "message_limit"

    async def _direct_votes(self) -> tuple[str, list[VoteOutcome]]:
        """Votes a referee-direct seat cast since the last look, as outcomes for both seats."""
        record = await self.referee.get_game(self.game.game_id)
        fresh = record.votes[self.seen_votes:]
        self.seen_votes = len(record.votes)
        shown = record.position if self.spec.feedback == "position" else None
        outcomes = [VoteOutcome(seat=v.seat, direction=v.direction, executed=v.executed,
                                status=record.status if i == len(fresh) - 1 else "active", position=shown)
                    for i, v in enumerate(fresh)]
        return record.status, outcomes

    async def grade(self, grader: AgentConnection, referee: RefereeClient) -> tuple[GameRecord, GradingRecord]:
        """Paper mode: ask the grader for the agreed route, then let the referee score it under every convention."""
        request = GradeRequest(game_id=self.game.game_id, size=len(self.game.maze))
        reply = await grader.send("grader", f"{self.game.game_id}-grader-{uuid.uuid4().hex[:6]}",
                                  [self.prompts.grader(self.messages)], request)
        route, schema = parse_grading(reply.text)
        final = await referee.grade_route(self.game.game_id, route)
        return final, GradingRecord(text=reply.text, route=route, schema_=schema, convention=final.convention,
                                    usage=reply.usage, cost_usd=self.prices.cost(reply.usage))

    async def say_goodbye(self, final: GameRecord) -> None:
        """Tell each seat the game is over; an agent that fails to listen no longer matters to the score."""
        for seat in self.seats:
            end = SeatEnd(game_id=final.game_id, seat=seat, status=final.status, reason=final.end_reason or "ended")
            try:
                await self.connections[self.holders[seat].url].send(
                    seat, self.contexts[seat], [f"The game is over: {final.status}."], end)
            except InfrastructureError as exc:
                logger.info("seat %s did not take the end of game %s: %s", seat, final.game_id, exc)


def parse_grading(text: str) -> tuple[list[str], dict[str, object]]:
    """The route and schema of a grader's YAML answer (fenced or bare).

    Raises:
        GraderError: no YAML mapping with a `route` list could be read.
    """
    block = text.split("```yaml", 1)[1].split("```", 1)[0] if "```yaml" in text else text
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise GraderError(f"grader answer is not YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("route"), list):
        raise GraderError("grader answer has no `route` list")
    route = [", ".join(str(v) for v in step) if isinstance(step, list) else str(step) for step in data["route"]]
    schema = data.get("schema")
    return route, {str(k): v for k, v in schema.items()} if isinstance(schema, dict) else {}


async def play_episode(spec: EpisodeSpec, referee: RefereeClient, agents: Mapping[str, AgentConnection], *,
                       prompts: Prompts | None = None, prices: PriceTable | None = None) -> EpisodeRecord:
    """Play one episode to its end; infrastructure failures end it as `error` with the reason, never as a score."""
    started = time.perf_counter()
    game_id: str | None = None
    relay: _Relay | None = None
    grading: GradingRecord | None = None
    try:
        needed = [s.url for s in episode_agents(spec)]
        missing = [url for url in needed if url not in agents]
        if missing:
            raise AgentUnreachableError(f"no connection to {', '.join(missing)}")
        created = await referee.create_game(**game_arguments(spec))
        game_id = created.game_id
        game = await referee.get_game(game_id)
        async with contextlib.AsyncExitStack() as stack:
            channels: dict[Seat, SeatChannel] = {
                seat: await stack.enter_async_context(referee.seat(created.seat_tokens[seat]))
                for seat in (("A", "B") if spec.condition == "pair" else ("A",))}
            relay = _Relay(spec, game, agents, channels, prompts or Prompts.load(), prices or PriceTable.load(),
                           referee, created.seat_tokens)
            reason = await relay.play()
        if spec.grader is not None and spec.mode == "paper":
            final, grading = await relay.grade(agents[spec.grader.url], referee)
        else:
            final = await referee.end_game(game_id, reason or "finished")
        await relay.say_goodbye(final)
    except Exception as exc:  # noqa: BLE001 - one place per episode: every failure is recorded, the run goes on
        kind = exc.kind if isinstance(exc, InfrastructureError) else "internal"
        if kind == "internal":
            logger.exception("episode %s failed inside collabgap", spec.episode_id)
        if game_id is not None:
            with contextlib.suppress(InfrastructureError):
                await referee.end_game(game_id, f"error: {kind}")
        seat = "grader" if kind == "grader_error" else (relay.current if relay else None)
        return EpisodeRecord(
            spec=spec, game_id=game_id, maze_id=maze_id(spec), status="error", end_reason="error",
            error=EpisodeError(kind=kind, seat=seat, message=str(exc)[:2000]),
            messages=relay.messages if relay else [], grading=grading, duration_s=time.perf_counter() - started,
        )
    end_reason: EndReason = final.end_reason if final.end_reason in ("goal", "wall", "edge") else (reason or "acti")
    return EpisodeRecord(
        spec=spec, game_id=game_id, maze_id=maze_id(spec), status="ended" if final.status == "active" else final.status,
        end_reason=end_reason,
        score=Score(weighted=final.weighted_score, success=final.success, moves=len(final.moves),
                    conflicts=final.conflicts, optimal_length=final.optimal_length),
        messages=relay.messages, votes=final.votes, moves=final.moves, maze=final.maze, views=final.views,
        grading=grading, duration_s=time.perf_counter() - started,
        agents={s.url: agents[s.url].card_digest for s in episode_agents(spec)},
    )
