"""Drive a collabgap referee over MCP: create a game, vote from both seats, read the record back.

Run against a referee you started with `COLLABGAP_REFEREE_TOKEN=secret collabgap referee serve`:

    COLLABGAP_REFEREE_TOKEN=secret python docs/examples/referee_client.py http://127.0.0.1:8760/mcp
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

# The 6x6 reference maze (docs/maze.md) and its two views: seat A gets the first, seat B the second.
MAZE = ["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"]
VIEWS = [
    ["@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"],
    ["@.?..#", "??##..", "?#?..?", ".?#?..", "????#?", "..???*"],
]
ROUTE = ["down"] * 5 + ["right"] * 5  # the optimal route, 10 moves


@contextlib.asynccontextmanager
async def connect(referee_url: str, token: str) -> AsyncIterator[Client]:
    """An MCP client that presents `token` as its bearer token (coordinator token or a seat token)."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        async with Client(streamable_http_client(referee_url, http_client=http), mode="2026-07-28") as client:
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool and return its structured result; a refusal (tool error) raises with the referee's words."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise RuntimeError(" ".join(getattr(part, "text", "") for part in result.content))
    structured: dict[str, Any] | None = result.structured_content
    assert structured is not None
    return structured


async def main(referee_url: str, token: str) -> dict[str, Any]:
    """Play the reference maze to the goal with one disagreement on the way; return the final get_game record."""
    async with connect(referee_url, token) as coordinator:
        game = await call(coordinator, "create_game", maze=MAZE, views=VIEWS, feedback="position")
        tokens = game["seat_tokens"]
        async with connect(referee_url, tokens["A"]) as seat_a, connect(referee_url, tokens["B"]) as seat_b:
            assert len((await call(seat_a, "get_view"))["rows"]) == 6  # only seat A's own view

            # A votes first: nothing moves yet, and B can see that A has a pending vote.
            assert not (await call(seat_a, "propose_move", direction="down"))["executed"]
            assert (await call(seat_b, "game_status"))["partner_has_pending_vote"]
            # B disagrees (recorded as a conflict), then changes its mind: its new vote replaces the old one.
            assert not (await call(seat_b, "propose_move", direction="right"))["executed"]
            result = await call(seat_b, "propose_move", direction="down")
            assert result["executed"] and result["position"] == [1, 0]

            for direction in ROUTE[1:]:
                await call(seat_a, "propose_move", direction=direction)
                result = await call(seat_b, "propose_move", direction=direction)
            assert result["status"] == "solved"
        return await call(coordinator, "get_game", game_id=game["game_id"])


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8760/mcp"
    record = asyncio.run(main(url, os.environ["COLLABGAP_REFEREE_TOKEN"]))
    summary = {key: record[key] for key in ("status", "end_reason", "weighted_score", "success", "conflicts")}
    print(json.dumps({**summary, "moves": len(record["moves"]), "votes": len(record["votes"])}))
