"""collabgap speed figures, each as a ratio to a bare a2a-sdk echo round trip measured in the same run.

    python benchmarks/harness.py            # the full run (well under a minute on a 2-core machine)
    python benchmarks/harness.py --quick    # fewer repetitions (the smoke test)

Every service is a separate process on 127.0.0.1: a referee and a `scripted:cartographer` agent started by
`ServiceGroup`, and the baseline echo agent of `benchmarks/_echo_agent.py` (bare a2a-sdk, same card shape). The
harness itself is the client side of every figure:

1. coordinator round trip: `AgentConnection.send` of one `SeatTurn` to the scripted agent, on one context opened
   by a `SeatStart` (a real 6x6 map and view), timed message by message, interleaved with the echo round trips of 4.
2. one whole paired 6x6 game: `run_episodes([spec], ...)`, cartographer in both seats, one maze seed per game.
3. throughput: `run_episodes` over many pair episodes (one seed each) at concurrency 1 and 32.
4. the baseline: a bare a2a-sdk client (`ClientFactory`, `streaming=False`, `httpx.AsyncClient`) sending one text
   message per round trip to the echo agent; and echo round trips per second at concurrency 1 and 32.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory  # noqa: E402
from a2a.helpers import get_message_text  # noqa: E402
from a2a.types import Message, Part, Role, SendMessageRequest  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from protocol import MazeParams, SeatStart, SeatTurn, generate_maze, split_views  # noqa: E402
from services.coordinator import (  # noqa: E402
    AgentConnection,
    EpisodeRecord,
    EpisodeSpec,
    Prompts,  # noqa: E402
    SeatSpec,
    ServiceGroup,
    run_episodes,
)

PROMPTS = Prompts.load()

ECHO_SCRIPT = Path(__file__).resolve().with_name("_echo_agent.py")
PLAYER = "scripted:cartographer"
SIZE = 6
HIGH_CONCURRENCY = 32
LEGEND = "@ start, * goal, . open, # wall, ? hidden"  # what the coordinator puts into SeatStart.legend
ECHO_TEXT = "ping"
TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # the same limits AgentConnection uses


@dataclass(frozen=True)
class Reps:
    warmup: int
    round_trips: int
    """Round trips of figure 1, and as many of figure 4 (interleaved)."""
    games: int
    """Single games of figure 2."""
    episodes: dict[int, int]
    """Pair episodes per throughput run (figure 3), by concurrency."""
    echo_throughput: int
    """Echo round trips per echo throughput run."""


FULL = Reps(warmup=20, round_trips=300, games=8, episodes={1: 16, HIGH_CONCURRENCY: HIGH_CONCURRENCY},
            echo_throughput=300)
QUICK = Reps(warmup=5, round_trips=40, games=3, episodes={1: 4, HIGH_CONCURRENCY: 8}, echo_throughput=60)


# ---------------------------------------------------------------- statistics


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[94] * 1000


# ---------------------------------------------------------------- the echo baseline


class EchoClient:
    """A bare a2a-sdk client: card from the resolver, `ClientFactory`, `streaming=False`, one text per round trip."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str) -> AsyncIterator[EchoClient]:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            card = await A2ACardResolver(http, url).get_agent_card()
            config = ClientConfig(httpx_client=http, streaming=False,
                                  supported_protocol_bindings=["JSONRPC", "HTTP+JSON"])
            client = ClientFactory(config).create(card)
            try:
                yield cls(client)
            finally:
                await client.close()

    async def round_trip(self, context_id: str) -> float:
        message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, context_id=context_id,
                          parts=[Part(text=ECHO_TEXT)])
        started = time.perf_counter()
        events = [event async for event in self._client.send_message(SendMessageRequest(message=message))]
        elapsed = time.perf_counter() - started
        if len(events) != 1 or events[0].WhichOneof("payload") != "message" \
                or get_message_text(events[0].message) != ECHO_TEXT:
            raise RuntimeError(f"the echo agent answered outside its contract: {events!r}")
        return elapsed


async def rate(round_trip: Callable[[], Awaitable[float]], total: int, concurrency: int) -> float:
    """Round trips per second: `total` round trips by `concurrency` workers, each sending one after another."""
    remaining = iter(range(total))

    async def worker() -> None:
        for _ in remaining:
            await round_trip()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


# ---------------------------------------------------------------- figure 1: the coordinator's round trip


@dataclass
class RoundTrips:
    agent: list[float]
    echo: list[float]


async def round_trips(agent_url: str, echo: EchoClient, reps: Reps) -> RoundTrips:
    """Open one pair-game context at the scripted agent, then time `SeatTurn` sends on it, interleaved with echoes.

    Seat B (a second context) speaks first, so seat A's start carries B's shared map, and the turn A gets over and
    over is a mid-game one: B's proposal `Next I propose ... MOVE: <dir>` relayed verbatim.
    """
    maze = generate_maze(MazeParams(size=SIZE, seed=7))
    views = split_views(maze, seed=7)
    game_id = f"bench-{uuid.uuid4().hex[:12]}"
    result = RoundTrips(agent=[], echo=[])
    async with AgentConnection.open(agent_url) as agent:

        def start(seat: str, first: bool, partner_text: str | None) -> SeatStart:
            return SeatStart(game_id=game_id, seat=seat, condition="pair", speaks_first=first, message_limit=50,
                             size=SIZE, maps=[list(views[0 if seat == "A" else 1])], legend=LEGEND,
                             partner_text=partner_text)

        b_start = start("B", True, None)
        b_opening = (await agent.send("B", f"{game_id}-B", PROMPTS.start(b_start), b_start)).text
        a_start = start("A", False, b_opening)
        a_opening = (await agent.send("A", f"{game_id}-A", PROMPTS.start(a_start), a_start)).text
        b_turn = SeatTurn(game_id=game_id, seat="B", turn=2, partner_text=a_opening)
        b_proposal = (await agent.send("B", f"{game_id}-B", PROMPTS.turn(b_turn, False, "referee"), b_turn)).text
        if "MOVE:" not in b_proposal:
            raise RuntimeError(f"the scripted partner proposed no move: {b_proposal!r}")

        async def agent_turn(turn: int) -> float:
            message = SeatTurn(game_id=game_id, seat="A", turn=turn, partner_text=b_proposal)
            started = time.perf_counter()
            await agent.send("A", f"{game_id}-A", PROMPTS.turn(message, False, "referee"), message)
            return time.perf_counter() - started

        echo_context = uuid.uuid4().hex
        for index in range(reps.warmup + reps.round_trips):
            if index % 2:  # alternate which goes first, so neither always follows the other
                echo_s = await echo.round_trip(echo_context)
                agent_s = await agent_turn(index + 2)
            else:
                agent_s = await agent_turn(index + 2)
                echo_s = await echo.round_trip(echo_context)
            if index >= reps.warmup:
                result.agent.append(agent_s)
                result.echo.append(echo_s)
    return result


# ---------------------------------------------------------------- figures 2 and 3: whole games


def pair_spec(agent_url: str, seed: int, label: str) -> EpisodeSpec:
    seat = SeatSpec(name="cartographer", url=agent_url)
    return EpisodeSpec(episode_id=f"bench/{label}/{seed}", condition="pair", seat_a=seat, seat_b=seat,
                       maze=MazeParams(size=SIZE, seed=seed))


def check(records: list[EpisodeRecord]) -> None:
    errors = [r for r in records if r.status == "error"]
    if errors:
        first = errors[0].error
        raise RuntimeError(f"{len(errors)} of {len(records)} games ended in an infrastructure error; first: "
                           f"{first.kind if first else '?'}: {first.message if first else ''}")


@dataclass
class Games:
    wall_s: list[float]
    messages: list[int]
    send_s: list[float]
    """The coordinator's own latency of every relayed message (`MessageRecord.latency_s`)."""


async def single_games(agent_url: str, referee_url: str, token: SecretStr, count: int) -> Games:
    """`count` games, one `run_episodes` call each (so each includes opening the referee and agent connections)."""
    check(await run_episodes([pair_spec(agent_url, 999, "warmup")], referee_url, token))
    games = Games(wall_s=[], messages=[], send_s=[])
    for seed in range(1000, 1000 + count):
        started = time.perf_counter()
        records = await run_episodes([pair_spec(agent_url, seed, "single")], referee_url, token)
        games.wall_s.append(time.perf_counter() - started)
        check(records)
        games.messages.append(len(records[0].messages))
        games.send_s.extend(message.latency_s for message in records[0].messages)
    return games


@dataclass
class Throughput:
    concurrency: int
    games_per_s: float
    messages_per_s: float
    echo_per_s: float


async def throughput(agent_url: str, referee_url: str, token: SecretStr, echo: EchoClient, reps: Reps,
                     concurrency: int, seed0: int) -> Throughput:
    plan = [pair_spec(agent_url, seed, f"c{concurrency}")
            for seed in range(seed0, seed0 + reps.episodes[concurrency])]
    started = time.perf_counter()
    records = await run_episodes(plan, referee_url, token, concurrency=concurrency)
    wall = time.perf_counter() - started
    check(records)
    context = uuid.uuid4().hex
    echo_rate = await rate(lambda: echo.round_trip(context), reps.echo_throughput, concurrency)
    return Throughput(concurrency, len(records) / wall, sum(len(r.messages) for r in records) / wall, echo_rate)


# ---------------------------------------------------------------- the report


@dataclass
class Figures:
    trips: RoundTrips
    games: Games
    rates: list[Throughput]


async def measure(agent_url: str, echo_url: str, referee_url: str, token: SecretStr, reps: Reps) -> Figures:
    async with EchoClient.open(echo_url) as echo:
        trips = await round_trips(agent_url, echo, reps)
        games = await single_games(agent_url, referee_url, token, reps.games)
        rates = [await throughput(agent_url, referee_url, token, echo, reps, concurrency, seed0)
                 for concurrency, seed0 in ((1, 2000), (HIGH_CONCURRENCY, 3000))]
    return Figures(trips, games, rates)


def table(figures: Figures) -> Table:
    echo_med, echo_p95 = median_ms(figures.trips.echo), p95_ms(figures.trips.echo)
    agent_med, agent_p95 = median_ms(figures.trips.agent), p95_ms(figures.trips.agent)
    games = figures.games
    per_message_ms = statistics.median(w / m for w, m in zip(games.wall_s, games.messages, strict=True)) * 1000
    send_med = median_ms(games.send_s)

    out = Table(title="collabgap speed as ratios to a bare a2a-sdk echo round trip (same run)", title_justify="left")
    out.add_column("figure", no_wrap=True)
    out.add_column("value", justify="right", no_wrap=True)
    out.add_column("unit", no_wrap=True)
    out.add_column("ratio to the echo round trip", no_wrap=True)
    out.add_row("1. coordinator round trip (SeatTurn), median", f"{agent_med:.2f}", "ms",
                f"{agent_med / echo_med:.2f}x echo median")
    out.add_row("   coordinator round trip (SeatTurn), p95", f"{agent_p95:.2f}", "ms",
                f"{agent_p95 / echo_p95:.2f}x echo p95")
    out.add_row("2. paired 6x6 game (run_episodes), median", f"{median_ms(games.wall_s):.1f}", "ms",
                f"{per_message_ms:.2f} ms/message = {per_message_ms / echo_med:.2f}x echo median")
    out.add_row("   messages per game, median", f"{statistics.median(games.messages):g}", "messages",
                f"A2A send inside games {send_med:.2f} ms = {send_med / echo_med:.2f}x")
    for r in figures.rates:
        out.add_row(f"3. throughput, concurrency {r.concurrency}", f"{r.games_per_s:.2f}", "games/s",
                    f"{r.messages_per_s:.0f} msg/s vs {r.echo_per_s:.0f} echo rt/s = "
                    f"{r.messages_per_s / r.echo_per_s:.2f}x")
    out.add_row("4. echo round trip (bare a2a-sdk), median", f"{echo_med:.2f}", "ms", "1.00x")
    out.add_row("   echo round trip (bare a2a-sdk), p95", f"{echo_p95:.2f}", "ms", "1.00x")
    return out


def notes(figures: Figures, reps: Reps, quick: bool) -> list[str]:
    games = figures.games
    return [
        *(["--quick: too few repetitions to quote; this run checks that the harness works."] if quick else []),
        f"1 and 4: {reps.round_trips} round trips each after {reps.warmup} warm-up, interleaved (alternating order); "
        f"1 sends SeatTurn messages on one context opened by a SeatStart (6x6 map, split view) to {PLAYER}; "
        f"4 sends the text {ECHO_TEXT!r} to benchmarks/_echo_agent.py.",
        f"2: {len(games.wall_s)} games, one run_episodes call each (connection setup, referee calls and the 2 end "
        f"notices included), cartographer in both seats; messages per game {min(games.messages)}-"
        f"{max(games.messages)}; ms/message = median of wall/messages; 'A2A send inside games' = median "
        f"MessageRecord.latency_s.",
        f"3: one run_episodes call per concurrency over {' and '.join(map(str, reps.episodes.values()))} pair "
        f"games (one seed each); msg/s = relayed messages/s; echo rt/s = {reps.echo_throughput} echo round trips "
        f"by as many concurrent senders.",
        "All services on 127.0.0.1, each in its own process (referee, agent, echo); the harness is the client.",
    ]


def machine() -> str:
    return (f"machine: {platform.platform()}; {platform.machine()}; {os.cpu_count()} CPUs; "
            f"Python {platform.python_version()} ({platform.python_implementation()}); "
            f"a2a-sdk {metadata.version('a2a-sdk')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke test, not a measurement)")
    args = parser.parse_args(argv)
    reps = QUICK if args.quick else FULL
    console = Console(width=max(Console().width, 120))
    console.print(machine(), highlight=False)
    token = secrets.token_urlsafe(24)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        services = stack.enter_context(ServiceGroup())
        referee_url = services.start_referee(token)
        agent_url = services.start_agent(PLAYER)
        echo_url = services.start_process("echo", lambda port: [sys.executable, str(ECHO_SCRIPT), str(port)],
                                          ready_path="/.well-known/agent-card.json")
        figures = asyncio.run(measure(agent_url, echo_url, referee_url, SecretStr(token), reps))
    console.print(table(figures))
    for line in notes(figures, reps, args.quick):
        console.print(line, highlight=False, markup=False)
    console.print(f"Whole run: {time.perf_counter() - started:.1f} s.", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
