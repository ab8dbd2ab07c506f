"""One episode: create the game, relay the conversation seat by seat, submit votes or grade, score.

Referee mode (DESIGN §3.4): every vote goes to the referee, which alone moves the team. Paper mode: the seats
talk freely; afterwards a grader extracts the agreed route and the referee scores it (`grade_route`).

A pair alternates, each message relayed verbatim to the partner. A team (3 to 6 seats) speaks round-robin, or in
the spec's `order`; each seat hears every message since it last spoke, each labelled with its author
(`[agent 2]: …`, `protocol.label_message`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

from collabgap.protocol import (
    SEATS,
    Direction,
    DirectionError,
    GameRecord,
    GradeRequest,
    HistoryEntry,
    Maze,
    MazeParams,
    Seat,
    SeatEnd,
    SeatStart,
    SeatTurn,
    VoteOutcome,
    find_votes,
    label_message,
    replay_moves,
    says_done,
)

from .._errors import (
    AgentFault,
    AgentTimeoutError,
    GraderError,
    PlatformFault,
    RefereeUnavailableError,
)
from ._grader_answer import parse_grading
from ._prices import PriceTable
from ._prompts import Prompts
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
from ._referee_client import RefereeClient, SeatChannel
from ._seat_client import AgentConnection, SeatReply

logger = logging.getLogger(__name__)

MessageListener = Callable[[EpisodeSpec, MessageRecord], None]
"""Hears each message of an episode as soon as it is relayed (`collabgap play` prints it)."""


def game_arguments(spec: EpisodeSpec) -> dict[str, Any]:
    """The referee's `create_game` arguments for an episode."""
    arguments: dict[str, Any] = {"mode": "solo" if spec.seat_b is None else "pair", "feedback": spec.feedback}
    if spec.condition == "team":
        arguments["seats"] = len(spec.seats())
    if isinstance(spec.maze, MazeParams):
        arguments.update(spec.maze.model_dump())
    else:
        arguments.update(maze=spec.maze.rows, views=spec.maze.views)
    return arguments


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
                 referee: RefereeClient, seat_tokens: Mapping[str, str],
                 on_message: MessageListener | None = None) -> None:
        self.spec = spec
        self.on_message = on_message
        self.game = game
        self.referee = referee
        self.seat_tokens = seat_tokens
        self.seen_votes = 0
        self.executed: list[Direction] = []
        """The moves the referee made so far, in order: a record of them that outlives the referee."""
        self.connections = connections
        self.holders: dict[Seat, SeatSpec] = spec.seats()
        self.contexts: dict[Seat, str] = {seat: f"{game.game_id}-{seat}" for seat in self.holders}
        self.channels = channels
        self.prompts = prompts
        self.prices = prices
        self.seats: tuple[Seat, ...] = spec.speaking_order()
        self.team = spec.condition == "team"
        self.messages: list[MessageRecord] = []
        self.current: Seat | None = None

    def _maps(self, seat: Seat) -> list[list[str]]:
        if self.spec.condition == "solo-full":
            return [self.game.maze]
        if self.spec.condition == "solo-split":
            return self.game.views
        return [self.game.views[SEATS.index(seat)]]

    def _hand_over(self) -> None:
        """Relay: the new players take their seats, each in a new conversation that starts with the history."""
        relay = self.spec.relay
        assert relay is not None
        for seat, newcomer in relay.newcomers().items():
            self.holders[seat] = newcomer
            self.contexts[seat] = f"{self.game.game_id}-{seat}-relay"

    def _direct(self, seat: Seat) -> bool:
        """The seat's agent votes at the referee itself (it declares the referee extension); referee mode only."""
        return self.spec.mode == "referee" and self.connections[self.holders[seat].url].referee_direct

    def _message(self, seat: Seat, sent: int, partner_text: str | None,
                 outcomes: list[VoteOutcome], heard: list[HistoryEntry]) -> SeatStart | SeatTurn:
        """The seat's next message; `heard` (a team's) is what the other seats said since it last spoke."""
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
                team=list(self.seats) if self.team else [], messages=heard,
            )
        return SeatTurn(game_id=self.game.game_id, seat=seat, turn=sent + 1, partner_text=partner_text,
                        outcomes=outcomes, messages=heard)

    async def _send(self, seat: Seat, message: SeatStart | SeatTurn, texts: list[str]) -> SeatReply:
        return await self.connections[self.holders[seat].url].send(seat, self.contexts[seat], texts, message)

    def _record(self, seat: Seat, reply: SeatReply, vote: Direction | None, vote_error: str | None) -> None:
        self.messages.append(MessageRecord(
            index=len(self.messages), seat=seat, player=self.holders[seat].name, text=reply.text,
            latency_s=reply.latency_s,
            vote=vote.value if vote else None, vote_error=vote_error, usage=reply.usage,
            cost_usd=self.prices.cost(reply.usage), model_input=list(reply.calls)))
        if self.on_message is not None:
            self.on_message(self.spec, self.messages[-1])

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
        if solo and not referee_mode:
            return await self._answer_alone()
        pending: dict[Seat, list[VoteOutcome]] = {seat: [] for seat in self.seats}
        sent: dict[Seat, int] = {seat: 0 for seat in self.seats}
        unheard: dict[Seat, list[HistoryEntry]] = {seat: [] for seat in self.seats}
        partner_text: str | None = None
        for index in range(self.spec.message_limit):
            if self.spec.relay is not None and index == self.spec.relay.after_messages:
                self._hand_over()
                sent = {seat: 0 if self.contexts[seat].endswith("-relay") else sent[seat] for seat in self.seats}
            seat = self.current = self.seats[index % len(self.seats)]
            heard, unheard[seat] = unheard[seat], []
            if self.team:
                partner_text = "\n\n".join(label_message(entry.seat, entry.text) for entry in heard) or None
            message = self._message(seat, sent[seat], None if solo else partner_text, pending[seat], heard)
            texts = (self.prompts.start(message) if isinstance(message, SeatStart)
                     else self.prompts.turn(message, solo, self.spec.mode))
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
                if result.executed:
                    self.executed.append(vote)
                status = result.status
            elif direct:  # it voted at the referee itself, if at all: learn what happened from the record
                status, outcomes = await self._direct_votes()
                for listener in self.seats:
                    pending[listener].extend(outcomes)
                self.executed.extend(Direction(o.direction) for o in outcomes if o.executed)
                vote = Direction(outcomes[-1].direction) if outcomes else None
            self._record(seat, reply, vote, vote_error)
            partner_text = reply.text
            if self.team:
                for listener in self.seats:
                    if listener != seat:
                        unheard[listener].append(HistoryEntry(seat=seat, text=reply.text))
            if status in ("solved", "failed"):
                return None
            if says_done(reply.text):
                return "acti"
        return "message_limit"

    async def _answer_alone(self) -> EndReason:
        """Paper mode, alone (the paper's Figs. A.2, A.3): one answer with the whole route, then the critic step;
        the answer after the critic step is final."""
        seat = self.current = self.seats[0]
        for sent in (0, 1):
            message = self._message(seat, sent, None, [], [])
            texts = (self.prompts.start(message) if isinstance(message, SeatStart)
                     else self.prompts.turn(message, True, "paper"))
            self._record(seat, await self._send(seat, message, texts), None, None)
        return "acti"

    async def _direct_votes(self) -> tuple[str, list[VoteOutcome]]:
        """Votes a referee-direct seat cast since the last look, as outcomes for every seat."""
        record = await self.referee.get_game(self.game.game_id)
        fresh = record.votes[self.seen_votes:]
        self.seen_votes = len(record.votes)
        shown = record.position if self.spec.feedback == "position" else None
        outcomes = [VoteOutcome(seat=v.seat, direction=v.direction, executed=v.executed,
                                status=record.status if i == len(fresh) - 1 else "active", position=shown)
                    for i, v in enumerate(fresh)]
        return record.status, outcomes

    async def grade(self, grader: AgentConnection, referee: RefereeClient) -> tuple[GameRecord, GradingRecord]:
        """Paper mode: ask the grader for the agreed route (alone: the route of the final answer), then let the
        referee score it under every convention.

        A grader that does not answer, or answers nothing usable, is a scored failure: the route is empty (no
        progress) and `GradingRecord.error` says why. Only the referee's own failure raises.
        """
        request = GradeRequest(game_id=self.game.game_id, size=len(self.game.maze))
        prompt = self.prompts.grader(self.messages, solo=len(self.seats) == 1, seats=len(self.seats))
        reply: SeatReply | None = None
        route: list[str] = []
        schema: dict[str, object] = {}
        error: str | None = None
        try:
            reply = await grader.send("grader", f"{self.game.game_id}-grader-{uuid.uuid4().hex[:6]}", [prompt], request)
            route, schema = parse_grading(reply.text)
        except AgentFault as exc:  # the grader's own failure: no answer, or (GraderError) no usable one
            error = str(exc) if isinstance(exc, GraderError) else f"the grader did not answer ({exc.kind}): {exc}"
        final = await referee.grade_route(self.game.game_id, route)
        usage = reply.usage if reply is not None else None
        return final, GradingRecord(text=reply.text if reply is not None else "", route=route, schema_=schema,
                                    convention=final.convention, usage=usage, cost_usd=self.prices.cost(usage),
                                    error=error, model_input=list(reply.calls) if reply is not None else [])

    async def say_goodbye(self, final: GameRecord, failed: Seat | None = None) -> None:
        """Tell each seat the game is over, except one whose agent failed; an agent that fails to listen no
        longer matters to the score."""
        for seat in self.seats:
            if seat == failed:
                continue
            end = SeatEnd(game_id=final.game_id, seat=seat, status=final.status, reason=final.end_reason or "ended")
            try:
                await self.connections[self.holders[seat].url].send(
                    seat, self.contexts[seat], [f"The game is over: {final.status}."], end)
            except AgentFault as exc:
                logger.info("seat %s did not take the end of game %s: %s", seat, final.game_id, exc)


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


def _agent_failure(exc: AgentFault, relay: _Relay) -> EpisodeError:
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
    except RefereeUnavailableError as exc:  # the referee may be what failed
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
    relay: _Relay | None = None
    grading: GradingRecord | None = None
    try:
        created = await referee.create_game(**game_arguments(spec))
        game_id = created.game_id
        game = await referee.get_game(game_id)
        failure = missing = _unreachable(spec, agents, unreachable or {})
        reason: EndReason | None = None
        async with contextlib.AsyncExitStack() as stack:
            channels: dict[Seat, SeatChannel] = {
                seat: await stack.enter_async_context(referee.seat(created.seat_tokens[seat]))
                for seat in spec.seats()}
            relay = _Relay(spec, game, agents, channels, prompts or Prompts.load(), prices or PriceTable.load(),
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
