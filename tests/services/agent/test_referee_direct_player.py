"""A referee-direct LLM player runs its model's tool calls at the referee with its seat token (a scripted
stand-in for the vendor, the real referee)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from a2a.utils.errors import InvalidParamsError

from collabgap.protocol import REFEREE_EXTENSION, CreateGameArgs, SeatStart, SeatTurn, Usage
from collabgap.services.agent import (
    AgentSettings,
    LLMPlayer,
    PlayerSpecError,
    RefereeUnavailableError,
    VendorSpec,
    build_card,
    create_agent_app,
)
from collabgap.services.agent._players._llm import MAX_TOOL_ROUNDS
from collabgap.services.agent._vendors import ChatMessage, Completion, ToolCall, ToolChoice, ToolDefinition
from collabgap.services.coordinator import RefereeClient, free_port
from tests.conftest import Stack

MAZE = ["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"]


class ScriptedVendor:
    """Answers with the completions it was given, in order, and keeps every request."""

    spec = VendorSpec(kind="openai", model="scripted")

    def __init__(self, *answers: str | Sequence[ToolCall]) -> None:
        self._answers = list(answers)
        self.requests: list[tuple[list[ChatMessage], Sequence[ToolDefinition] | None, ToolChoice]] = []

    async def complete(self, messages: list[ChatMessage], tools: Sequence[ToolDefinition] | None = None, *,
                       tool_choice: ToolChoice = "auto") -> Completion:
        self.requests.append((messages, tools, tool_choice))
        answer = self._answers.pop(0)
        usage = Usage(model="scripted", prompt_tokens=10, completion_tokens=2)
        return Completion(answer, usage) if isinstance(answer, str) else Completion("", usage, tuple(answer))


def call(name: str, arguments: dict[str, Any] | None = None, *, number: int = 1,
         malformed: str | None = None) -> ToolCall:
    return ToolCall(f"call_{name}_{number}", name, arguments or {}, malformed)


def start(referee_url: str | None, token: str | None, channel: str = "referee") -> SeatStart:
    return SeatStart(game_id="g", seat="A", condition="pair", speaks_first=True, message_limit=50, size=6,
                     maps=[["@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"]], legend="legend",
                     move_channel=channel, referee_url=referee_url, seat_token=token)


async def new_game(stack: Stack) -> tuple[str, str]:
    """A game on the referee: its id and seat A's token."""
    async with RefereeClient.connect(stack.referee_url, stack.token.get_secret_value()) as referee:
        created = await referee.create_game(CreateGameArgs(maze=MAZE))
    return created.game_id, created.seat_tokens["A"]


async def votes(stack: Stack, game_id: str) -> list[str]:
    async with RefereeClient.connect(stack.referee_url, stack.token.get_secret_value()) as referee:
        return [vote.direction for vote in (await referee.get_game(game_id)).votes]


async def test_the_model_votes_at_the_referee_and_reads_the_results(stack: Stack) -> None:
    game_id, token = await new_game(stack)
    vendor = ScriptedVendor([call("get_view")], [call("propose_move", {"direction": "down"}),
                                                 call("game_status")], "I voted down.")
    reply = await LLMPlayer(vendor, "system").reply(start(stack.referee_url, token), ["the task"])
    assert reply.text == "I voted down." and await votes(stack, game_id) == ["down"]
    assert reply.usage is not None and (reply.usage.calls, reply.usage.prompt_tokens) == (3, 30)
    assert [[t.name for t in tools or ()] for _, tools, _ in vendor.requests] == [
        ["get_view", "propose_move", "game_status"]] * 3
    messages = vendor.requests[-1][0]
    results = [m for m in messages if m.role == "tool"]
    assert [m.tool_call_id for m in results] == ["call_get_view_1", "call_propose_move_1", "call_game_status_1"]
    assert not any(m.is_error for m in results)
    assert '"rows"' in results[0].content and '"executed":false' in results[1].content.replace(" ", "")
    assert '"partner_has_pending_vote":false' in results[2].content.replace(" ", "")


async def test_refused_and_impossible_calls_come_back_as_error_results(stack: Stack) -> None:
    game_id, token = await new_game(stack)
    vendor = ScriptedVendor([call("propose_move", {"direction": "sideways"}), call("teleport"),
                             call("propose_move", malformed="the arguments are not valid JSON")], "Sorry.")
    reply = await LLMPlayer(vendor, "system").reply(start(stack.referee_url, token), ["the task"])
    assert reply.text == "Sorry." and await votes(stack, game_id) == []
    errors = [m.content for m in vendor.requests[-1][0] if m.role == "tool"]
    assert all(m.is_error for m in vendor.requests[-1][0] if m.role == "tool")
    assert "unknown direction 'sideways'" in errors[0]
    assert "unknown tool 'teleport'" in errors[1] and "not valid JSON" in errors[2]


async def test_tool_rounds_per_reply_are_bounded(stack: Stack) -> None:
    """After `MAX_TOOL_ROUNDS` rounds the model is asked for text; calls it makes anyway are answered unmade."""
    _, token = await new_game(stack)
    rounds = [[call("game_status", number=n)] for n in range(MAX_TOOL_ROUNDS + 1)]
    vendor = ScriptedVendor(*rounds, "next turn")
    player = LLMPlayer(vendor, "system")
    reply = await player.reply(start(stack.referee_url, token), ["the task"])
    assert reply.text == "" and len(vendor.requests) == MAX_TOOL_ROUNDS + 1
    assert [choice for *_, choice in vendor.requests] == ["auto"] * MAX_TOOL_ROUNDS + ["none"]
    await player.reply(SeatTurn(game_id="g", seat="A", turn=2, partner_text="hello"), ["hello"])
    messages = vendor.requests[-1][0]
    unmade = [m for m in messages if m.role == "tool"][-1]
    assert unmade.is_error and "not called" in unmade.content
    assert messages[-1] == ChatMessage("user", "[other agent]: hello")


async def test_an_unreachable_referee_is_an_infrastructure_error_not_a_tool_result() -> None:
    vendor = ScriptedVendor([call("game_status")])
    with pytest.raises(RefereeUnavailableError):
        await LLMPlayer(vendor, "system").reply(start(f"http://127.0.0.1:{free_port()}/mcp", "token"), ["task"])


async def test_without_the_referee_channel_no_tools_are_offered() -> None:
    vendor = ScriptedVendor("MOVE: down")
    reply = await LLMPlayer(vendor, "system").reply(start(None, None, channel="message"), ["the task"])
    assert reply.text == "MOVE: down" and vendor.requests[0][1:] == (None, "auto")


async def test_a_referee_channel_without_its_token_is_refused() -> None:
    with pytest.raises(InvalidParamsError, match="seat_token"):
        await LLMPlayer(ScriptedVendor(), "system").reply(start("http://127.0.0.1:1/mcp", None), ["task"])


def test_only_a_referee_direct_card_declares_the_extension() -> None:
    direct = build_card(AgentSettings(player="openai:m", public_url="http://x", referee_direct=True))
    assert [e.uri for e in direct.capabilities.extensions] == [REFEREE_EXTENSION]
    assert not direct.capabilities.extensions[0].required
    plain = build_card(AgentSettings(player="openai:m", public_url="http://x"))
    assert list(plain.capabilities.extensions) == []


def test_a_scripted_player_cannot_be_referee_direct() -> None:
    with pytest.raises(PlayerSpecError, match="referee-direct"):
        create_agent_app(AgentSettings(player="scripted:cartographer", public_url="http://x", referee_direct=True))
