"""The referee's seat tools for referee-direct LLM players: offered to the model as functions, called over MCP.

The seat token from the game's start message is the bearer token, and alone decides game and seat
(docs/referee.md). The model's tool calls of one reply run through one referee session
(`collabgap.services.shared`), opened for them and closed after. The tools' names and arguments are those of
`collabgap.protocol`; only what the model is told about each tool is the agent's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pydantic
from mcp.types import CallToolResult
from pydantic import SecretStr

from collabgap.protocol import GAME_STATUS, GET_VIEW, PROPOSE_MOVE, REFEREE_SEAT_TOOLS, RefereeTool, ToolName
from collabgap.services.shared import open_referee

from ._vendors import ToolCall, ToolDefinition

_ABOUT: dict[ToolName, str] = {
    GET_VIEW.name: (
        "Your own map of the maze, as the referee holds it: rows top to bottom, with the legend. Cells marked ? are "
        "hidden from you; your partner may see them."),
    PROPOSE_MOVE.name: (
        "Vote for the team's next move. The move is made as soon as your latest vote and your partner's latest vote "
        "name the same direction; a new vote replaces your earlier one. Returns whether the move was made "
        "(`executed`), the game's status and the number of moves made. Stepping into a wall or off the grid ends "
        "the game."),
    GAME_STATUS.name: (
        "The game's status (active, solved, failed or ended), the moves made so far, and whether your partner has a "
        "vote pending."),
}
SEAT_TOOLS: tuple[ToolDefinition, ...] = tuple(
    ToolDefinition(tool.name, _ABOUT[tool.name], tool.arguments.model_json_schema()) for tool in REFEREE_SEAT_TOOLS)
_BY_NAME: dict[str, RefereeTool[pydantic.BaseModel, pydantic.BaseModel]] = {
    tool.name: tool for tool in REFEREE_SEAT_TOOLS}


@dataclass(frozen=True)
class ToolResult:
    """What a tool call gave, as the model reads it: the referee's JSON answer, or why the call failed."""

    text: str
    is_error: bool = False


def _checked(call: ToolCall) -> ToolResult | tuple[ToolName, pydantic.BaseModel]:
    """The tool and validated arguments of a call, or the error result of a call that never reaches the referee."""
    tool = _BY_NAME.get(call.name)
    if tool is None:
        return ToolResult(f"unknown tool {call.name!r}: the tools are {', '.join(sorted(_BY_NAME))}", True)
    if call.malformed is not None:
        return ToolResult(f"{call.malformed}; call {call.name} again with a JSON object of arguments", True)
    try:
        return tool.name, tool.arguments.model_validate(call.arguments)
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
        return ToolResult(f"invalid arguments for {call.name}: {problems}", True)


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
        checked = [_checked(call) for call in calls]
        if all(isinstance(item, ToolResult) for item in checked):
            return [item for item in checked if isinstance(item, ToolResult)]
        results: list[ToolResult] = []
        async with open_referee(self.url, self._token.get_secret_value(), timeout=self._timeout) as referee:
            for item in checked:
                if isinstance(item, ToolResult):
                    results.append(item)
                else:
                    answer = await referee.send(*item)
                    results.append(ToolResult(_text(answer), bool(answer.is_error)))
        return results
