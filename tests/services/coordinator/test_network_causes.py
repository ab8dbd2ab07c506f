"""Issue 10: a network failure says what failed, even when the library's own message is empty."""

from __future__ import annotations

import httpx
import pytest
from a2a.client.errors import A2AClientError

from collabgap.services.coordinator import AgentUnreachableError, RefereeClient, RefereeFault
from collabgap.services.coordinator.game._seat_client import seat_boundary
from collabgap.services.coordinator.runs._launch import free_port


def test_a_reset_connection_to_an_agent_names_the_reset() -> None:
    reset = ConnectionResetError(104, "Connection reset by peer")
    with pytest.raises(AgentUnreachableError) as caught, seat_boundary("A", "http://127.0.0.1:1", 5):
        try:  # how the A2A client reports it: an empty httpx error inside "Network communication error: "
            try:
                raise httpx.ReadError("") from reset
            except httpx.ReadError as empty:
                raise A2AClientError(f"Network communication error: {empty}") from empty
        except A2AClientError:
            raise
    assert "ReadError" in str(caught.value) and "Connection reset by peer" in str(caught.value)


async def test_a_referee_that_is_not_there_is_named_with_the_cause() -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    async with RefereeClient.connect(url, "token", timeout=5) as referee:
        with pytest.raises(RefereeFault) as caught:
            await referee.get_game("g-1")
    assert url in str(caught.value) and "ConnectError" in str(caught.value)
