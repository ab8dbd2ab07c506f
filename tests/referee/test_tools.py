"""The referee's MCP tools over HTTP: the public contract of DESIGN §3.1 and issue 2."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import Stack

MAZE_6 = ["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"]
VIEW_6_A = ["@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"]
VIEW_6_B = ["@.?..#", "??##..", "?#?..?", ".?#?..", "????#?", "..???*"]


@contextlib.asynccontextmanager
async def mcp_as(url: str, token: str | None) -> AsyncIterator[Client]:
    """An MCP client presenting `token` as its bearer token (or none)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=10) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="2026-07-28") as client:
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return " ".join(getattr(part, "text", "") for part in result.content)


def as_coordinator(stack: Stack) -> contextlib.AbstractAsyncContextManager[Client]:
    # A context manager, not a fixture: an MCP client must close in the task that opened it.
    return mcp_as(stack.referee_url, stack.token.get_secret_value())


async def new_game(coordinator: Client, **arguments: Any) -> dict[str, Any]:
    return await call(coordinator, "create_game", maze=MAZE_6, views=[VIEW_6_A, VIEW_6_B], **arguments)


async def test_create_game_returns_tokens_and_optimal_length(stack: Stack) -> None:
    """create_game returns game_id, one token per seat, optimal_length (issue 2 item 3)."""
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator)
        assert set(game["seat_tokens"]) == {"A", "B"}
        assert game["optimal_length"] == 10
        solo = await call(coordinator, "create_game", mode="solo", size=6, seed=4)
        assert set(solo["seat_tokens"]) == {"A"}
        assert 8 <= solo["optimal_length"] <= 12  # the bottom-right block, within 7-12 (docs/maze.md)


async def test_generation_arguments_reach_the_maze(stack: Stack) -> None:
    """`goal`, `min_path` and `max_path` shape the generated maze; the record states its wall fraction."""
    async with as_coordinator(stack) as coordinator:
        created = await call(coordinator, "create_game", size=8, seed=3, goal="any", min_path=4, max_path=5)
        assert 4 <= created["optimal_length"] <= 5
        record = await call(coordinator, "get_game", game_id=created["game_id"])
        assert record["maze"][record["position"][0]][record["position"][1]] == "@"
        walls = sum(row.count("#") for row in record["maze"])
        assert record["wall_fraction"] == walls / (8 * 8 - 2)
        cornered = await call(coordinator, "create_game", size=18, seed=3)
        corner = await call(coordinator, "get_game", game_id=cornered["game_id"])
        assert "*" in corner["maze"][16][16:] + corner["maze"][17][16:]
        assert cornered["optimal_length"] >= 32


async def test_seat_sees_only_its_own_view(stack: Stack) -> None:
    """get_view returns this seat's rows only (DESIGN §3.1)."""
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator)
        for seat, view in (("A", VIEW_6_A), ("B", VIEW_6_B)):
            async with mcp_as(stack.referee_url, game["seat_tokens"][seat]) as client:
                assert (await call(client, "get_view"))["rows"] == view


async def test_agreement_executes_and_disagreement_does_not(stack: Stack) -> None:
    """A move executes only when both pending votes name the same direction; a new vote replaces the old."""
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator)
        async with mcp_as(stack.referee_url, game["seat_tokens"]["A"]) as a, \
                mcp_as(stack.referee_url, game["seat_tokens"]["B"]) as b:
            assert (await call(a, "propose_move", direction="down"))["executed"] is False
            assert (await call(b, "game_status"))["partner_has_pending_vote"] is True
            assert (await call(b, "propose_move", direction="right"))["executed"] is False
            record = await call(coordinator, "get_game", game_id=game["game_id"])
            assert record["moves"] == [] and record["conflicts"] == 1
            assert (await call(a, "propose_move", direction="RIGHT"))["executed"] is True
            record = await call(coordinator, "get_game", game_id=game["game_id"])
            assert [m["direction"] for m in record["moves"]] == ["right"]
            assert record["position"] == [0, 1]


async def test_agreed_step_into_wall_fails_with_exact_score(stack: Stack) -> None:
    """A wall ends the game as failed; the weighted score counts from the last valid cell (DESIGN §2)."""
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator)
        async with mcp_as(stack.referee_url, game["seat_tokens"]["A"]) as a, \
                mcp_as(stack.referee_url, game["seat_tokens"]["B"]) as b:
            for direction in ("down", "down", "right"):  # (2, 0) then into the wall at (2, 1)
                await call(a, "propose_move", direction=direction)
                result = await call(b, "propose_move", direction=direction)
            assert result == {"executed": True, "status": "failed", "moves_made": 3, "position": None}
            record = await call(coordinator, "get_game", game_id=game["game_id"])
            assert record["end_reason"] == "wall" and record["success"] is False
            # From (2, 0) the goal is 8 moves away (down the left column, along the bottom); the optimum is 10.
            assert record["weighted_score"] == pytest.approx(1 - 8 / 10)
            message = await refused(a, "propose_move", direction="up")
            assert "over" in message
            assert (await call(coordinator, "get_game", game_id=game["game_id"]))["votes"] == record["votes"]


async def test_unknown_direction_is_refused_and_changes_nothing(stack: Stack) -> None:
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator)
        async with mcp_as(stack.referee_url, game["seat_tokens"]["A"]) as a:
            assert "unknown direction" in await refused(a, "propose_move", direction="diagonally")
            assert (await call(a, "game_status"))["moves_made"] == 0
        record = await call(coordinator, "get_game", game_id=game["game_id"])
        assert record["votes"] == [] and record["status"] == "active"


async def test_solo_votes_execute_at_once_and_feedback_shows_position(stack: Stack) -> None:
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator, mode="solo", feedback="position")
        async with mcp_as(stack.referee_url, game["seat_tokens"]["A"]) as a:
            assert await call(a, "propose_move", direction="d") == {
                "executed": True, "status": "active", "moves_made": 1, "position": [1, 0]}


async def test_end_game_keeps_the_record(stack: Stack) -> None:
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator)
        record = await call(coordinator, "end_game", game_id=game["game_id"], reason="test over")
        assert record["status"] == "ended" and record["weighted_score"] == 0.0
        assert record["maze"] == MAZE_6 and record["views"] == [VIEW_6_A, VIEW_6_B]
        assert record["wall_fraction"] == 10 / 34
        assert "no game" in await refused(coordinator, "get_game", game_id="nope")


async def test_bad_parameters_are_refused_with_the_reason(stack: Stack) -> None:
    async with as_coordinator(stack) as coordinator:
        assert "exactly one" in await refused(coordinator, "create_game", maze=["@..", "...", "..."])
        assert "min_path" in await refused(coordinator, "create_game", size=5, min_path=9, max_path=3)
        assert "bottom-right 2x2 block" in await refused(coordinator, "create_game", min_path=3, max_path=6)
        contradicting = [VIEW_6_A[:5] + ["#????*"], VIEW_6_B]
        assert "view 0" in await refused(coordinator, "create_game", maze=MAZE_6, views=contradicting)


async def test_seat_token_opens_no_coordinator_tool(stack: Stack) -> None:
    """Issue 2: a seat token against every coordinator tool fails."""
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator)
        async with mcp_as(stack.referee_url, game["seat_tokens"]["A"]) as seat:
            for tool, arguments in (("create_game", {}), ("get_game", {"game_id": game["game_id"]}),
                                    ("end_game", {"game_id": game["game_id"], "reason": "x"})):
                assert "coordinator" in await refused(seat, tool, **arguments)
        assert (await call(coordinator, "get_game", game_id=game["game_id"]))["status"] == "active"


async def test_seat_token_reaches_only_its_own_game(stack: Stack) -> None:
    """Issue 2: a seat token acts on its own game only; other games and forged tokens get nothing."""
    async with as_coordinator(stack) as coordinator:
        first, second = await new_game(coordinator), await new_game(coordinator)
        async with mcp_as(stack.referee_url, first["seat_tokens"]["A"]) as seat:
            await call(seat, "propose_move", direction="down")
        assert (await call(coordinator, "get_game", game_id=second["game_id"]))["votes"] == []
        for token in (None, "forged", stack.token.get_secret_value(), second["seat_tokens"]["A"] + "x"):
            async with mcp_as(stack.referee_url, token) as stranger:
                for tool in ("get_view", "game_status"):
                    assert "seat token" in await refused(stranger, tool)
                assert "seat token" in await refused(stranger, "propose_move", direction="down")
        assert (await call(coordinator, "get_game", game_id=second["game_id"]))["votes"] == []
