"""Over a real uvicorn server on loopback: streaming through httpx's line reader, timeouts and shutdown."""

from __future__ import annotations

import httpx
import pytest

from ._wire import ANTHROPIC_HEADERS, OPENAI_HEADERS, anthropic_body, anthropic_events, openai_body, openai_chunks


async def test_both_apis_answer_over_http(live_vendor: str) -> None:
    async with httpx.AsyncClient(base_url=live_vendor, timeout=5) as http:
        assert (await http.get("/healthz")).json()["status"] == "ok"
        chat = await http.post("/v1/chat/completions", json=openai_body(), headers=OPENAI_HEADERS)
        message = await http.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)
    assert "@?#???" in chat.json()["choices"][0]["message"]["content"]
    assert "@?#???" in message.json()["content"][0]["text"]


async def test_openai_stream_arrives_line_by_line_and_ends_with_done(live_vendor: str) -> None:
    async with httpx.AsyncClient(base_url=live_vendor, timeout=5) as http:
        async with http.stream("POST", "/v1/chat/completions", json=openai_body(stream=True),
                               headers=OPENAI_HEADERS) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = [line async for line in response.aiter_lines()]
    chunks, done = openai_chunks("\n".join(lines))
    assert done and chunks[-1]["usage"]["completion_tokens"] > 0


async def test_anthropic_stream_arrives_line_by_line_and_ends_with_message_stop(live_vendor: str) -> None:
    async with httpx.AsyncClient(base_url=live_vendor, timeout=5) as http:
        async with http.stream("POST", "/v1/messages", json=anthropic_body(stream=True),
                               headers=ANTHROPIC_HEADERS) as response:
            lines = [line async for line in response.aiter_lines()]
    events = anthropic_events("\n".join(lines))
    assert events[-1][0] == "message_stop" and events[-2][1]["usage"]["output_tokens"] > 0


async def test_a_hang_makes_the_clients_own_timeout_fire(live_vendor: str) -> None:
    async with httpx.AsyncClient(base_url=live_vendor, timeout=1.0) as http:
        await http.post("/_fake/faults", json={"faults": [{"kind": "hang", "first": 1}]})
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)
        after = await http.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)
        assert after.status_code == 200
        assert (await http.get("/_fake/stats")).json()["faults"]["hang"] >= 1


async def test_a_429_storm_reaches_a_real_client_with_retry_after(live_vendor: str) -> None:
    async with httpx.AsyncClient(base_url=live_vendor, timeout=5) as http:
        before = (await http.get("/_fake/stats")).json()["faults"]["rate_limit"]
        await http.post("/_fake/faults", json={"faults": [{"kind": "rate_limit", "retry_after": 0.25}]})
        responses = [await http.post("/v1/chat/completions", json=openai_body(), headers=OPENAI_HEADERS)
                     for _ in range(3)]
        after = (await http.get("/_fake/stats")).json()["faults"]["rate_limit"]
    assert [r.status_code for r in responses] == [429] * 3
    assert {r.headers["retry-after"] for r in responses} == {"0.25"} and after - before == 3
