"""The conversation of one episode while it is relayed: who holds each seat, what each is sent, the votes its
replies cast, and, in paper mode, the grading. `_episode.play_episode` creates the game around it and records
the outcome.

A pair alternates, each message relayed verbatim to the partner. A team (3 to 6 seats) speaks round-robin, or in
the spec's `order`; each seat hears every message since it last spoke, each labelled with its author
(`[agent 2]: …`, `protocol.label_message`). A relay hands seats to newcomers after K messages.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from collabgap.protocol import (
    SEATS,
    Direction,
    DirectionError,
    GameRecord,
    GradeRequest,
    HistoryEntry,
    Seat,
    SeatEnd,
    SeatStart,
    SeatTurn,
    VoteOutcome,
    find_votes,
    label_message,
    says_done,
)

from .._errors import AgentFault, AgentTimeoutError, GraderError
from .._records import EndReason, EpisodeSpec, GradingRecord, MessageRecord, SeatSpec
from ._grader_answer import parse_grading
from ._prices import PriceTable
from ._prompts import Prompts
from ._referee_client import RefereeClient, SeatChannel
from ._seat_client import AgentConnection, SeatReply

if TYPE_CHECKING:
    from ._episode import MessageListener

logger = logging.getLogger(__name__)


def pick_vote(reply: SeatReply) -> tuple[Direction | None, str | None]:
    """The one vote a message casts: its data-part move, else its first `MOVE:` line; or why it has none."""
    raw = reply.data_move if reply.data_move is not None else next(iter(find_votes(reply.text)), None)
    if raw is None:
        return None, None
    try:
        return Direction.parse(raw), None
    except DirectionError as exc:
        return None, str(exc)


class Relay:
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
