"""Function calling on the fake vendor's wire, as each vendor documents it: a seat model offered the referee's
seat tools votes with a `propose_move` call instead of a `MOVE:` line, and writes to its partner afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ._wire import (
    ANTHROPIC_HEADERS,
    OPENAI_HEADERS,
    OPENING,
    PARTNER_VOTED,
    TASK,
    anthropic_body,
    anthropic_events,
    openai_body,
    openai_chunks,
)
from .conftest import Connect

SCHEMA = {"type": "object", "properties": {"direction": {"type": "string"}}, "required": ["direction"]}
OPENAI_TOOLS = [{"type": "function", "function": {"name": name, "description": name, "parameters": SCHEMA}}
                for name in ("get_view", "propose_move", "game_status")]
ANTHROPIC_TOOLS = [{"name": name, "description": name, "input_schema": SCHEMA}
                   for name in ("get_view", "propose_move", "game_status")]


def openai_turns(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """The seat's conversation after its partner voted `down`, then `extra`."""
    return [{"role": "system", "content": "relay..."}, {"role": "user", "content": f"[user]: {TASK}"},
            {"role": "assistant", "content": OPENING}, {"role": "user", "content": PARTNER_VOTED}, *extra]


def anthropic_turns(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": f"[user]: {TASK}"}, {"role": "assistant", "content": OPENING},
            {"role": "user", "content": PARTNER_VOTED}, *extra]


@pytest.mark.parametrize("stream", [False, True])
async def test_openai_a_seat_model_votes_with_a_tool_call_then_writes_to_its_partner(vendor: Connect,
                                                                                      stream: bool) -> None:
    client = vendor()
    body = openai_body(stream=stream, messages=openai_turns(), tools=OPENAI_TOOLS)
    response = await client.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
    if stream:
        chunks, done = openai_chunks(response.text)
        assert done and chunks[0]["choices"][0]["delta"]["content"] is None
        deltas = [d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls", [])]
        first, *pieces = deltas
        assert first["index"] == 0 and first["type"] == "function" and first["function"] == {
            "name": "propose_move", "arguments": ""}
        assert len(pieces) > 1 and all(set(p) == {"index", "function"} for p in pieces)
        call_id, arguments = first["id"], "".join(p["function"]["arguments"] for p in pieces)
        assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    else:
        [choice] = response.json()["choices"]
        assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
        [call] = choice["message"]["tool_calls"]
        assert call["type"] == "function" and call["function"]["name"] == "propose_move"
        call_id, arguments = call["id"], call["function"]["arguments"]
    assert call_id.startswith("call_") and json.loads(arguments) == {"direction": "down"}

    called = {"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": "propose_move", "arguments": arguments}}]}
    result = {"role": "tool", "tool_call_id": call_id, "content": '{"executed": true, "status": "active"}'}
    body = openai_body(messages=openai_turns(called, result), tools=OPENAI_TOOLS)
    after = (await client.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)).json()
    [choice] = after["choices"]
    assert choice["finish_reason"] == "stop" and "tool_calls" not in choice["message"]
    text = choice["message"]["content"]
    assert "Agreed, down" in text and "I have voted down at the referee." in text and "MOVE:" not in text


@pytest.mark.parametrize("stream", [False, True])
async def test_anthropic_a_seat_model_votes_with_tool_use_then_writes_to_its_partner(vendor: Connect,
                                                                                     stream: bool) -> None:
    client = vendor()
    body = anthropic_body(stream=stream, messages=anthropic_turns(), tools=ANTHROPIC_TOOLS)
    response = await client.post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)
    if stream:
        events = anthropic_events(response.text)
        assert [n for n, _ in events if n != "ping"] == [
            "message_start", "content_block_start", "content_block_delta", "content_block_delta",
            "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
        block = dict(events)["content_block_start"]["content_block"]
        assert block["type"] == "tool_use" and block["name"] == "propose_move" and block["input"] == {}
        deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
        assert {d["type"] for d in deltas} == {"input_json_delta"}
        tool_id, arguments = block["id"], json.loads("".join(d["partial_json"] for d in deltas))
        assert dict(events)["message_delta"]["delta"]["stop_reason"] == "tool_use"
    else:
        message = response.json()
        assert message["stop_reason"] == "tool_use"
        [block] = message["content"]
        assert block["type"] == "tool_use" and block["name"] == "propose_move"
        tool_id, arguments = block["id"], block["input"]
    assert tool_id.startswith("toolu_") and arguments == {"direction": "down"}

    called = {"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": "propose_move",
                                                "input": arguments}]}
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id,
                                           "content": '{"executed": true, "status": "active"}'}]}
    body = anthropic_body(messages=anthropic_turns(called, result), tools=ANTHROPIC_TOOLS)
    after = (await client.post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)).json()
    assert after["stop_reason"] == "end_turn"
    [text] = after["content"]
    assert text["type"] == "text" and "I have voted down at the referee." in text["text"]
    assert "MOVE:" not in text["text"]


async def test_a_refused_vote_is_reported_to_the_partner(vendor: Connect) -> None:
    called = {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "propose_move",
                                                "input": {"direction": "down"}}]}
    refused = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
                                            "content": [{"type": "text", "text": "Error executing tool "
                                                         "propose_move: game 1 is over (failed)"}]}]}
    body = anthropic_body(messages=anthropic_turns(called, refused), tools=ANTHROPIC_TOOLS)
    text = (await vendor().post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)).json()["content"][0]["text"]
    assert "The referee refused my vote" in text and "game 1 is over" in text and "I have voted" not in text


async def test_opening_a_game_the_model_looks_at_its_view_first(vendor: Connect) -> None:
    client = vendor()
    messages = [{"role": "system", "content": "relay..."}, {"role": "user", "content": f"[user]: {TASK}"}]
    first = (await client.post("/v1/chat/completions", headers=OPENAI_HEADERS,
                               json=openai_body(messages=messages, tools=OPENAI_TOOLS))).json()
    [call] = first["choices"][0]["message"]["tool_calls"]
    assert call["function"] == {"name": "get_view", "arguments": "{}"}
    messages += [first["choices"][0]["message"],
                 {"role": "tool", "tool_call_id": call["id"], "content": '{"rows": [], "legend": ""}'}]
    second = (await client.post("/v1/chat/completions", headers=OPENAI_HEADERS,
                                json=openai_body(messages=messages, tools=OPENAI_TOOLS))).json()
    assert second["choices"][0]["finish_reason"] == "stop"
    assert "@?#???" in second["choices"][0]["message"]["content"]  # the opening shares the map, votes nothing


async def test_tool_choice_none_and_no_tools_get_text(vendor: Connect) -> None:
    client = vendor()
    offers: list[dict[str, Any]] = [{"tool_choice": "none", "tools": OPENAI_TOOLS}, {}]
    for offer in offers:
        body = openai_body(messages=openai_turns(), **offer)
        [choice] = (await client.post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)).json()["choices"]
        assert choice["finish_reason"] == "stop" and "tool_calls" not in choice["message"]
    silent = anthropic_body(messages=anthropic_turns(), tools=ANTHROPIC_TOOLS, tool_choice={"type": "none"})
    message = (await client.post("/v1/messages", json=silent, headers=ANTHROPIC_HEADERS)).json()
    assert message["stop_reason"] == "end_turn" and message["content"][0]["type"] == "text"


async def test_tool_results_must_answer_the_calls_before_them(vendor: Connect) -> None:
    """Both vendors refuse a result with no call, and a call left without its result, with a 400."""
    client = vendor()
    orphan = {"role": "tool", "tool_call_id": "call_nobody", "content": "{}"}
    unanswered = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_view", "arguments": "{}"}}]}
    for messages in (openai_turns(orphan), openai_turns(unanswered, {"role": "user", "content": "hi"})):
        response = await client.post("/v1/chat/completions", json=openai_body(messages=messages,
                                                                               tools=OPENAI_TOOLS),
                                     headers=OPENAI_HEADERS)
        assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
    orphan_block = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "{}"}]}
    response = await client.post("/v1/messages", json=anthropic_body(messages=[*anthropic_turns(), {
        "role": "assistant", "content": "ok"}, orphan_block]), headers=ANTHROPIC_HEADERS)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"


async def test_usage_counts_the_tool_definitions_and_calls(vendor: Connect) -> None:
    client = vendor()
    plain = (await client.post("/v1/chat/completions", json=openai_body(messages=openai_turns()),
                               headers=OPENAI_HEADERS)).json()["usage"]
    tooled = (await client.post("/v1/chat/completions", json=openai_body(messages=openai_turns(),
                                                                         tools=OPENAI_TOOLS),
                                headers=OPENAI_HEADERS)).json()["usage"]
    assert tooled["prompt_tokens"] > plain["prompt_tokens"] and tooled["completion_tokens"] > 0
