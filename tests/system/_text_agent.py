"""A third-party agent built with neither collabgap nor a2a-sdk: plain Starlette, A2A JSON-RPC, text only.

It reads only the text parts it is sent and answers in plain text. Its policy: agree with any `MOVE:` its
partner proposes; otherwise propose the next step of a shortest route on its own map (hidden cells assumed
open). Its first message shares its map. It follows the game by replaying both sides' `MOVE:` lines by the rules
in the task prompt.
"""

from __future__ import annotations

import re
import uuid
from collections import deque

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

STEPS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
MAP_LINE = re.compile(r"^[@*.#?]{3,30}$")
VOTE = re.compile(r"^\s*MOVE:\s*(up|down|left|right)\b", re.IGNORECASE | re.MULTILINE)
conversations: dict[str, dict[str, object]] = {}


def task_map(text: str) -> list[str]:
    """Every map block of the task (solo-split shows two), overlaid: a cell is known if any map shows it."""
    lines = [line.strip() for line in text.splitlines()]
    blocks, start = [], 0
    while start < len(lines):
        line = lines[start]
        block = [row for row in lines[start:start + len(line)] if MAP_LINE.match(row) and len(row) == len(line)]
        if MAP_LINE.match(line) and len(block) == len(line):
            blocks.append(block)
            start += len(line)
        else:
            start += 1
    if not blocks:
        raise ValueError("no map in the task")
    return ["".join(next((b[r][c] for b in blocks if b[r][c] != "?"), "?") for c in range(len(blocks[0])))
            for r in range(len(blocks[0]))]


def next_step(grid: list[str], here: tuple[int, int]) -> str | None:
    goal = next((r, c) for r, row in enumerate(grid) for c, ch in enumerate(row) if ch == "*")
    previous: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {here: None}
    queue = deque([here])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            while previous[cell] is not None and previous[cell][0] != here:  # type: ignore[index]
                cell = previous[cell][0]  # type: ignore[index]
            return previous[cell][1] if previous[cell] else None  # type: ignore[index]
        for name, (dr, dc) in STEPS.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            inside = 0 <= nxt[0] < len(grid) and 0 <= nxt[1] < len(grid)
            if nxt not in previous and inside and grid[nxt[0]][nxt[1]] != "#":
                previous[nxt] = (cell, name)
                queue.append(nxt)
    return None


def reply(state: dict[str, object]) -> str:
    grid: list[str] = state["grid"]  # type: ignore[assignment]
    here = next((r, c) for r, row in enumerate(grid) for c, ch in enumerate(row) if ch == "@")
    pending: dict[str, str | None] = {"me": None, "partner": None}
    for speaker, text in state["dialogue"]:  # type: ignore[attr-defined]
        vote = VOTE.search(text)
        if not vote:
            continue
        move, other = vote.group(1).lower(), "partner" if speaker == "me" else "me"
        if state["solo"] or pending[other] == move:
            here = (here[0] + STEPS[move][0], here[1] + STEPS[move][1])
            pending = {"me": None, "partner": None}
        else:
            pending[speaker] = move
    opening = "" if any(speaker == "me" for speaker, _ in state["dialogue"]) or state["solo"] else (  # type: ignore[attr-defined]
        "Here is my map:\n" + "\n".join(grid) + "\n")
    if pending["partner"]:
        return f"{opening}Fine by me.\nMOVE: {pending['partner']}"
    move = next_step(grid, here)
    return f"{opening}How about {move}?\nMOVE: {move}" if move else f"{opening}I am lost; where are we?"


async def card(request: Request) -> JSONResponse:
    base = f"{request.url.scheme}://{request.url.netloc}"
    return JSONResponse({
        "name": "text-only agent", "description": "A third-party seat that reads and writes plain text.",
        "version": "0.1", "capabilities": {"streaming": False},
        "supportedInterfaces": [{"url": f"{base}/rpc/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
        "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "collabgap.maze-seat", "name": "maze seat", "description": "plays", "tags": ["maze"]}],
    })


async def rpc(request: Request) -> JSONResponse:
    body = await request.json()
    message = body["params"]["message"]
    texts = [part["text"] for part in message.get("parts", []) if "text" in part]
    context = message.get("contextId") or uuid.uuid4().hex
    state = conversations.get(context)
    if state is None:  # the first message of a game: the task, maybe the partner's opening after it
        state = {"grid": task_map(texts[0]), "solo": "on your own" in texts[0], "dialogue": []}
        conversations[context] = state
        opening = texts[1].split("Their message:\n", 1)[-1] if len(texts) > 1 else None
        if opening:
            state["dialogue"].append(("partner", opening))  # type: ignore[attr-defined]
    elif "game is over" in " ".join(texts):
        conversations.pop(context, None)
        answer = "Thanks!"
    elif not state["solo"]:
        state["dialogue"].append(("partner", "\n".join(texts)))  # type: ignore[attr-defined]
    if context in conversations:
        answer = reply(state)
        state["dialogue"].append(("me", answer))  # type: ignore[attr-defined]
    result = {"message": {"messageId": uuid.uuid4().hex, "contextId": context, "role": "ROLE_AGENT",
                          "parts": [{"text": answer}]}}
    return JSONResponse({"jsonrpc": "2.0", "id": body.get("id"), "result": result})


app = Starlette(routes=[Route("/.well-known/agent-card.json", card), Route("/rpc/", rpc, methods=["POST"])])
