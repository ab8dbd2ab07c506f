"""Fake vendors to talk to: in process over `httpx.ASGITransport`, and one real uvicorn server on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from collabgap.services.fake_llm import FakeVendorSettings, create_fake_vendor_app
from tests._serving import serving

Connect = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def vendor() -> AsyncIterator[Connect]:
    """Open a client on a fresh in-process fake vendor built from settings keywords, e.g. `vendor(latency=0.05)`."""
    async with contextlib.AsyncExitStack() as stack:

        def connect(**settings: Any) -> httpx.AsyncClient:
            app = create_fake_vendor_app(FakeVendorSettings.model_validate(settings))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake-llm")
            stack.push_async_callback(client.aclose)
            return client

        yield connect


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """Base URL of one fake vendor served by uvicorn in a thread on a loopback port."""
    with serving(create_fake_vendor_app(FakeVendorSettings(hang_limit=30))) as url:
        yield url


@pytest.fixture
def live_vendor(live_server: str) -> Iterator[str]:
    """The live fake vendor with no fault rules, reset again after the test."""
    with httpx.Client(base_url=live_server, timeout=5) as http:
        http.post("/_fake/faults", json={"faults": []}).raise_for_status()
        yield live_server
        http.post("/_fake/faults", json={"faults": []}).raise_for_status()
