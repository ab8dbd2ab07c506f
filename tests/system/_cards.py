"""The plain A2A 1.0 card that the test's misbehaving agents start from, one JSON-RPC interface at `base/rpc/`."""

from __future__ import annotations

from typing import Any


def plain_card(base: str, name: str, description: str) -> dict[str, Any]:
    """A card a strict 1.0 parser accepts, with the `collabgap.maze-seat` skill; a test then spoils it."""
    return {
        "name": name, "description": description, "version": "1",
        "supportedInterfaces": [{"url": f"{base}/rpc/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
        "capabilities": {"streaming": False}, "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "collabgap.maze-seat", "name": "Maze seat", "description": description, "tags": ["maze"]}],
    }
