"""The demo retries platform errors through the run engine, and says why each attempt failed (issue 12 part 5)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from collabgap.services.coordinator import ServiceGroup, load_records
from tests._command import COLLABGAP


@contextlib.contextmanager
def dropping_proxy(target: str, drops: int) -> Iterator[str]:
    """A real TCP proxy in front of `target` that closes the first `drops` connections whose first request is a
    `POST /mcp`, before any answer: the referee's MCP endpoint vanishing mid-call, as on an overloaded host."""
    upstream = urlsplit(target)
    left = [drops]
    ready: list[str] = []
    started = threading.Event()
    loop = asyncio.new_event_loop()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(ConnectionError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
        finally:  # also when the proxy stops under a kept-alive connection: no socket outlives its loop
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.read(65536)
        if first.startswith(b"POST /mcp") and left[0] > 0:
            left[0] -= 1
            writer.transport.abort()
            return
        to_reader, to_writer = await asyncio.open_connection(upstream.hostname, upstream.port)
        to_writer.write(first)
        await asyncio.gather(pipe(reader, to_writer), pipe(to_reader, writer))

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.append(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        started.set()
        async with server:
            await server.serve_forever()

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(serve())
        if pending := asyncio.all_tasks(loop):  # the connections still open, cancelled with the server
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield ready[0]
    finally:
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        thread.join(timeout=10)


def test_the_demo_retries_a_referee_that_drops_a_connection_and_prints_why(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(16)
    with ServiceGroup(log_dir=tmp_path / "logs") as services:
        referee = services.start_referee(token)
        with dropping_proxy(referee.removesuffix("/mcp"), drops=1) as proxy:
            done = subprocess.run([*COLLABGAP, "demo", "--mazes", "1", "--runs-dir", str(tmp_path / "runs"),
                                   "--referee", f"{proxy}/mcp"], capture_output=True, text=True, timeout=300,
                                  env={**os.environ, "COLLABGAP_REFEREE_TOKEN": token})
    assert done.returncode == 0, done.stdout + done.stderr
    [run_dir] = (tmp_path / "runs").glob("demo-*")
    records = load_records(run_dir)
    assert len(records) == 8 and all(record.status != "error" for record in records)
    failed = [attempt.error for record in records for attempt in record.attempts]
    assert failed and all(error.kind == "referee_error" for error in failed)
    assert all(f"cannot reach the referee at {proxy}/mcp: " in error.message for error in failed)
    assert all(not error.message.rstrip().endswith(":") for error in failed)  # the reason is never empty
    assert f"Retried after a platform error: {records[0].spec.episode_id}: referee_error: " in done.stdout
