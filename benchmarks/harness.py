"""collabgap's speed against the goals of issue 10, every figure measured against a floor in the same run.

    python benchmarks/harness.py               # the full run (about 25 minutes on a 2-core machine at today's speed)
    python benchmarks/harness.py --quick       # a few games of each figure: the smoke test, not a measurement
    python benchmarks/harness.py --markdown    # the table also in markdown, as pasted into docs/performance.md
    python benchmarks/harness.py --logs DIR    # keep the services' logs

Every service is a process of its own on 127.0.0.1, started by `ServiceGroup`: the referee, a scripted
cartographer agent, two `openai:sim-cartographer` agents on two fake vendors (answering at once, and after 0.2 s),
the bare a2a-sdk echo agent (`_echo_agent.py`) and the bare `mcp` server (`_bare_mcp.py`). This process is the
coordinator, driving the public API of `services.coordinator`. docs/performance.md explains each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from benchmarks._latency import measure_latency_bound  # noqa: E402
from benchmarks._memory import measure_agent_memory, measure_coordinator_memory  # noqa: E402
from benchmarks._per_message import measure_per_message  # noqa: E402
from benchmarks._report import (  # noqa: E402
    Row,
    errors_row,
    latency_row,
    markdown_table,
    memory_rows,
    per_message_rows,
    terminal_table,
    throughput_rows,
)
from benchmarks._stack import LATENCY_S, LLM, SCRIPTED, Stack, start_stack  # noqa: E402
from benchmarks._throughput import Rate, measure_throughput  # noqa: E402
from collabgap.services.coordinator import Prompts  # noqa: E402

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    per_message_games: int
    """Games of figures 1 and 2, per player."""
    throughput_games: dict[int, int]
    """Games per throughput run, by games in flight."""
    repeats: int
    many: int
    """Games in flight for the memory figure and the error count under load (as many games as that)."""
    one_games: int
    """Games one at a time for the memory figure's baseline."""
    contexts: int
    """Contexts opened at each agent for its memory figure."""
    latency_games: int
    latency_in_flight: int


FULL = Sizes(per_message_games=30, throughput_games={1: 200, 8: 200, 32: 200, 128: 256}, repeats=3, many=200,
             one_games=5, contexts=200, latency_games=1000, latency_in_flight=50)
QUICK = Sizes(per_message_games=2, throughput_games={1: 2, 8: 4, 32: 4, 128: 4}, repeats=1, many=6, one_games=1,
              contexts=16, latency_games=4, latency_in_flight=4)


class Progress:
    """Says on stderr what is being measured, and how long each step took."""

    def __init__(self, console: Console) -> None:
        self._console = console

    async def step(self, what: str, work: Awaitable[T]) -> T:
        self._console.print(f"measuring {what} ...", highlight=False)
        started = time.perf_counter()
        result = await work
        self._console.print(f"  {time.perf_counter() - started:.1f} s", highlight=False)
        return result

    def rate(self, in_flight: int, rate: Rate) -> None:
        self._console.print(f"  {in_flight} in flight: {rate.messages_per_s:.1f} messages/s, {rate.errors} errors "
                            f"in {rate.games} games", highlight=False)


async def measure(stack: Stack, sizes: Sizes, progress: Progress) -> tuple[list[Row], list[str]]:
    prompts = Prompts.load()
    memory = await progress.step(
        f"coordinator memory at 1 and {sizes.many} games in flight",
        measure_coordinator_memory(stack, sizes.one_games, sizes.many, 9000, prompts))
    agents = {player: await progress.step(f"agent memory per context ({player})",
                                          measure_agent_memory(agent, sizes.contexts, 9000, prompts))
              for player, agent in ((SCRIPTED, stack.scripted), (LLM, stack.llm))}
    runs = [await progress.step(f"wall and CPU per message ({player})",
                                measure_per_message(stack, agent, player, sizes.per_message_games, 1000, prompts))
            for player, agent in ((SCRIPTED, stack.scripted), (LLM, stack.llm))]
    levels = await progress.step(
        "throughput at " + ", ".join(map(str, sizes.throughput_games)) + " games in flight",
        measure_throughput(stack, sizes.throughput_games, sizes.repeats, 5000, prompts, progress.rate))
    latency = await progress.step("the latency-bound run",
                                  measure_latency_bound(stack, sizes.latency_games, sizes.latency_in_flight, 20000,
                                                        prompts))
    rows = [*per_message_rows(runs), *throughput_rows(levels), errors_row(memory), latency_row(latency),
            *memory_rows(memory, agents)]
    scripted = runs[0]
    notes = [
        f"1-2: {scripted.games} games per player, one at a time on open connections, each beside as many bare "
        f"A2A and MCP calls as a game relays messages (alternating order); the A2A floor sends a mid-game SeatTurn "
        f"({scripted.payload_chars} characters of text and data); {scripted.messages / scripted.games:.1f} "
        f"messages and {scripted.votes / scripted.games:.1f} votes per scripted game.",
        f"3: {sizes.repeats} repetitions of " + ", ".join(f"{games} games at {n}" for n, games in
                                                          sizes.throughput_games.items())
        + " in flight (scripted pairs, the same mazes at every level), rounds interleaved; messages/s counted "
        "while every slot is busy; median (min-max).",
        f"4: fake vendor at {LATENCY_S:g} s; ideal = messages x {LATENCY_S:g} s / games in flight, from the records "
        f"({latency.messages} messages, {latency.model_calls} model calls).",
        *([f"first error at {memory.many} in flight (LLM): {memory.first_error}"] if memory.first_error else []),
        *([f"first error of the latency-bound run: {latency.first_error}"] if latency.first_error else []),
        *(f"first error at {level.in_flight} in flight: {errors[0]}"
          for level in levels if (errors := [rate.first_error for rate in level.rates if rate.first_error])),
    ]
    return rows, notes


def machine() -> str:
    return (f"machine: {platform.platform()}; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
            f"a2a-sdk {metadata.version('a2a-sdk')}; mcp {metadata.version('mcp')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few games of each figure (a smoke test)")
    parser.add_argument("--markdown", action="store_true", help="print the table in markdown as well")
    parser.add_argument("--logs", type=Path, help="keep the services' logs in this folder")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    console = Console(width=max(Console().width, 160))
    progress = Progress(Console(stderr=True))
    started = time.perf_counter()
    with start_stack(args.logs) as stack:
        rows, notes = asyncio.run(measure(stack, sizes, progress))
    title = "collabgap against the goals of issue 10" + (" (--quick: too few games to quote)" if args.quick else "")
    console.print(machine(), highlight=False)
    console.print(terminal_table(rows, title))
    for note in notes:
        console.print(note, highlight=False, markup=False)
    if args.markdown:
        console.print(markdown_table(rows), highlight=False, markup=False, soft_wrap=True)
    console.print(f"Whole run: {time.perf_counter() - started:.0f} s.", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
