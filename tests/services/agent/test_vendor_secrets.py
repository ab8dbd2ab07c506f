"""A vendor whose error repeats our key (issue 11): the vendor client's error and log never hold it; header
values may come from the environment. Against the fake vendor, served over HTTP on loopback."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import httpx
import pytest

from collabgap.services.agent import VendorError, VendorSpec
from collabgap.services.agent._vendors import ChatMessage, open_vendor
from collabgap.services.agent._vendors._scrub import scrub
from collabgap.services.fake_llm import FakeVendorSettings, create_fake_vendor_app
from tests._serving import serving
from tests.services.fake_llm._wire import TASK, openai_body

KEY_VARIABLE = "COLLABGAP_UNIT_ECHOED_KEY"
KEY = f"planted.{secrets.token_hex(4)}"
"""Looks like no known kind of key, so only knowing it can scrub it."""


@pytest.fixture(scope="module")
def echoing_vendor() -> Iterator[str]:
    """The fake vendor, answering every chat request with a 401 that repeats the key it was sent."""
    settings = FakeVendorSettings.model_validate({"faults": [{"kind": "echo_key"}]})
    with serving(create_fake_vendor_app(settings)) as url:
        yield url


def spec(kind: str, vendor_url: str, **fields: object) -> VendorSpec:
    base = f"{vendor_url}/v1" if kind == "openai" else vendor_url
    return VendorSpec.model_validate({"kind": kind, "model": "sim-cartographer", "base_url": base,
                                      "api_key_env": KEY_VARIABLE, **fields})


async def test_the_echo_key_fault_repeats_the_key_it_was_sent(echoing_vendor: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{echoing_vendor}/v1/chat/completions", json=openai_body(),
                                   headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 401 and KEY in response.json()["error"]["message"]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_key_the_vendor_echoes_is_scrubbed_from_the_error_and_its_chain(
        echoing_vendor: str, kind: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    caplog.set_level(logging.DEBUG)
    vendor, endpoint = open_vendor(spec(kind, echoing_vendor))
    try:
        with pytest.raises(VendorError) as raised:
            await vendor.complete([ChatMessage("system", "relay..."), ChatMessage("user", f"[user]: {TASK}")])
    finally:
        await endpoint.aclose()
    assert str(raised.value) == "HTTP 401: Incorrect API key provided: [redacted]."
    chain = [raised.value, raised.value.__cause__, raised.value.__context__]
    assert all(KEY not in str(error) for error in chain) and KEY not in caplog.text


async def test_a_header_may_name_the_variable_holding_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABGAP_UNIT_GATEWAY_TOKEN", "gateway-secret")
    vendor = spec("openai", "http://127.0.0.1:9", extra_headers={"X-Gateway": "env:COLLABGAP_UNIT_GATEWAY_TOKEN",
                                                                  "X-Team": "maze"})
    assert vendor.headers() == {"X-Gateway": "gateway-secret", "X-Team": "maze"}
    assert "gateway-secret" not in vendor.model_dump_json()  # the spec names the variable, never the value
    assert "gateway-secret" in vendor.secrets()


def test_a_header_whose_variable_is_unset_fails_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLLABGAP_UNIT_UNSET", raising=False)
    with pytest.raises(VendorError, match="set COLLABGAP_UNIT_UNSET to send the X-Gateway header"):
        spec("openai", "http://127.0.0.1:9", extra_headers={"X-Gateway": "env:COLLABGAP_UNIT_UNSET"}).headers()


def test_a_header_naming_no_variable_is_refused() -> None:
    with pytest.raises(ValueError, match="must name a variable"):
        spec("openai", "http://127.0.0.1:9", extra_headers={"X-Gateway": "env:not a name"})


@pytest.mark.parametrize("text", [
    "Incorrect API key provided: sk-proj-Ab12Cd34Ef56Gh78.",
    "invalid x-api-key sk-ant-api03-Zx9_Yw8-Vu7",
    "Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9",
    "the gateway refused token 0f3a9c2e7b1d",
    "key=AKIAIOSFODNN7EXAMPLE rejected",
    "session 7c2f1e9a8b3d4c5e6f7a8b9c0d1e2f3a4b is not yours",
])
def test_anything_that_looks_like_a_key_is_scrubbed_even_when_unknown(text: str) -> None:
    scrubbed = scrub(text)
    assert "[redacted]" in scrubbed
    secret_parts = ("Ab12Cd34", "Zx9_Yw8", "JIUzI1NiJ9", "0f3a9c2e", "AKIAIOSF", "7c2f1e9a")
    assert not any(part in scrubbed for part in secret_parts)


def test_ordinary_vendor_messages_are_left_as_they_are() -> None:
    for text in ("rate limit reached; retry after 2 s", "model 'gpt-4o-mini' not found",
                 "HTTP 529: Overloaded", "the API key is not valid"):
        assert scrub(text) == text
