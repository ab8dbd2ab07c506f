"""Issue 6, bad input: a service that cannot work as configured says so and exits non-zero."""

from __future__ import annotations

import os
import socket
import subprocess

from collabgap.services.coordinator import free_port
from tests._command import COLLABGAP


def serve(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "COLLABGAP_REFEREE_TOKEN"} | (env or {})
    return subprocess.run([*COLLABGAP, *arguments], capture_output=True, text=True, timeout=120, env=environment)


def test_a_public_referee_without_a_token_refuses_to_start() -> None:
    done = serve("referee", "serve", "--port", str(free_port()), "--public-url", "http://referee:8760")
    assert done.returncode != 0 and "set COLLABGAP_REFEREE_TOKEN" in done.stderr


def test_an_unreachable_public_url_stops_the_service() -> None:
    port = free_port()
    done = serve("agent", "serve", "--player", "scripted:follower", "--port", str(port),
                 "--public-url", f"http://127.0.0.1:{free_port()}")
    assert done.returncode != 0 and "does not reach this service" in done.stderr


def test_a_taken_port_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve("agent", "serve", "--player", "scripted:follower", "--port", str(port))
    assert done.returncode != 0 and "address already in use" in done.stderr
