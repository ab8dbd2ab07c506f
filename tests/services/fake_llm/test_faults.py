"""Latency and injected faults: each fault kind looks, on the wire, like the vendor failure it stands for."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pydantic
import pytest

from collabgap.services.fake_llm import FakeVendorSettings

from ._wire import (
    ANTHROPIC_HEADERS,
    OPENAI_HEADERS,
    anthropic_body,
    anthropic_events,
    anthropic_stream_text,
    openai_body,
    openai_chunks,
    openai_stream_text,
)
from .conftest import Connect

OPENAI = ("/v1/chat/completions", openai_body, OPENAI_HEADERS)
ANTHROPIC = ("/v1/messages", anthropic_body, ANTHROPIC_HEADERS)
BOTH = pytest.mark.parametrize("api", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
Api = tuple[str, Any, dict[str, str]]


async def ask(client: httpx.AsyncClient, api: Api, *, stream: bool = False, model: str = "sim-cartographer"
              ) -> httpx.Response:
    path, body, headers = api
    return await client.post(path, json=body(model, stream=stream), headers=headers)


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/_fake/stats")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


@BOTH
async def test_rate_limit_is_a_429_with_retry_after_in_vendor_shape(vendor: Connect, api: Api) -> None:
    client = vendor(faults=[{"kind": "rate_limit", "retry_after": 2}])
    response = await ask(client, api)
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    body = response.json()
    if api is OPENAI:
        assert body["error"]["type"] == "rate_limit_error" and body["error"]["code"] == "rate_limit_exceeded"
    else:
        assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"


async def test_retry_after_may_be_a_decimal_number_of_seconds(vendor: Connect) -> None:
    response = await ask(vendor(faults=[{"kind": "rate_limit", "retry_after": 0.5}]), OPENAI)
    assert response.status_code == 429 and float(response.headers["Retry-After"]) == 0.5


@BOTH
async def test_server_error_is_a_500_in_vendor_shape(vendor: Connect, api: Api) -> None:
    response = await ask(vendor(faults=[{"kind": "server_error"}]), api)
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["type"] == ("server_error" if api is OPENAI else "api_error")


@BOTH
@pytest.mark.parametrize("kind", ["malformed", "cut_stream"])
async def test_a_malformed_answer_is_200_json_that_does_not_parse(vendor: Connect, api: Api, kind: str) -> None:
    """`cut_stream` on a request that did not ask to stream garbles the body the same way."""
    response = await ask(vendor(faults=[{"kind": kind}]), api)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


async def test_a_cut_openai_stream_stops_after_a_few_chunks_without_done(vendor: Connect) -> None:
    client = vendor(faults=[{"kind": "cut_stream", "first": 1}])
    cut = await ask(client, OPENAI, stream=True)
    whole = await ask(client, OPENAI, stream=True)
    assert cut.status_code == 200
    chunks, done = openai_chunks(cut.text)
    assert not done and openai_stream_text(chunks)
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)
    assert openai_stream_text(openai_chunks(whole.text)[0]).startswith(openai_stream_text(chunks))


async def test_a_cut_anthropic_stream_stops_without_message_stop(vendor: Connect) -> None:
    response = await ask(vendor(faults=[{"kind": "cut_stream"}]), ANTHROPIC, stream=True)
    events = anthropic_events(response.text)
    names = {name for name, _ in events}
    assert "message_start" in names and anthropic_stream_text(events)
    assert not names & {"content_block_stop", "message_delta", "message_stop"}


async def test_hang_is_bounded_by_the_hang_limit(vendor: Connect) -> None:
    """A client that waits forever still gets an answer once `hang_limit` passes, so shutdown can finish."""
    response = await ask(vendor(faults=[{"kind": "hang"}], hang_limit=0.05), ANTHROPIC)
    assert response.status_code == 500 and response.json()["error"]["type"] == "api_error"


async def test_first_two_fires_exactly_twice(vendor: Connect) -> None:
    client = vendor(faults=[{"kind": "rate_limit", "first": 2}])
    statuses = [(await ask(client, OPENAI)).status_code for _ in range(4)]
    assert statuses == [429, 429, 200, 200]
    counts = await stats(client)
    assert counts["faults"]["rate_limit"] == 2 and counts["requests"]["/v1/chat/completions"] == 4


async def test_rules_are_checked_in_order_and_the_first_that_fires_wins(vendor: Connect) -> None:
    client = vendor(faults=[{"kind": "server_error", "first": 1}, {"kind": "rate_limit", "first": 2}])
    assert [(await ask(client, ANTHROPIC)).status_code for _ in range(3)] == [500, 429, 200]


async def test_a_model_filter_spares_other_models(vendor: Connect) -> None:
    client = vendor(faults=[{"kind": "server_error", "models": ["sim-follower"]}])
    assert (await ask(client, OPENAI, model="sim-cartographer")).status_code == 200
    assert (await ask(client, OPENAI, model="sim-follower")).status_code == 500


async def test_fault_rates_are_seeded(vendor: Connect) -> None:
    def pattern_client() -> httpx.AsyncClient:
        return vendor(seed=7, faults=[{"kind": "server_error", "rate": 0.5}])

    patterns = []
    for client in (pattern_client(), pattern_client()):
        patterns.append([(await ask(client, OPENAI)).status_code for _ in range(12)])
    assert patterns[0] == patterns[1] and {200, 500} == set(patterns[0])
    never = vendor(faults=[{"kind": "server_error", "rate": 0}])
    assert {(await ask(never, OPENAI)).status_code for _ in range(5)} == {200}


async def test_a_429_storm_can_be_started_and_stopped_at_run_time(vendor: Connect) -> None:
    client = vendor()
    assert (await ask(client, ANTHROPIC)).status_code == 200
    installed = await client.post("/_fake/faults", json={"faults": [{"kind": "rate_limit"}]})
    assert installed.status_code == 200 and installed.json()["faults"][0]["kind"] == "rate_limit"
    assert {(await ask(client, ANTHROPIC)).status_code for _ in range(5)} == {429}
    await client.post("/_fake/faults", json={"faults": []})
    assert (await ask(client, ANTHROPIC)).status_code == 200
    counts = await stats(client)
    assert counts["faults"]["rate_limit"] == 5 and counts["requests"]["/v1/messages"] == 7


async def test_the_control_endpoints_refuse_bad_rules_and_take_the_configured_key(vendor: Connect) -> None:
    client = vendor(api_key="s3cret-key")
    assert (await client.get("/_fake/stats")).status_code == 401
    headers = {"x-api-key": "s3cret-key"}
    assert (await client.get("/_fake/stats", headers=headers)).status_code == 200
    bad = await client.post("/_fake/faults", json={"faults": [{"kind": "explode"}]}, headers=headers)
    assert bad.status_code == 400


@pytest.mark.parametrize("latency", [0.05, {"kind": "uniform", "low": 0.0, "high": 0.01},
                                     {"kind": "lognormal", "median": 0.001, "sigma": 0.5}])
async def test_latency_delays_but_does_not_break_answers(vendor: Connect, latency: object) -> None:
    client = vendor(latency=latency)
    assert (await ask(client, OPENAI)).status_code == 200
    assert (await ask(client, ANTHROPIC, stream=True)).status_code == 200


def test_settings_load_from_json_and_keep_the_key_out_of_their_repr() -> None:
    settings = FakeVendorSettings.model_validate_json(json.dumps({
        "api_key": "s3cret-key", "seed": 3, "latency": {"kind": "lognormal", "median": 0.2, "sigma": 0.4},
        "faults": [{"kind": "rate_limit", "rate": 0.1, "retry_after": 3}, {"kind": "hang", "first": 1}],
    }))
    assert settings.faults[1].first == 1 and settings.api_key is not None
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.model_dump_json()


@pytest.mark.parametrize("settings", [
    {"latencey": 1},
    {"latency": -1},
    {"latency": {"kind": "uniform", "low": 2, "high": 1}},
    {"latency": {"kind": "gamma", "shape": 2}},
    {"faults": [{"kind": "rate_limit", "rate": 1.5}]},
    {"faults": [{"kind": "server_error", "retry_after": 2}]},
    {"faults": [{"kind": "hang", "model": ["sim-follower"]}]},
])
def test_settings_refuse_typos_and_impossible_values(settings: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        FakeVendorSettings.model_validate(settings)
