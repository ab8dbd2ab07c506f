"""Requests and stream readers written against the vendors' public API docs, as a client library would be."""

from __future__ import annotations

import json
from typing import Any

ANTHROPIC_VERSION = "2023-06-01"
OPENAI_HEADERS = {"Authorization": "Bearer test-key"}
ANTHROPIC_HEADERS = {"x-api-key": "test-key", "anthropic-version": ANTHROPIC_VERSION}

TASK = (
    "You are solving a 6x6 maze together with a partner agent.\n\n"
    "Your map (rows top to bottom):\n@?#???\n..????\n.?.??#\n?#?.??\n.#..?.\n??...*\n\n"
    "Legend: ...\n\n"
    "Rules:\n- To vote for a move, write it on its own line as `MOVE: <direction>`\n\n"
    "You speak first."
)
PARTNER_REPLY = (
    "[other agent]: Hello! Here is my whole map (rows top to bottom, ? = hidden from me):\n"
    "@.?..#\n??##..\n?#?..?\n.?#?..\n????#?\n..???*\n"
    "Next I propose down (10 moves to the goal). Do you agree?\nMOVE: down"
)

OPENING = ("Hello! Here is my whole map (rows top to bottom, ? = hidden from me):\n"
           "@?#???\n..????\n.?.??#\n?#?.??\n.#..?.\n??...*")
"""The cartographer's opening, as a seat that votes at the referee says it."""
PARTNER_VOTED = (
    "[other agent]: Hello! Here is my whole map (rows top to bottom, ? = hidden from me):\n"
    "@.?..#\n??##..\n?#?..?\n.?#?..\n????#?\n..???*\n"
    "Next I propose down (10 moves to the goal). Do you agree?\nI have voted down at the referee."
)
"""The partner's reply when it votes at the referee rather than in its message."""


def openai_body(model: str = "sim-cartographer", *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    """A chat completion request for the cartographer's opening turn."""
    streaming = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
    return {
        "model": model,
        "messages": [{"role": "system", "content": "relay..."}, {"role": "user", "content": f"[user]: {TASK}"}],
        "temperature": 0.2,
        **streaming,
        **extra,
    }


def anthropic_body(model: str = "sim-cartographer", *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    """A Messages request for the cartographer's opening turn."""
    return {
        "model": model,
        "system": "relay...",
        "messages": [{"role": "user", "content": f"[user]: {TASK}"}],
        "max_tokens": 1024,
        "stream": stream,
        **extra,
    }


def openai_chunks(text: str) -> tuple[list[dict[str, Any]], bool]:
    """The JSON chunks of a Chat Completions stream, and whether it ended with `data: [DONE]`."""
    chunks, done = [], False
    for line in text.splitlines():
        if line == "data: [DONE]":
            done = True
        elif line.startswith("data: "):
            chunks.append(json.loads(line.removeprefix("data: ")))
    return chunks, done


def openai_stream_text(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def anthropic_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The `(event, data)` pairs of a Messages stream; each event's name matches its data's `type`."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            data = json.loads(fields["data"])
            assert data["type"] == fields["event"]
            events.append((fields["event"], data))
    return events


def anthropic_stream_text(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
