"""The fake vendor speaks the Anthropic Messages API closely enough for a client written against Anthropic's docs."""

from __future__ import annotations

from ._wire import ANTHROPIC_HEADERS, ANTHROPIC_VERSION, TASK, anthropic_body, anthropic_events, anthropic_stream_text
from .conftest import Connect


async def test_a_message_has_anthropic_shape_and_positive_usage(vendor: Connect) -> None:
    response = await vendor().post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("msg_") and body["type"] == "message" and body["role"] == "assistant"
    assert body["model"] == "sim-cartographer"
    [block] = body["content"]
    assert block["type"] == "text" and "@?#???" in block["text"]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    assert body["usage"]["input_tokens"] > 0 and body["usage"]["output_tokens"] > 0


async def test_a_stream_follows_the_documented_event_order(vendor: Connect) -> None:
    client = vendor()
    plain = (await client.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)).json()
    response = await client.post("/v1/messages", json=anthropic_body(stream=True), headers=ANTHROPIC_HEADERS)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = anthropic_events(response.text)
    names = [name for name, _ in events]
    deltas = names.count("content_block_delta")
    assert deltas > 2
    assert [n for n in names if n != "ping"] == (
        ["message_start", "content_block_start"] + ["content_block_delta"] * deltas
        + ["content_block_stop", "message_delta", "message_stop"]
    )
    start, message_delta = events[0][1], dict(events)["message_delta"]
    assert start["message"]["usage"]["input_tokens"] == plain["usage"]["input_tokens"]
    assert message_delta["delta"]["stop_reason"] == "end_turn"
    assert message_delta["usage"]["output_tokens"] == plain["usage"]["output_tokens"]
    assert anthropic_stream_text(events) == plain["content"][0]["text"]


async def test_system_and_content_blocks_are_read_as_text(vendor: Connect) -> None:
    body = anthropic_body(
        system=[{"type": "text", "text": "relay...", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": [{"type": "text", "text": f"[user]: {TASK}"}]}],
        temperature=0.0,
    )
    response = await vendor().post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)
    assert response.status_code == 200 and "@?#???" in response.json()["content"][0]["text"]


async def test_max_tokens_is_required_and_stops_the_answer_early(vendor: Connect) -> None:
    client = vendor()
    body = anthropic_body()
    del body["max_tokens"]
    missing = await client.post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)
    assert missing.status_code == 400 and missing.json()["error"]["type"] == "invalid_request_error"
    short = (await client.post("/v1/messages", json=anthropic_body(max_tokens=3), headers=ANTHROPIC_HEADERS)).json()
    assert short["stop_reason"] == "max_tokens" and short["usage"]["output_tokens"] == 3


async def test_the_anthropic_version_header_is_required(vendor: Connect) -> None:
    response = await vendor().post("/v1/messages", json=anthropic_body(), headers={"x-api-key": "k"})
    assert response.status_code == 400
    assert response.json()["type"] == "error" and response.json()["error"]["type"] == "invalid_request_error"


async def test_a_request_without_x_api_key_is_a_401_authentication_error(vendor: Connect) -> None:
    client = vendor(api_key="s3cret-key")
    for key in (None, "wrong-key"):
        headers = {"anthropic-version": ANTHROPIC_VERSION} | ({"x-api-key": key} if key else {})
        response = await client.post("/v1/messages", json=anthropic_body(), headers=headers)
        assert response.status_code == 401 and "s3cret" not in response.text and "wrong-key" not in response.text
        assert response.json() == {"type": "error", "error": {"type": "authentication_error",
                                                              "message": response.json()["error"]["message"]}}
    ok = await client.post("/v1/messages", json=anthropic_body(),
                           headers={"x-api-key": "s3cret-key", "anthropic-version": ANTHROPIC_VERSION})
    assert ok.status_code == 200


async def test_an_unknown_model_is_a_404_not_found_error(vendor: Connect) -> None:
    response = await vendor().post("/v1/messages", json=anthropic_body("claude-nope"), headers=ANTHROPIC_HEADERS)
    assert response.status_code == 404
    assert response.json()["type"] == "error" and response.json()["error"]["type"] == "not_found_error"


async def test_malformed_json_and_invalid_requests_are_400s_in_anthropic_shape(vendor: Connect) -> None:
    client = vendor()
    for request in (
        {"content": b"{nope"},
        {"json": anthropic_body(messages=[{"role": "system", "content": "not a message role"}])},
        {"json": anthropic_body(messages=[])},
    ):
        response = await client.post("/v1/messages", headers=ANTHROPIC_HEADERS, **request)
        assert response.status_code == 400, request
        assert response.json()["error"]["type"] == "invalid_request_error"


async def test_models_answers_in_anthropic_shape_to_an_anthropic_client(vendor: Connect) -> None:
    listing = (await vendor().get("/v1/models", headers=ANTHROPIC_HEADERS)).json()
    assert {m["id"] for m in listing["data"]} >= {"sim-cartographer", "sim-follower"}
    assert all(m["type"] == "model" for m in listing["data"]) and listing["has_more"] is False
