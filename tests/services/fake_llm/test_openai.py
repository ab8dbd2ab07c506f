"""The fake vendor speaks OpenAI Chat Completions closely enough for a client written against OpenAI's docs."""

from __future__ import annotations

import json
import re

from ._wire import OPENAI_HEADERS, PARTNER_REPLY, TASK, openai_body, openai_chunks, openai_stream_text
from .conftest import Connect


async def test_a_completion_has_openai_shape_and_positive_usage(vendor: Connect) -> None:
    response = await vendor().post("/v1/chat/completions", json=openai_body(), headers=OPENAI_HEADERS)
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("chatcmpl-") and body["object"] == "chat.completion"
    assert body["model"] == "sim-cartographer" and isinstance(body["created"], int)
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant" and "@?#???" in choice["message"]["content"]
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 0}


async def test_usage_is_about_a_token_per_four_characters_and_deterministic(vendor: Connect) -> None:
    client = vendor()
    first, again = [(await client.post("/v1/chat/completions", json=openai_body(), headers=OPENAI_HEADERS)).json()
                    for _ in range(2)]
    assert first["usage"] == again["usage"]
    prompt_chars = len("relay...") + len(f"[user]: {TASK}")
    assert abs(first["usage"]["prompt_tokens"] - prompt_chars / 4) <= 1
    assert abs(first["usage"]["completion_tokens"] - len(first["choices"][0]["message"]["content"]) / 4) <= 1


async def test_a_stream_sends_chunks_then_stop_then_usage_then_done(vendor: Connect) -> None:
    client = vendor()
    plain = (await client.post("/v1/chat/completions", json=openai_body(), headers=OPENAI_HEADERS)).json()
    response = await client.post("/v1/chat/completions", json=openai_body(stream=True), headers=OPENAI_HEADERS)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    chunks, done = openai_chunks(response.text)
    assert done and all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks if c["choices"] and c["choices"][0]["delta"]]
    assert len([p for p in pieces if p]) > 2
    assert openai_stream_text(chunks) == plain["choices"][0]["message"]["content"]
    *_, last_choice, usage_chunk = chunks
    assert last_choice["choices"][0]["finish_reason"] == "stop"
    assert usage_chunk["choices"] == [] and usage_chunk["usage"] == plain["usage"]


async def test_a_stream_without_include_usage_has_no_usage_chunk(vendor: Connect) -> None:
    body = openai_body(stream=True, stream_options={"include_usage": False})
    response = await vendor().post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
    chunks, done = openai_chunks(response.text)
    assert done and all(c["choices"] for c in chunks) and "usage" not in chunks[-1]


async def test_content_parts_and_developer_messages_are_read_as_text(vendor: Connect) -> None:
    body = openai_body(messages=[
        {"role": "developer", "content": [{"type": "text", "text": "relay..."}]},
        {"role": "user", "content": [{"type": "text", "text": f"[user]: {TASK}"}]},
    ], max_completion_tokens=500, unknown_option={"ignored": True})
    response = await vendor().post("/v1/chat/completions", json=body, headers=OPENAI_HEADERS)
    assert response.status_code == 200 and "@?#???" in response.json()["choices"][0]["message"]["content"]


async def test_max_tokens_cuts_the_answer_with_finish_reason_length(vendor: Connect) -> None:
    response = await vendor().post("/v1/chat/completions", json=openai_body(max_tokens=5), headers=OPENAI_HEADERS)
    body = response.json()
    assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 5
    assert len(body["choices"][0]["message"]["content"]) <= 20


async def test_an_unknown_model_is_a_404_model_not_found(vendor: Connect) -> None:
    response = await vendor().post("/v1/chat/completions", json=openai_body("gpt-nope"), headers=OPENAI_HEADERS)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "model_not_found" and error["message"]


async def test_a_request_without_a_bearer_key_is_a_401(vendor: Connect) -> None:
    client = vendor()
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        response = await client.post("/v1/chat/completions", json=openai_body(), headers=headers)
        assert response.status_code == 401 and response.json()["error"]["type"] == "invalid_request_error"


async def test_a_configured_key_must_match_and_is_never_echoed(vendor: Connect) -> None:
    client = vendor(api_key="s3cret-key")
    wrong = await client.post("/v1/chat/completions", json=openai_body(),
                              headers={"Authorization": "Bearer wrong-key"})
    assert wrong.status_code == 401 and "wrong-key" not in wrong.text and "s3cret" not in wrong.text
    right = await client.post("/v1/chat/completions", json=openai_body(),
                              headers={"Authorization": "Bearer s3cret-key"})
    assert right.status_code == 200


async def test_malformed_json_and_invalid_requests_are_400s_in_openai_shape(vendor: Connect) -> None:
    client = vendor()
    for request in (
        {"content": b'{"model": "sim-cartographer", '},
        {"json": ["not", "an", "object"]},
        {"json": {"model": "sim-cartographer"}},
        {"json": openai_body(messages=[{"role": "robot", "content": "hi"}])},
        {"json": openai_body(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}])},
    ):
        response = await client.post("/v1/chat/completions", headers=OPENAI_HEADERS, **request)
        assert response.status_code == 400, request
        assert response.json()["error"]["type"] == "invalid_request_error"


async def test_models_lists_every_scripted_model(vendor: Connect) -> None:
    response = await vendor().get("/v1/models", headers=OPENAI_HEADERS)
    listing = response.json()
    assert listing["object"] == "list"
    assert {m["id"] for m in listing["data"]} == {"sim-cartographer", "sim-follower", "sim-coords", "sim-grader"}
    assert all(m["object"] == "model" and m["owned_by"] == "collabgap-fake" for m in listing["data"])


async def test_health_needs_no_key(vendor: Connect) -> None:
    response = await vendor().get("/healthz")
    assert response.json() == {"status": "ok", "service": "collabgap-fake-llm"}


async def test_the_cartographer_shares_its_map_first_then_agrees_with_its_partner(vendor: Connect) -> None:
    """Speaking first, a cartographer only shares its map; once the partner proposes a move, it votes for it."""
    client = vendor()
    messages = [{"role": "system", "content": "relay..."}, {"role": "user", "content": f"[user]: {TASK}"}]
    first = await client.post("/v1/chat/completions", headers=OPENAI_HEADERS,
                              json={"model": "sim-cartographer", "messages": messages})
    opening = first.json()["choices"][0]["message"]["content"]
    assert "@?#???" in opening and "??...*" in opening
    assert not re.search(r"^\s*MOVE:", opening, re.MULTILINE)

    messages += [{"role": "assistant", "content": opening}, {"role": "user", "content": PARTNER_REPLY}]
    second = await client.post("/v1/chat/completions", headers=OPENAI_HEADERS,
                               content=json.dumps({"model": "sim-cartographer", "messages": messages}))
    assert "MOVE: down" in second.json()["choices"][0]["message"]["content"]
