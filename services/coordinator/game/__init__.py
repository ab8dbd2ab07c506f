"""One episode: the relay between the seats, the clients that reach an agent (A2A, its card) and the referee (MCP), the
prompts the coordinator speaks, prices, the engine that plays episodes over held connections with retries
(`Episodes`), and `run_episodes` for many episodes in memory.

It owns everything that happens between "these seats play this maze" and the episode's record. It imports only
`protocol`, `services.shared`, the coordinator's shared `_errors` and `_records`, and never a run, a store or a
report.
"""

from __future__ import annotations

from ._episode import play_episode
from ._experiment import run_episodes
from ._prices import PriceTable
from ._prompts import Prompts
from ._referee_client import RefereeClient
from ._seat_client import MAX_REPLY_BYTES, MAX_REPLY_CHARS, AgentConnection, SeatReply

__all__ = [
    "AgentConnection", "MAX_REPLY_BYTES", "MAX_REPLY_CHARS", "PriceTable", "Prompts", "RefereeClient", "SeatReply",
    "play_episode", "run_episodes",
]
