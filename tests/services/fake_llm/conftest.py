"""Fake vendors to talk to: in process over `httpx.ASGITransport`, and one real uvicorn server on loopback."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from services.coordinator import free_port
from services.fake_llm import FakeVendorSettings, create_fake_vendor_app

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
    port = free_port()
    app = create_fake_vendor_app(FakeVendorSettings(hang_limit=30))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):
        if server.started:
            started.set()
            break
        started.wait(0.01)
    assert started.is_set(), "fake vendor did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)
    assert not thread.is_alive(), "fake vendor did not shut down"


@pytest.fixture
def live_vendor(live_server: str) -> Iterator[str]:
    """The live fake vendor with no fault rules, reset again after the test."""
    with httpx.Client(base_url=live_server, timeout=5) as http:
        http.post("/_fake/faults", json={"faults": []}).raise_for_status()
        yield live_server
        http.post("/_fake/faults", json={"faults": []}).raise_for_status()
