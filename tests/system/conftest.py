from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn

from services.coordinator import free_port

from ._rude_agent import app


@pytest.fixture(scope="session")
def rude_agent() -> Iterator[str]:
    """Base URL of the misbehaving agent server, served by uvicorn in a thread on a loopback port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):
        if server.started:
            started.set()
            break
        started.wait(0.01)
    assert started.is_set(), "rude agent did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)
