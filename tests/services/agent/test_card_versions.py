"""The card follows the client's A2A version: a 1.0 client (or one that names no version,
as strict 1.0 clients and the A2A TCK fetch the card) gets a card a strict 1.0 parser accepts; a 0.3 client (one
that names 0.3, in a header or in the card path's query) gets the 0.3 fields it needs, and both can then talk to the
agent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from a2a.compat.v0_3.types import AgentCard as AgentCard03
from a2a.types import AgentCard
from google.protobuf.json_format import ParseDict

from collabgap.services.coordinator import ServiceGroup

TOKEN = "card-versions-token"
CARD = "/.well-known/agent-card.json"
FIELDS_0_3 = {"url", "preferredTransport", "protocolVersion", "security", "additionalInterfaces"}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real agent service that requires a bearer token, so its card carries a security scheme."""
    with ServiceGroup(log_dir=tmp_path_factory.mktemp("card-versions")) as services:
        yield services.start_agent("scripted:cartographer", env={"COLLABGAP_AGENT_TOKEN": TOKEN})


def fetch(url: str, *, headers: dict[str, str] | None = None, params: dict[str, str] | None = None) -> httpx.Response:
    response = httpx.get(f"{url}{CARD}", headers=headers, params=params, timeout=10)
    response.raise_for_status()
    return response


@pytest.mark.parametrize("ask", [{"headers": {"A2A-Version": "1.0"}}, {"params": {"A2A-Version": "1.0"}}, {}],
                         ids=["header", "query", "no-version"])
def test_a_1_0_client_gets_a_card_that_parses_strictly(agent: str, ask: dict[str, dict[str, str]]) -> None:
    card = fetch(agent, **ask).json()
    assert not FIELDS_0_3 & card.keys()
    assert card["securitySchemes"] == {"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}}
    parsed = ParseDict(card, AgentCard())  # unknown fields raise: the strict 1.0 parse
    assert [(i.protocol_binding, i.protocol_version) for i in parsed.supported_interfaces] == [
        ("JSONRPC", "1.0"), ("HTTP+JSON", "1.0"), ("JSONRPC", "0.3")]  # the 0.3 interface is still listed


@pytest.mark.parametrize("ask", [{"headers": {"A2A-Version": "0.3"}}, {"params": {"A2A-Version": "0.3"}}],
                         ids=["header", "query"])
def test_a_0_3_client_gets_the_0_3_fields_and_can_send_with_them(agent: str, ask: dict[str, dict[str, str]]) -> None:
    """The a2a-sdk 0.3 card model accepts the card; its `url` and security scheme carry a 0.3 call."""
    card = AgentCard03.model_validate(fetch(agent, **ask).json())
    assert card.url == f"{agent}/a2a/jsonrpc/" and card.preferred_transport == "JSONRPC"
    assert card.protocol_version == "0.3" and card.security == [{"bearer": []}]
    scheme = card.security_schemes["bearer"].root  # type: ignore[index]
    assert (scheme.type, scheme.scheme) == ("http", "Bearer")  # type: ignore[union-attr]
    send = {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": {
        "kind": "message", "messageId": uuid.uuid4().hex, "role": "user", "parts": [{"kind": "text", "text": "hi"}]}}}
    answer = httpx.post(card.url, json=send, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    assert answer["result"]["kind"] == "task" and answer["result"]["status"]["state"] == "completed"
    assert "collabgap.maze-seat" in answer["result"]["artifacts"][0]["parts"][0]["text"]


def test_each_shape_has_its_own_etag_and_caches_keep_them_apart(agent: str) -> None:
    current, legacy = fetch(agent), fetch(agent, headers={"A2A-Version": "0.3"})
    assert current.headers["etag"] != legacy.headers["etag"]
    assert current.headers["vary"] == legacy.headers["vary"] == "A2A-Version"
    assert current.headers["cache-control"] == "public, max-age=60"
    again = httpx.get(f"{agent}{CARD}", headers={"If-None-Match": current.headers["etag"]})
    assert again.status_code == 304
    other = httpx.get(f"{agent}{CARD}", headers={"A2A-Version": "0.3", "If-None-Match": current.headers["etag"]})
    assert other.status_code == 200 and other.json() == legacy.json()


def test_the_card_stays_public(agent: str) -> None:
    assert httpx.get(f"{agent}{CARD}", headers={"A2A-Version": "1.0"}).status_code == 200
    assert httpx.post(f"{agent}/a2a/jsonrpc/", json={}, headers={"A2A-Version": "1.0"}).status_code == 401
