"""The `Player` extension point: how a seat speaks, and the registry of built-in players."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from collabgap.protocol import GradeRequest, ModelCall, SeatEnd, SeatStart, SeatTurn, Usage

PlayerInput = SeatStart | SeatTurn | GradeRequest


@dataclass(frozen=True)
class PlayerReply:
    """What the seat says, what saying it cost, and what the model saw (None and empty for scripted players)."""

    text: str
    usage: Usage | None = None
    calls: tuple[ModelCall, ...] = ()
    """Every model request that made this reply, in order; each shares its leading messages with the one before."""


class Player(Protocol):
    """Speaks for one seat in one game; the agent service makes one per A2A context."""

    async def reply(self, message: PlayerInput, texts: list[str]) -> PlayerReply:
        """What the seat says, given the coordinator's message: its data part and its text parts in order."""
        ...


@runtime_checkable
class HearsEnd(Protocol):
    """A player that is told when its game ends (a person's page says so); others are simply forgotten."""

    def game_over(self, end: SeatEnd) -> None:
        """The coordinator ended the game: `end` says how."""
        ...


PlayerFactory = Callable[[], Player]
PLAYERS: dict[str, PlayerFactory] = {}


def player(name: str) -> Callable[[PlayerFactory], PlayerFactory]:
    """Register a factory under a stable name; that name goes into every episode record."""

    def register(factory: PlayerFactory) -> PlayerFactory:
        if PLAYERS.setdefault(name, factory) is not factory:
            raise ValueError(f"player {name!r} is registered twice")
        return factory

    return register
