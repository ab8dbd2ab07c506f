"""The documentation's runnable example works against a real referee, and the pages name what the code has."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from collabgap.protocol import MazeParams
from collabgap.referee import GameRegistry, build_referee
from collabgap.services.coordinator import MAX_REPLY_BYTES, MAX_REPLY_CHARS
from tests.conftest import Stack

from ._pages import DOCS as DOCS  # tests/system/test_export.py loads the examples by this path too


def load_example(name: str) -> ModuleType:
    path = DOCS / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"collabgap_docs_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_referee_client_example_solves_the_reference_maze(stack: Stack) -> None:
    """docs/examples/referee_client.py: one conflict, then ten agreed moves to the goal."""
    example = load_example("referee_client")
    record = await example.main(stack.referee_url, stack.token.get_secret_value())
    assert record["status"] == "solved" and record["end_reason"] == "goal"
    assert record["success"] is True and record["weighted_score"] == 1.0
    assert record["maze"] == example.MAZE and record["views"] == example.VIEWS
    assert [move["direction"] for move in record["moves"]] == example.ROUTE
    assert all(move["valid"] for move in record["moves"])
    assert record["position"] == [5, 5] and record["optimal_length"] == 10
    assert record["conflicts"] == 1 and len(record["votes"]) == 21
    assert record["votes"][:3] == [
        {"seat": "A", "direction": "down", "executed": False, "conflict": False},
        {"seat": "B", "direction": "right", "executed": False, "conflict": True},
        {"seat": "B", "direction": "down", "executed": True, "conflict": False},
    ]


async def test_referee_page_lists_every_tool_and_argument() -> None:
    """docs/referee.md names each MCP tool the referee serves, and each of its arguments."""
    page = (DOCS / "referee.md").read_text()
    tools = await build_referee(GameRegistry("unused")).list_tools()
    assert {"create_game", "get_game", "end_game", "get_view", "propose_move", "game_status"} <= {t.name for t in tools}
    for tool in tools:
        assert f"`{tool.name}" in page, tool.name
        for argument in tool.input_schema.get("properties", {}):
            assert f"`{argument}`" in page or f"{argument})" in page or f"({argument}" in page, (tool.name, argument)


def test_pages_state_the_limits_and_defaults_the_code_has() -> None:
    seat_page = (DOCS / "seat-messages.md").read_text()
    assert f"{MAX_REPLY_CHARS:,}" in seat_page and f"{MAX_REPLY_BYTES:,}" in seat_page
    maze_page = (DOCS / "maze.md").read_text()
    defaults = MazeParams()
    for field in ("size", "wall_density", "start", "min_path", "max_path", "seed"):
        assert f"`{field}`" in maze_page, field
    assert f"`{defaults.wall_density:.2f}`" in maze_page and defaults.maze_id in maze_page
