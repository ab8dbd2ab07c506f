"""A vendor client rides out 429s and 5xx as its retry policy says, counts every call, and names how often it
tried when it gives up. Against the fake vendor in process, with its injected faults."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from collabgap.services.agent import RetryPolicy, VendorError, VendorSpec
from collabgap.services.agent._vendors import AnthropicMessages, ChatMessage, EndpointClient, OpenAIChat, Vendor
from collabgap.services.fake_llm import FakeVendorSettings, create_fake_vendor_app
from tests.services.fake_llm._wire import TASK

KINDS = pytest.mark.parametrize("kind", ["openai", "anthropic"])
FAST = {"max_retries": 3, "backoff_s": 0.001}


async def complete(kind: str, faults: list[dict[str, Any]], retry: dict[str, Any],
                   monkeypatch: pytest.MonkeyPatch) -> int:
    """The calls one completion took from a fake vendor with `faults`, under the retry policy `retry`."""
    monkeypatch.setenv("COLLABGAP_UNIT_RETRY_KEY", "sk-unit")
    app = create_fake_vendor_app(FakeVendorSettings.model_validate({"faults": faults}))
    spec = VendorSpec(kind=kind, model="sim-cartographer", api_key_env="COLLABGAP_UNIT_RETRY_KEY",
                      base_url="http://fake/v1" if kind == "openai" else "http://fake", retry=RetryPolicy(**retry))
    endpoint = EndpointClient(spec, transport=httpx.ASGITransport(app=app))
    vendor: Vendor = OpenAIChat(spec, endpoint) if kind == "openai" else AnthropicMessages(spec, endpoint)
    try:
        done = await vendor.complete([ChatMessage("system", "relay..."), ChatMessage("user", f"[user]: {TASK}")])
    finally:
        await endpoint.aclose()
    return done.usage.calls


@KINDS
async def test_rate_limits_and_server_errors_are_ridden_out_and_every_call_counted(
        kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    faults = [{"kind": "server_error", "first": 1}, {"kind": "rate_limit", "first": 3, "retry_after": 0.01}]
    assert await complete(kind, faults, FAST, monkeypatch) == 4


@KINDS
async def test_a_vendor_that_keeps_failing_is_given_up_on_after_the_last_retry(
        kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(VendorError, match=r"HTTP 500: .* \(gave up after 4 attempts\)"):
        await complete(kind, [{"kind": "server_error"}], FAST, monkeypatch)


async def test_a_refusal_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(VendorError, match="^HTTP 401: ") as raised:
        await complete("openai", [{"kind": "echo_key", "first": 1}], FAST, monkeypatch)
    assert "gave up" not in str(raised.value)
