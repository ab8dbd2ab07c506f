"""Team games at the referee over HTTP: N seats, a k-way split, one token per seat, and the two-seat game's
authorization rules for every seat of a four-seat game (issue 14, part 1)."""

from __future__ import annotations

from typing import Any

from mcp import Client

from tests.conftest import Stack

from .test_tools import MAZE_6, VIEW_6_A, VIEW_6_B, as_coordinator, call, mcp_as, new_game, refused

TEAM = ("A", "B", "C", "D")


async def new_team(coordinator: Client, seats: int = 4, **arguments: Any) -> dict[str, Any]:
    return await call(coordinator, "create_game", maze=MAZE_6, seats=seats, seed=11, **arguments)


def shown(views: list[list[str]], r: int, c: int) -> int:
    return sum(view[r][c] != "?" for view in views)


async def test_a_four_seat_game_mints_a_token_per_seat_and_shows_each_cell_to_one_seat(stack: Stack) -> None:
    """`seats = 4`: tokens A to D; every cell other than start and goal is in exactly one seat's view."""
    async with as_coordinator(stack) as coordinator:
        game = await new_team(coordinator)
        assert set(game["seat_tokens"]) == set(TEAM) and len(set(game["seat_tokens"].values())) == 4
        record = await call(coordinator, "get_game", game_id=game["game_id"])
        views = record["views"]
        assert len(views) == 4
        for r, row in enumerate(MAZE_6):
            for c, symbol in enumerate(row):
                assert shown(views, r, c) == (4 if symbol in "@*" else 1), (r, c)
        for seat, view in zip(TEAM, views, strict=True):
            async with mcp_as(stack.referee_url, game["seat_tokens"][seat]) as client:
                assert (await call(client, "get_view"))["rows"] == view


async def test_overlap_shows_some_cells_to_every_seat(stack: Stack) -> None:
    async with as_coordinator(stack) as coordinator:
        game = await new_team(coordinator, seats=3, overlap=0.5)
        views = (await call(coordinator, "get_game", game_id=game["game_id"]))["views"]
        counts = [shown(views, r, c) for r in range(6) for c in range(6) if MAZE_6[r][c] not in "@*"]
        assert set(counts) == {1, 3}


async def test_a_team_move_executes_only_when_every_seat_votes_for_it(stack: Stack) -> None:
    """Every seat's latest vote must name the move; a seat's new vote replaces its old one (issue 14)."""
    async with as_coordinator(stack) as coordinator:
        game = await new_team(coordinator)
        tokens = game["seat_tokens"]
        async with mcp_as(stack.referee_url, tokens["A"]) as a, mcp_as(stack.referee_url, tokens["B"]) as b, \
                mcp_as(stack.referee_url, tokens["C"]) as c, mcp_as(stack.referee_url, tokens["D"]) as d:
            assert (await call(a, "propose_move", direction="down"))["executed"] is False
            assert (await call(b, "propose_move", direction="down"))["executed"] is False
            assert (await call(c, "propose_move", direction="right"))["executed"] is False
            status = await call(d, "game_status")
            assert status["partner_has_pending_vote"] is True and status["pending_seats"] == ["A", "B", "C"]
            assert (await call(d, "propose_move", direction="down"))["executed"] is False
            assert (await call(c, "propose_move", direction="down"))["executed"] is True
            assert (await call(a, "game_status"))["pending_seats"] == []
        record = await call(coordinator, "get_game", game_id=game["game_id"])
        assert [m["direction"] for m in record["moves"]] == ["down"] and record["position"] == [1, 0]
        assert [(v["seat"], v["executed"], v["conflict"]) for v in record["votes"]] == [
            ("A", False, False), ("B", False, False), ("C", False, True), ("D", False, True), ("C", True, False)]
        assert record["conflicts"] == 2


async def test_every_seat_of_a_four_seat_game_is_held_to_the_seat_rules(stack: Stack) -> None:
    """Issue 2's rules, for each of A to D: its own view only, votes only as itself, no coordinator tool, its
    own game only."""
    async with as_coordinator(stack) as coordinator:
        game, other = await new_team(coordinator), await new_team(coordinator)
        views = (await call(coordinator, "get_game", game_id=game["game_id"]))["views"]
        for index, seat in enumerate(TEAM):
            async with mcp_as(stack.referee_url, game["seat_tokens"][seat]) as client:
                rows = (await call(client, "get_view"))["rows"]
                assert rows == views[index] and rows not in views[:index] + views[index + 1:]
                for tool, arguments in (("create_game", {}), ("get_game", {"game_id": game["game_id"]}),
                                        ("end_game", {"game_id": game["game_id"], "reason": "x"}),
                                        ("grade_route", {"game_id": game["game_id"], "route": ["down"]}),
                                        ("get_game", {"game_id": other["game_id"]})):
                    assert "coordinator" in await refused(client, tool, **arguments)
                await call(client, "propose_move", direction="up" if seat == "D" else "down")
        record = await call(coordinator, "get_game", game_id=game["game_id"])
        assert [vote["seat"] for vote in record["votes"]] == list(TEAM) and record["moves"] == []
        assert record["status"] == "active"
        assert (await call(coordinator, "get_game", game_id=other["game_id"]))["votes"] == []
        for token in (None, "forged", stack.token.get_secret_value(), game["seat_tokens"]["D"] + "x"):
            async with mcp_as(stack.referee_url, token) as stranger:
                for tool in ("get_view", "game_status"):
                    assert "seat token" in await refused(stranger, tool)
                assert "seat token" in await refused(stranger, "propose_move", direction="down")
        async with mcp_as(stack.referee_url, game["seat_tokens"]["D"]) as d:
            await call(coordinator, "end_game", game_id=game["game_id"], reason="over")
            assert "over" in await refused(d, "propose_move", direction="down")


async def test_a_pair_answers_with_the_fields_it_always_had(stack: Stack) -> None:
    """Two seats are the default, and a pair's results carry no team field (issue 14: 2-seat results unchanged)."""
    async with as_coordinator(stack) as coordinator:
        game = await new_game(coordinator)
        assert set(game) == {"game_id", "seat_tokens", "optimal_length", "size"}
        assert set(game["seat_tokens"]) == {"A", "B"}
        async with mcp_as(stack.referee_url, game["seat_tokens"]["B"]) as b:
            assert set(await call(b, "game_status")) == {"status", "moves_made", "partner_has_pending_vote",
                                                          "position"}
        same = await call(coordinator, "create_game", maze=MAZE_6, views=[VIEW_6_A, VIEW_6_B], seats=2)
        assert (await call(coordinator, "get_game", game_id=same["game_id"]))["views"] == [VIEW_6_A, VIEW_6_B]


async def test_team_parameters_are_refused_with_the_reason(stack: Stack) -> None:
    async with as_coordinator(stack) as coordinator:
        assert "seats" in await refused(coordinator, "create_game", seats=7)
        assert "seats" in await refused(coordinator, "create_game", seats=1)
        assert "one seat" in await refused(coordinator, "create_game", mode="solo", seats=3)
        assert "3 views" in await refused(coordinator, "create_game", maze=MAZE_6, views=[VIEW_6_A, VIEW_6_B],
                                          seats=3)
        assert "overlap" in await refused(coordinator, "create_game", maze=MAZE_6, views=[VIEW_6_A, VIEW_6_B],
                                          overlap=0.2)
