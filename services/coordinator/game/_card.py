"""Reading an agent's card off its well-known path, under a deadline: what `check-agent` checks, what `play` names
seats by, and what a run waits for (`CARD_PATH`).

A card that cannot be read is a `CardMiss` saying what happened and what the agent's author should change, never an
exception: every caller goes on without the card.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from a2a.client.card_resolver import parse_agent_card
from google.protobuf.json_format import ParseError

CARD_PATH = "/.well-known/agent-card.json"
TOKEN_FIX = "pass the agent's token: `collabgap check-agent URL --token-env VAR`, VAR holding the token"


@dataclass(frozen=True)
class Card:
    """A card as JSON, mapped to the A2A 1.0 shape the way the SDK maps 0.3 cards (`parse_agent_card`)."""

    data: dict[str, Any]
    sdk_error: str | None
    """Why the A2A SDK cannot read the card, which the coordinator must; None when it can."""
    source: str
    """The address it was read from."""
    size: int
    """Its length in bytes, as served."""


@dataclass(frozen=True)
class CardMiss:
    """Why no card was read: what happened, and what the agent's author should change."""

    detail: str
    fix: str


async def fetch_card(http: httpx.AsyncClient, url: str, deadline_s: float) -> Card | CardMiss:
    """GET the card of the agent at base URL `url`: HTTP 200 with a JSON object, within `deadline_s` seconds."""
    target = f"{url.rstrip('/')}{CARD_PATH}"
    serve = f"serve the agent card at {CARD_PATH} (HTTP 200, a JSON object)"
    try:
        async with asyncio.timeout(deadline_s):
            response = await http.get(target)
    except TimeoutError:
        return CardMiss(f"{target}: no answer within {deadline_s:g} s", f"{serve}, promptly")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return CardMiss(f"{target}: {type(exc).__name__}: {exc}",
                        f"start the agent, or correct the URL: the card is read from <URL>{CARD_PATH}")
    if response.status_code in (401, 403):
        return CardMiss(f"{target} answered HTTP {response.status_code}",
                        f"serve the card without authentication (A2A cards are public), or {TOKEN_FIX}")
    if response.status_code != 200:
        return CardMiss(f"{target} answered HTTP {response.status_code}", serve)
    try:
        data = response.json()
    except ValueError as exc:
        return CardMiss(f"{target} is not JSON: {exc}", serve)
    if not isinstance(data, dict):
        return CardMiss(f"{target} holds a JSON {type(data).__name__}, not an object", serve)
    sdk_error = None
    try:
        parse_agent_card(data)  # maps 0.3 fields to 1.0 in place, as the coordinator's client does
    except ParseError as exc:
        sdk_error = str(exc)
    return Card(data=data, sdk_error=sdk_error, source=target, size=len(response.content))
