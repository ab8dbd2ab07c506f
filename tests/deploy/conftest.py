"""Fixtures of the deployment tests: the validators, and a local HTTP server answering 200."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from ._files import _Ok
from ._validators import (
    Validators,
    validators,
)


@pytest.fixture(scope="session")
def tools(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Validators:
    cache = request.config.cache
    folder = cache.mkdir("deploy-validators") if cache is not None else tmp_path_factory.mktemp("validators")
    return validators(Path(folder))




@pytest.fixture
def http_ok() -> Iterator[int]:
    """A loopback HTTP server answering 200 to every GET; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
