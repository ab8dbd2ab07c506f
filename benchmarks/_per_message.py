"""Figures 1 and 2: wall time and CPU per relayed message, one game at a time, interleaved with the floor.

Each game is `play_episode` on connections held open for the whole figure, as `run_episodes` holds them for a
run; so a game's cost includes all of its own calls (create, seat sessions, votes, end, goodbyes) but not opening
the run. Before or after every game (alternating) the floor makes as many bare A2A round trips and MCP calls as
the warm-up game relayed messages. CPU is read around each game and each floor batch: this process's
`time.process_time`, and the agent's and referee's /proc counters.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from collabgap.services.coordinator import AgentConnection, EpisodeRecord, Prompts, RefereeClient, play_episode

from ._floor import Floor, FloorCalls, Payload
from ._games import pair_plan, require_clean
from ._proc import cpu_s
from ._stack import Service, Stack

WARMUP_PAIRS = 10


@dataclass
class PerMessage:
    """One player's games and the floor calls interleaved with them."""

    player: str
    wall_per_message_s: list[float] = field(default_factory=list)
    """Each game's wall time over the messages it relayed."""
    messages: int = 0
    votes: int = 0
    coordinator_cpu_s: float = 0.0
    agent_cpu_s: float = 0.0
    referee_cpu_s: float = 0.0
    floor: FloorCalls = field(default_factory=FloorCalls)
    payload_chars: int = 0

    @property
    def wall_ms(self) -> float:
        return statistics.median(self.wall_per_message_s) * 1000

    @property
    def floor_ms(self) -> float:
        """Median bare A2A round trip plus median bare MCP call."""
        return (statistics.median(self.floor.a2a_s) + statistics.median(self.floor.mcp_s)) * 1000

    @property
    def games(self) -> int:
        return len(self.wall_per_message_s)


async def measure_per_message(stack: Stack, agent: Service, player: str, games: int, first_seed: int,
                              prompts: Prompts) -> PerMessage:
    """Play `games` games of `player` with itself one after another, each beside its floor batch."""
    result = PerMessage(player)
    plan = pair_plan(agent.url, games + 1, first_seed)
    token = stack.token.get_secret_value()
    async with RefereeClient.connect(stack.referee.url, token) as referee, AgentConnection.open(agent.url) as seat:
        agents = {agent.url: seat}

        async def game(index: int) -> EpisodeRecord:
            cpu0, agent0, referee0 = time.process_time(), cpu_s(agent.pid), cpu_s(stack.referee.pid)
            started = time.perf_counter()
            record = await play_episode(plan[index], referee, agents, prompts=prompts)
            wall = time.perf_counter() - started
            require_clean([record])
            result.coordinator_cpu_s += time.process_time() - cpu0
            result.agent_cpu_s += cpu_s(agent.pid) - agent0
            result.referee_cpu_s += cpu_s(stack.referee.pid) - referee0
            result.wall_per_message_s.append(wall / len(record.messages))
            result.messages += len(record.messages)
            result.votes += len(record.votes)
            return record

        warmup = await play_episode(plan[-1], referee, agents, prompts=prompts)
        require_clean([warmup])
        payload = Payload.from_game(warmup, prompts)
        result.payload_chars = payload.size
        async with Floor.open(stack.echo.url, stack.echo.pid, stack.bare_mcp.url, stack.bare_mcp.pid,
                              payload) as floor:
            await floor.measure(WARMUP_PAIRS, FloorCalls())
            pairs = len(warmup.messages)  # as many floor pairs per batch as a game relays messages
            for index in range(games):
                if index % 2:  # alternate: neither always follows the other
                    await game(index)
                    await floor.measure(pairs, result.floor)
                else:
                    await floor.measure(pairs, result.floor)
                    await game(index)
    return result
