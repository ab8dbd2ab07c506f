"""Every figure beside its goal (the goals of issue 10), as a terminal table or as markdown for docs/performance.md."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from rich.table import Table

from ._latency import LatencyBound
from ._memory import CoordinatorMemory
from ._per_message import PerMessage
from ._throughput import Level

WALL_GOAL = 1.5
"""Wall time per relayed message, at most this many floors."""
COORDINATOR_GOAL_MS = 4.0
SERVICE_GOAL = 1.5
"""Agent and referee CPU per call, at most this many bare SDK servers'."""
LATENCY_GOAL = 1.3
MEMORY_GOAL_MIB = 1.0


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    goal: str
    met: bool | None
    """None: a figure without a goal of its own (a floor, or context for another figure)."""

    @property
    def verdict(self) -> str:
        return "" if self.met is None else "met" if self.met else "MISSED"


def _ms(seconds: float, count: int) -> float:
    return seconds / count * 1000 if count else float("nan")


def per_message_rows(runs: list[PerMessage]) -> list[Row]:
    """Figure 1 for the scripted run (the first), figure 2 for every run."""
    first = runs[0]
    ratio = first.wall_ms / first.floor_ms
    rows = [Row(f"1. wall per relayed message ({first.player} pair, 6x6)",
                f"{first.wall_ms:.2f} ms = {ratio:.2f}x floor (A2A {_median_ms(first.floor.a2a_s):.2f} + MCP "
                f"{_median_ms(first.floor.mcp_s):.2f} ms)", f"<= {WALL_GOAL:g}x floor", ratio <= WALL_GOAL)]
    for run in runs:
        calls = run.floor
        coordinator = _ms(run.coordinator_cpu_s, run.messages)
        agent, echo = _ms(run.agent_cpu_s, run.messages), _ms(calls.a2a_server_cpu_s, len(calls.a2a_s))
        referee, bare = _ms(run.referee_cpu_s, run.votes), _ms(calls.mcp_server_cpu_s, len(calls.mcp_s))
        rows += [
            Row(f"2. coordinator CPU per message ({run.player})", f"{coordinator:.2f} ms",
                f"<= {COORDINATOR_GOAL_MS:g} ms", coordinator <= COORDINATOR_GOAL_MS),
            Row(f"2. agent CPU per message ({run.player})",
                f"{agent:.2f} ms = {agent / echo:.2f}x bare A2A server ({echo:.2f} ms/call)",
                f"<= {SERVICE_GOAL:g}x bare server", agent / echo <= SERVICE_GOAL),
            Row(f"2. referee CPU per vote ({run.player} games)",
                f"{referee:.2f} ms = {referee / bare:.2f}x bare MCP server ({bare:.2f} ms/call)",
                f"<= {SERVICE_GOAL:g}x bare server", referee / bare <= SERVICE_GOAL),
            Row(f"2. bare SDK clients CPU per call (beside {run.player} games)",
                f"A2A {_ms(calls.a2a_client_cpu_s, len(calls.a2a_s)):.2f} + MCP "
                f"{_ms(calls.mcp_client_cpu_s, len(calls.mcp_s)):.2f} ms", "(floor)", None),
        ]
    return rows


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def throughput_rows(levels: list[Level]) -> list[Row]:
    """Figure 3: a level falls when, in the median round, it relays fewer messages/s than the level before it in the
    same round (rounds are interleaved, so each compares with the machine as it was then); or misses if a game erred."""
    rows = []
    for index, level in enumerate(levels):
        low, high = level.spread("messages_per_s")
        games_low, games_high = level.spread("games_per_s")
        before = levels[index - 1] if index else level
        ratio = statistics.median(rate.messages_per_s / earlier.messages_per_s
                                  for rate, earlier in zip(level.rates, before.rates, strict=True))
        rows.append(Row(
            f"3. throughput, {level.in_flight} in flight",
            f"{level.median('messages_per_s'):.1f} msg/s ({low:.1f}-{high:.1f}), {level.median('games_per_s'):.2f} "
            f"games/s ({games_low:.2f}-{games_high:.2f}), {ratio:.2f}x the level before; {level.errors} errors in "
            f"{level.games} games", "no fall; 0 errors", ratio >= 1 and level.errors == 0))
    return rows


def errors_row(memory: CoordinatorMemory) -> Row:
    return Row(f"3. errors at {memory.many} in flight (LLM pair, fake vendor)",
               f"{memory.errors} of {memory.games} games", "0", memory.errors == 0)


def latency_row(run: LatencyBound) -> Row:
    ratio = run.wall_s / run.ideal_s
    return Row(f"4. latency-bound run ({run.games} LLM games, {run.in_flight} in flight)",
               f"{run.wall_s:.1f} s vs ideal {run.ideal_s:.1f} s = {ratio:.2f}x; {run.errors} errors",
               f"<= {LATENCY_GOAL:g}x ideal", ratio <= LATENCY_GOAL and run.errors == 0)


def memory_rows(memory: CoordinatorMemory, agents: dict[str, float]) -> list[Row]:
    rows = [Row("5. coordinator memory per game in flight",
                f"{memory.per_game_mib:.3f} MiB (peak RSS {memory.one_mib:.0f} MiB at 1, {memory.many_mib:.0f} MiB "
                f"at {memory.many})", f"<= {MEMORY_GOAL_MIB:g} MiB", memory.per_game_mib <= MEMORY_GOAL_MIB)]
    rows += [Row(f"5. agent memory per open context ({player})", f"{mib * 1024:.1f} KiB", "(no goal)", None)
             for player, mib in agents.items()]
    return rows


def terminal_table(rows: list[Row], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("figure", "measured", "goal", ""):
        table.add_column(column)
    for row in rows:
        table.add_row(row.figure, row.measured, row.goal, row.verdict)
    return table


def markdown_table(rows: list[Row]) -> str:
    lines = ["| figure | measured | goal | |", "|---|---|---|---|"]
    lines += [f"| {row.figure} | {row.measured} | {row.goal} | {row.verdict} |" for row in rows]
    return "\n".join(lines)
