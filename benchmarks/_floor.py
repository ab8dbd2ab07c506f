"""The floor of one relayed message: a bare a2a-sdk round trip and a bare `mcp` `tools/call`, payload-matched.

A message of a referee-mode game needs one A2A round trip (the seat's turn, answered) and, when it votes, one MCP
tool call (the vote). The floor makes exactly those two calls with the bare SDKs' clients against the bare servers
of `_echo_agent.py` and `_bare_mcp.py`: the A2A request carries the same text and data parts as a mid-game
`SeatTurn`, and the echo answers with its text, as long as the partner's message the agent answers with.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.helpers import get_message_text, new_data_part, new_text_part
from a2a.types import Message, Role, SendMessageRequest
from mcp import Client as McpClient

from collabgap.protocol import SeatEnvelope, SeatTurn, VoteOutcome
from collabgap.services.coordinator import EpisodeRecord, Prompts

from ._proc import cpu_s

TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # the limits AgentConnection uses


@dataclass(frozen=True)
class Payload:
    """What the coordinator sends for one mid-game turn: its text parts and its data part."""

    texts: list[str]
    data: dict[str, Any]

    @classmethod
    def from_game(cls, record: EpisodeRecord, prompts: Prompts) -> Payload:
        """A `SeatTurn` as a game relays it: the partner's message of median length, and the verdicts on the two
        votes since the seat last spoke (its own and its partner's)."""
        said = sorted(record.messages[1:] or record.messages, key=lambda m: len(m.text))
        partner = said[len(said) // 2]
        seat = "B" if partner.seat == "A" else "A"
        outcomes = [VoteOutcome(seat=seat, direction=partner.vote or "down", executed=False, status="active"),
                    VoteOutcome(seat=partner.seat, direction=partner.vote or "down", executed=True, status="active")]
        turn = SeatTurn(game_id=record.game_id or "game", seat=seat, turn=partner.index // 2 + 1,
                        partner_text=partner.text, outcomes=outcomes)
        return cls(prompts.turn(turn, False, "referee"), SeatEnvelope(collabgap=turn).model_dump(mode="json"))

    @property
    def size(self) -> int:
        return sum(len(text) for text in self.texts) + len(str(self.data))


@dataclass
class FloorCalls:
    """Bare calls timed one by one, and the CPU their two ends spent."""

    a2a_s: list[float] = field(default_factory=list)
    mcp_s: list[float] = field(default_factory=list)
    a2a_client_cpu_s: float = 0.0
    mcp_client_cpu_s: float = 0.0
    a2a_server_cpu_s: float = 0.0
    mcp_server_cpu_s: float = 0.0


class Floor:
    """The two bare clients, open for a whole figure, and the servers' process ids (to read their CPU)."""

    def __init__(self, a2a: Client, mcp: McpClient, payload: Payload, echo_pid: int, mcp_pid: int) -> None:
        self._a2a, self._mcp, self.payload = a2a, mcp, payload
        self._echo_pid, self._mcp_pid = echo_pid, mcp_pid
        self._context = uuid.uuid4().hex

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, echo_url: str, echo_pid: int, mcp_url: str, mcp_pid: int,
                   payload: Payload) -> AsyncIterator[Floor]:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http, McpClient(mcp_url) as mcp:
            card = await A2ACardResolver(http, echo_url).get_agent_card()
            config = ClientConfig(httpx_client=http, streaming=False,
                                  supported_protocol_bindings=["JSONRPC", "HTTP+JSON"])
            client = ClientFactory(config).create(card)
            try:
                yield cls(client, mcp, payload, echo_pid, mcp_pid)
            finally:
                await client.close()

    async def a2a_round_trip(self) -> float:
        message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, context_id=self._context,
                          parts=[*(new_text_part(text) for text in self.payload.texts),
                                 new_data_part(self.payload.data, media_type="application/json")])
        started = time.perf_counter()
        events = [event async for event in self._a2a.send_message(SendMessageRequest(message=message))]
        elapsed = time.perf_counter() - started
        if len(events) != 1 or get_message_text(events[0].message) != "\n".join(self.payload.texts):
            raise RuntimeError(f"the echo agent answered outside its contract: {events!r}")
        return elapsed

    async def mcp_call(self) -> float:
        started = time.perf_counter()
        result = await self._mcp.call_tool("propose_move", {"direction": "down"})
        elapsed = time.perf_counter() - started
        if result.is_error or not result.structured_content:
            raise RuntimeError(f"the bare MCP server answered outside its contract: {result!r}")
        return elapsed

    async def measure(self, pairs: int, calls: FloorCalls) -> None:
        """Make `pairs` A2A round trips and as many MCP calls, alternating; add their times and CPU to `calls`."""
        echo0, mcp0 = cpu_s(self._echo_pid), cpu_s(self._mcp_pid)
        for index in range(pairs):
            for kind in (("mcp", "a2a") if index % 2 else ("a2a", "mcp")):  # neither always follows the other
                cpu0 = time.process_time()
                if kind == "a2a":
                    calls.a2a_s.append(await self.a2a_round_trip())
                    calls.a2a_client_cpu_s += time.process_time() - cpu0
                else:
                    calls.mcp_s.append(await self.mcp_call())
                    calls.mcp_client_cpu_s += time.process_time() - cpu0
        calls.a2a_server_cpu_s += cpu_s(self._echo_pid) - echo0
        calls.mcp_server_cpu_s += cpu_s(self._mcp_pid) - mcp0
