"""The vendor clients send tool definitions and results, and read tool calls, whole or streamed, in each API's
shape; checked against the fake vendor in process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from collabgap.services.agent import VendorSpec
from collabgap.services.agent._seat_tools import SEAT_TOOLS
from collabgap.services.agent._vendors import (
    AnthropicMessages,
    ChatMessage,
    EndpointClient,
    OpenAIChat,
    ToolCall,
    Vendor,
)
from collabgap.services.agent._vendors._anthropic import _turns
from collabgap.services.agent._vendors._base import read_arguments
from collabgap.services.fake_llm import FakeVendorSettings, create_fake_vendor_app
from tests.services.fake_llm._wire import OPENING, PARTNER_VOTED, TASK

OpenVendor = Callable[[str, bool], Vendor]


@pytest.fixture
async def open_vendor(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[OpenVendor]:
    """`open_vendor(kind, stream)`: a vendor client of that API on one in-process fake vendor."""
    monkeypatch.setenv("COLLABGAP_UNIT_KEY", "test-key")
    app = create_fake_vendor_app(FakeVendorSettings())
    endpoints: list[EndpointClient] = []

    def connect(kind: str, stream: bool) -> Vendor:
        base = "http://fake-llm/v1" if kind == "openai" else "http://fake-llm"
        spec = VendorSpec(kind=kind, model="sim-cartographer", base_url=base,
                          api_key_env="COLLABGAP_UNIT_KEY", stream=stream)
        endpoint = EndpointClient(spec, transport=httpx.ASGITransport(app=app))
        endpoints.append(endpoint)
        return OpenAIChat(spec, endpoint) if kind == "openai" else AnthropicMessages(spec, endpoint)

    yield connect
    for endpoint in endpoints:
        await endpoint.aclose()


def conversation() -> list[ChatMessage]:
    """The seat's conversation once its partner has voted `down` at the referee."""
    return [ChatMessage("system", "relay..."), ChatMessage("user", f"[user]: {TASK}"),
            ChatMessage("assistant", OPENING), ChatMessage("user", PARTNER_VOTED)]


KINDS = pytest.mark.parametrize(("kind", "stream"), [("openai", False), ("openai", True), ("anthropic", False),
                                                      ("anthropic", True)])


@KINDS
async def test_a_tool_call_is_read_and_its_result_sent_back(open_vendor: OpenVendor, kind: str, stream: bool) -> None:
    vendor = open_vendor(kind, stream)
    messages = conversation()
    first = await vendor.complete(messages, SEAT_TOOLS)
    [call] = first.tool_calls
    assert (call.name, call.arguments, call.malformed) == ("propose_move", {"direction": "down"}, None)
    assert call.id.startswith("call_" if kind == "openai" else "toolu_") and first.text == ""
    assert first.usage.model == "sim-cartographer" and first.usage.prompt_tokens > 0
    assert first.usage.completion_tokens > 0 and first.usage.calls == 1

    messages += [ChatMessage("assistant", first.text, tool_calls=first.tool_calls),
                 ChatMessage("tool", '{"executed": true, "status": "active", "moves_made": 1}', tool_call_id=call.id)]
    second = await vendor.complete(messages, SEAT_TOOLS)
    assert second.tool_calls == () and "I have voted down at the referee." in second.text
    assert "MOVE:" not in second.text


@KINDS
async def test_an_error_result_reaches_the_model(open_vendor: OpenVendor, kind: str, stream: bool) -> None:
    vendor = open_vendor(kind, stream)
    messages = conversation()
    first = await vendor.complete(messages, SEAT_TOOLS)
    messages += [ChatMessage("assistant", "", tool_calls=first.tool_calls),
                 ChatMessage("tool", "Error executing tool propose_move: game 1 is over (solved)",
                             tool_call_id=first.tool_calls[0].id, is_error=True)]
    second = await vendor.complete(messages, SEAT_TOOLS)
    assert "The referee refused my vote" in second.text and "is over" in second.text


@KINDS
async def test_tool_choice_none_gets_text(open_vendor: OpenVendor, kind: str, stream: bool) -> None:
    completion = await open_vendor(kind, stream).complete(conversation(), SEAT_TOOLS, tool_choice="none")
    assert completion.tool_calls == () and "down" in completion.text


@KINDS
async def test_without_tools_the_request_and_answer_are_as_before(open_vendor: OpenVendor, kind: str,
                                                                  stream: bool) -> None:
    completion = await open_vendor(kind, stream).complete(conversation())
    assert completion.tool_calls == ()
    assert completion.text.endswith("MOVE: down") or "Agreed" in completion.text


def test_anthropic_tool_results_join_the_partner_message_that_follows() -> None:
    """A tool round the model ended without text stays well formed: the results lead the next user turn."""
    call = ToolCall("toolu_1", "game_status", {})
    system, turns = _turns([*conversation(), ChatMessage("assistant", "", tool_calls=(call,)),
                            ChatMessage("tool", "{}", tool_call_id="toolu_1"),
                            ChatMessage("user", "[other agent]: hi")])
    assert system == "relay..." and [t["role"] for t in turns] == ["user", "assistant", "user", "assistant", "user"]
    assert turns[3]["content"] == [{"type": "tool_use", "id": "toolu_1", "name": "game_status", "input": {}}]
    assert turns[4]["content"] == [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "{}"},
                                   {"type": "text", "text": "[other agent]: hi"}]


def test_malformed_arguments_are_kept_as_a_reason_not_an_error() -> None:
    assert read_arguments('{"direction": "up"}') == ({"direction": "up"}, None)
    assert read_arguments("") == ({}, None)
    values, why = read_arguments('{"direction": ')
    assert values == {} and why is not None and "not valid JSON" in why
    values, why = read_arguments('["up"]')
    assert values == {} and why is not None and "object" in why
