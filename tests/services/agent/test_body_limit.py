"""Issue 11: every request body to an agent service is capped (1 MiB by default, `--max-body`) and refused with 413
before it is read whole, so no client can grow the service's memory with what it sends."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from collabgap.services.agent import AgentSettings
from collabgap.services.coordinator import ServiceGroup

MiB = 1 << 20
JSONRPC = "/a2a/jsonrpc/"


def peak_rss_mib(pid: int) -> float:
    """The most resident memory the process has ever held (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def hundred_mib() -> Iterator[bytes]:
    """A 100 MiB body sent as it is made, without a Content-Length, as a client streaming it would."""
    chunk = b"x" * MiB
    for _ in range(100):
        yield chunk


@pytest.mark.parametrize("token", [None, "agent-secret"])
def test_a_streamed_100_mib_body_gets_413_and_leaves_memory_as_it_was(tmp_path: Path, token: str | None) -> None:
    with ServiceGroup(log_dir=tmp_path) as services:
        url = services.start_agent("scripted:cartographer", env={"COLLABGAP_AGENT_TOKEN": token} if token else {})
        pid = services.services[-1].process.pid
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        small = httpx.post(f"{url}{JSONRPC}", content=b"{}", headers=headers, timeout=30)  # warm: first-call imports
        assert small.status_code < 500
        peak_before = peak_rss_mib(pid)
        response = httpx.post(f"{url}{JSONRPC}", content=hundred_mib(), headers=headers, timeout=60)
        assert response.status_code == 413
        assert peak_rss_mib(pid) - peak_before < 32  # the body was counted as it came, never held (100 MiB)
        card = httpx.get(f"{url}/.well-known/agent-card.json", timeout=10)
        assert card.status_code == 200  # the service goes on


def test_a_declared_100_mib_body_is_refused_from_its_headers(tmp_path: Path) -> None:
    with ServiceGroup(log_dir=tmp_path) as services:
        parts = urlsplit(services.start_agent("scripted:cartographer"))
        assert parts.hostname is not None and parts.port is not None
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(f"POST {JSONRPC} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {100 * MiB}\r\n\r\n".encode())
            status_line = sock.recv(4096).split(b"\r\n", 1)[0]  # not one byte of the body was sent
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"


def test_max_body_sets_the_cap(tmp_path: Path) -> None:
    seat_sized = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x" * 3000}}
    with ServiceGroup(log_dir=tmp_path) as services:
        roomy = services.start_agent("scripted:cartographer")
        tight = services.start_agent(AgentSettings(player="scripted:cartographer", max_body=2048))
        assert httpx.post(f"{roomy}{JSONRPC}", json=seat_sized, timeout=10).status_code == 200
        assert httpx.post(f"{tight}{JSONRPC}", json=seat_sized, timeout=10).status_code == 413
        small = {**seat_sized, "params": {"id": "x"}}
        assert httpx.post(f"{tight}{JSONRPC}", json=small, timeout=10).status_code == 200
