"""Serve an ASGI app with uvicorn in a thread on a loopback port, for tests (httpx's `serve_in_thread`)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from collabgap.services.coordinator import free_port

START_TIMEOUT_S = 10.0


@contextlib.contextmanager
def serving(app: Any = None, *, build: Callable[[str], Any] | None = None) -> Iterator[str]:
    """Yield the base URL of `app` served on 127.0.0.1 (or of `build(url)`, for apps that must know it)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    asgi = build(url) if build is not None else app
    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(int(START_TIMEOUT_S / 0.01)):
        if server.started:
            started.set()
            break
        started.wait(0.01)
    assert started.is_set(), f"{url} did not start"
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
