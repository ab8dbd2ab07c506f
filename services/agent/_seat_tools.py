"""The referee's seat tools for referee-direct LLM players: offered to the model as functions, called over MCP.

The seat token from the game's start message is the bearer token, and alone decides game and seat
(docs/referee.md). The model's tool calls of one reply run through one MCP client, opened for them and closed
after: an mcp `Client` must be entered and exited in one asyncio task, and the agent service answers each A2A
message in a task of its own. In the 2026-07-28 mode opening a client costs no handshake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx2
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult
from pydantic import SecretStr

from ._errors import RefereeUnavailableError
from ._vendors import ToolCall, ToolDefinition

PROTOCOL = "2026-07-28"
_NO_ARGUMENTS = {"type": "object", "properties": {}, "additionalProperties": False}

SEAT_TOOLS: tuple[ToolDefinition, ...] = (
    ToolDefinition(
        "get_view",
        "Your own map of the maze, as the referee holds it: rows top to bottom, with the legend. Cells marked ? "
        "are hidden from you; your partner may see them.",
        _NO_ARGUMENTS,
    ),
    ToolDefinition(
        "propose_move",
        "Vote for the team's next move. The move is made as soon as your latest vote and your partner's latest "
        "vote name the same direction; a new vote replaces your earlier one. Returns whether the move was made "
        "(`executed`), the game's status and the number of moves made. Stepping into a wall or off the grid ends "
        "the game.",
        {"type": "object",
         "properties": {"direction": {"type": "string", "enum": ["up", "down", "left", "right"],
                                      "description": "The direction to move the team one cell."}},
         "required": ["direction"], "additionalProperties": False},
    ),
    ToolDefinition(
        "game_status",
        "The game's status (active, solved, failed or ended), the moves made so far, and whether your partner "
        "has a vote pending.",
        _NO_ARGUMENTS,
    ),
)
SEAT_TOOL_NAMES = frozenset(tool.name for tool in SEAT_TOOLS)


@dataclass(frozen=True)
class ToolResult:
    """What a tool call gave, as the model reads it: the referee's JSON answer, or why the call failed."""

    text: str
    is_error: bool = False


def _refusal(call: ToolCall) -> ToolResult | None:
    """The error result of a call that never reaches the referee, or None when it may."""
    if call.name not in SEAT_TOOL_NAMES:
        return ToolResult(f"unknown tool {call.name!r}: the tools are {', '.join(sorted(SEAT_TOOL_NAMES))}", True)
    if call.malformed is not None:
        return ToolResult(f"{call.malformed}; call {call.name} again with a JSON object of arguments", True)
    return None


def _text(result: CallToolResult) -> str:
    return "\n".join(part.text for part in result.content if part.type == "text") or (
        "error" if result.is_error else "ok")


class SeatTools:
    """One seat's tools at one referee, called with the seat's token."""

    def __init__(self, url: str, token: SecretStr, *, timeout: float = 30.0) -> None:
        self.url = url
        self._token = token
        self._timeout = timeout

    async def run(self, calls: Sequence[ToolCall]) -> list[ToolResult]:
        """The result of each call, in order. A call the referee refuses, an unknown tool or unreadable arguments
        give an error result the model can read and act on.

        Raises:
            RefereeUnavailableError: the referee could not be reached, or broke the protocol.
        """
        results: list[ToolResult | None] = [_refusal(call) for call in calls]
        pending = [index for index, result in enumerate(results) if result is None]
        if pending:
            answers = await self._call([calls[index] for index in pending])
            for index, answer in zip(pending, answers, strict=True):
                results[index] = answer
        return [result for result in results if result is not None]

    async def _call(self, calls: Sequence[ToolCall]) -> list[ToolResult]:
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        answers: list[ToolResult] = []
        failure: Exception | None = None
        try:
            async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(self._timeout)) as http:
                async with Client(streamable_http_client(self.url, http_client=http), mode=PROTOCOL,
                                  read_timeout_seconds=self._timeout) as client:
                    for call in calls:
                        try:
                            result = await client.call_tool(call.name, call.arguments)
                        except (MCPError, httpx2.HTTPError, OSError, RuntimeError) as exc:
                            failure = exc  # raised below, outside the client's task group, so it is not grouped
                            break
                        answers.append(ToolResult(_text(result), bool(result.is_error)))
        except* (MCPError, httpx2.HTTPError, OSError) as group:
            raise RefereeUnavailableError(f"cannot reach the referee at {self.url}: {group.exceptions[0]}") from group
        if failure is not None:
            raise RefereeUnavailableError(f"the referee at {self.url} failed a seat tool call: {failure}") from failure
        return answers
