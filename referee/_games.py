"""Games as plain objects: the true maze, the seats' pending votes, the moves they all agreed on (DESIGN §3.1).

Every method is synchronous and completes without awaiting, so on the server's single event loop each call is
atomic per game without a lock: no vote can interleave with another half-applied one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from collabgap.protocol import (
    LEGEND,
    SEATS,
    CreatedGame,
    Direction,
    EndReason,
    Feedback,
    GameMode,
    GameRecord,
    GameStatus,
    Maze,
    MoveRecord,
    Seat,
    SeatStatus,
    SeatView,
    View,
    VoteRecord,
    VoteResult,
    grade_route,
    make_move,
    weighted_score,
)

from ._errors import AuthorizationError, GameOverError, RefereeError, UnknownGameError


@dataclass
class Game:
    """One maze being played: applies a move only when every seat's pending vote names it (solo: at once).

    A pair has seats `A` and `B`; a team one seat per view, `A` to `F`; a solo game one seat, `A`, that sees every
    view.
    """

    game_id: str
    maze: Maze
    views: tuple[View, ...]
    mode: GameMode
    feedback: Feedback
    max_votes: int = 1000
    status: GameStatus = "active"
    end_reason: EndReason | None = None
    position: tuple[int, int] = field(init=False)
    pending: dict[Seat, Direction] = field(default_factory=dict)
    moves: list[MoveRecord] = field(default_factory=list)
    votes: list[VoteRecord] = field(default_factory=list)
    convention: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        self.position = self.maze.start

    @property
    def seats(self) -> tuple[Seat, ...]:
        return ("A",) if self.mode == "solo" else SEATS[:len(self.views)]

    def view(self, seat: Seat) -> SeatView:
        """The seat's own map: in solo, every view the seat was given, one after another."""
        if self.mode == "solo":
            rows = [row for view in self.views for row in view]
        else:
            rows = list(self.views[SEATS.index(seat)])
        return SeatView(rows=rows, legend=LEGEND)

    def vote(self, seat: Seat, direction: Direction) -> VoteResult:
        """Record `seat`'s vote; execute the move when every other seat's pending vote names the same direction.

        Raises:
            GameOverError: the game has already ended.
            RefereeError: the game has taken its maximum number of votes.
        """
        if self.status != "active":
            raise GameOverError(f"game {self.game_id} is over ({self.status}); votes no longer count")
        if len(self.votes) >= self.max_votes:
            raise RefereeError(f"game {self.game_id} has reached its limit of {self.max_votes} votes")
        others = [self.pending.get(other) for other in self.seats if other != seat]
        executed = all(vote == direction for vote in others)
        conflict = any(vote is not None and vote != direction for vote in others)
        self.votes.append(VoteRecord(seat=seat, direction=direction.value, executed=executed, conflict=conflict))
        if executed:
            self.pending.clear()
            self._execute(direction)
        else:
            self.pending[seat] = direction
        return VoteResult(executed=executed, status=self.status, moves_made=len(self.moves), position=self._shown())

    def _execute(self, direction: Direction) -> None:
        move = make_move(self.maze, self.position, direction)
        self.moves.append(move)
        target, valid = move.target, move.valid
        if not valid:
            self.status, self.end_reason = "failed", ("wall" if self.maze.inside(target) else "edge")
        else:
            self.position = target
            if target == self.maze.goal:
                self.status, self.end_reason = "solved", "goal"

    def _shown(self) -> tuple[int, int] | None:
        return self.position if self.feedback == "position" else None

    def seat_status(self, seat: Seat) -> SeatStatus:
        waiting = [other for other in self.seats if other != seat and other in self.pending]
        return SeatStatus(
            status=self.status,
            moves_made=len(self.moves),
            partner_has_pending_vote=bool(waiting),
            position=self._shown(),
            pending_seats=waiting if len(self.seats) > 2 else None,
        )

    def grade(self, route: list[str]) -> None:
        """Paper mode: play the route a grader extracted, read under its most favourable convention.

        Raises:
            GameOverError: the game has ended.
            RefereeError: moves were already played by votes; a game is graded one way only.
        """
        if self.status != "active":
            raise GameOverError(f"game {self.game_id} is over ({self.status}); it can no longer be graded")
        if self.moves or self.votes:
            raise RefereeError(f"game {self.game_id} was played by votes; grade_route is for paper-mode games")
        graded = grade_route(self.maze, route)
        self.convention = graded.convention
        for direction in graded.moves:
            self._execute(direction)
        if self.status == "active":
            self.end()

    def end(self, reason: str | None = None) -> None:
        """Stop the game where it stands, noting why; a finished game keeps its outcome."""
        if self.status == "active":
            self.status, self.end_reason = "ended", "ended"
            self.pending.clear()
        if reason is not None and self.note is None:
            self.note = reason[:500]

    def record(self) -> GameRecord:
        return GameRecord(
            game_id=self.game_id,
            mode=self.mode,
            feedback=self.feedback,
            status=self.status,
            end_reason=self.end_reason,
            maze=list(self.maze.rows),
            views=[list(view) for view in self.views],
            optimal_length=self.maze.optimal_length or 0,
            wall_fraction=self.maze.wall_fraction,
            position=self.position,
            moves=list(self.moves),
            votes=list(self.votes),
            convention=self.convention,
            note=self.note,
            conflicts=sum(vote.conflict for vote in self.votes),
            weighted_score=weighted_score(self.maze, self.position),
            success=self.status == "solved",
        )


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class GameRegistry:
    """Holds games in memory and mints their seat tokens; forgets the oldest games beyond `max_games`."""

    def __init__(self, coordinator_token: str, *, max_games: int = 10_000) -> None:
        self._coordinator = _digest(coordinator_token)
        self._games: OrderedDict[str, Game] = OrderedDict()
        self._seats: dict[bytes, tuple[str, Seat]] = {}
        self._digests: dict[str, list[bytes]] = {}
        """Each game's seat-token digests, so forgetting a game does not scan every seat."""
        self._max_games = max_games

    def check_coordinator(self, token: str | None) -> None:
        """Raises AuthorizationError unless `token` is the coordinator token (compared in constant time)."""
        if token is None or not hmac.compare_digest(_digest(token), self._coordinator):
            raise AuthorizationError("this tool needs the coordinator's bearer token")

    def create(self, maze: Maze, views: tuple[View, ...], mode: GameMode, feedback: Feedback,
               max_votes: int) -> CreatedGame:
        game = Game(secrets.token_hex(8), maze, views, mode, feedback, max_votes)
        tokens = {seat: secrets.token_urlsafe(24) for seat in game.seats}
        self._games[game.game_id] = game
        self._digests[game.game_id] = [_digest(token) for token in tokens.values()]
        for seat, digest in zip(tokens, self._digests[game.game_id], strict=True):
            self._seats[digest] = (game.game_id, seat)
        while len(self._games) > self._max_games:
            self._forget(next(iter(self._games)))
        return CreatedGame(
            game_id=game.game_id, seat_tokens=tokens, optimal_length=maze.optimal_length or 0, size=maze.size
        )

    def _forget(self, game_id: str) -> None:
        del self._games[game_id]
        for digest in self._digests.pop(game_id):
            del self._seats[digest]

    def get(self, game_id: str) -> Game:
        try:
            return self._games[game_id]
        except KeyError:
            raise UnknownGameError(f"no game {game_id[:40]!r} at this referee") from None

    def for_token(self, token: str | None) -> tuple[Game, Seat]:
        """The game and seat a seat token opens; the token alone decides both."""
        found = self._seats.get(_digest(token)) if token else None
        if found is None:
            raise AuthorizationError("this tool needs a valid seat token as bearer token")
        game_id, seat = found
        return self.get(game_id), seat
