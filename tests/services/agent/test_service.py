"""The agent service speaks A2A 1.0 (DESIGN §3.2): card, both interfaces, seat contract, optional bearer auth."""

from __future__ import annotations

import uuid

import httpx
import pytest

from collabgap.protocol import MazeParams, SeatEnd, SeatStart, SeatTurn, generate_maze, split_views
from collabgap.services.agent import SKILL_ID, AgentSettings, create_agent_app
from collabgap.services.coordinator import AgentConnection, ProtocolViolationError
from tests.conftest import Stack


def start_message(seat: str = "A") -> SeatStart:
    maze = generate_maze(MazeParams(seed=3))
    views = split_views(maze, 3)
    return SeatStart(game_id="g1", seat=seat, condition="pair", speaks_first=True, message_limit=50, size=6,
                     maps=[list(views[0])], legend="legend")


def jsonrpc(method: str, params: dict[str, object]) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


def text_message(text: str) -> dict[str, object]:
    return {"message": {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": [{"text": text}]}}


def seat_message(context_id: str, data: dict[str, object]) -> dict[str, object]:
    return {"message": {"messageId": uuid.uuid4().hex, "contextId": context_id, "role": "ROLE_USER",
                        "parts": [{"text": "task prompt"}, {"data": data, "mediaType": "application/json"}]}}


async def test_card_declares_both_interfaces_and_the_seat_skill(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        card = (await http.get(f"{stack.cartographer.url}/.well-known/agent-card.json")).json()
    current = {i["protocolBinding"]: i["url"] for i in card["supportedInterfaces"] if i["protocolVersion"] == "1.0"}
    assert current == {"JSONRPC": f"{stack.cartographer.url}/a2a/jsonrpc/",
                       "HTTP+JSON": f"{stack.cartographer.url}/a2a/rest"}
    assert card["supportedInterfaces"][0]["protocolVersion"] == "1.0"  # preferred
    assert [skill["id"] for skill in card["skills"]] == [SKILL_ID]


async def test_scripted_player_answers_a_start_over_each_binding(stack: Stack) -> None:
    for binding in ("JSONRPC", "HTTP+JSON"):
        async with AgentConnection.open(stack.cartographer.url, bindings=[binding]) as agent:
            reply = await agent.send("A", uuid.uuid4().hex, ["task prompt"], start_message())
        assert "Here is my whole map" in reply.text, binding


async def test_a_turn_without_its_start_is_refused(stack: Stack) -> None:
    async with AgentConnection.open(stack.cartographer.url) as agent:
        with pytest.raises(ProtocolViolationError, match="send its start message first"):
            await agent.send("A", uuid.uuid4().hex, ["hi"], SeatTurn(game_id="g", seat="A", turn=2))


async def test_an_ended_game_is_forgotten(stack: Stack) -> None:
    context = uuid.uuid4().hex
    async with AgentConnection.open(stack.cartographer.url) as agent:
        await agent.send("A", context, ["task prompt"], start_message())
        await agent.send("A", context, [], SeatEnd(game_id="g1", seat="A", status="solved", reason="goal"))
        with pytest.raises(ProtocolViolationError, match="send its start message first"):
            await agent.send("A", context, ["hi"], SeatTurn(game_id="g1", seat="A", turn=2))


async def test_a_game_idle_past_the_deadline_is_forgotten() -> None:
    settings = AgentSettings(player="scripted:cartographer", public_url="http://agent.test", context_idle_s=1e-6)
    transport = httpx.ASGITransport(app=create_agent_app(settings))
    turn: dict[str, object] = {"collabgap": {"kind": "turn", "game_id": "g1", "seat": "A", "turn": 2}}
    headers = {"A2A-Version": "1.0"}
    async with httpx.AsyncClient(transport=transport, base_url="http://agent.test", headers=headers) as http:
        started = await http.post("/a2a/jsonrpc/", json=jsonrpc("SendMessage", seat_message("ctx", {
            "collabgap": start_message().model_dump(mode="json")})))
        assert "result" in started.json()
        answer = (await http.post("/a2a/jsonrpc/", json=jsonrpc("SendMessage", seat_message("ctx", turn)))).json()
    assert "send its start message first" in answer["error"]["message"]


async def test_missing_version_header_is_refused_as_unsupported(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        answer = (await http.post(f"{stack.cartographer.url}/a2a/jsonrpc/",
                                  json=jsonrpc("SendMessage", text_message("hello")))).json()
    assert answer["error"]["code"] == -32009


async def test_bearer_token_guards_calls_but_not_the_card() -> None:
    settings = AgentSettings(player="scripted:follower", public_url="http://agent.test", token="s3cret")
    transport = httpx.ASGITransport(app=create_agent_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://agent.test") as http:
        card = (await http.get("/.well-known/agent-card.json")).json()
        assert "bearer" in card["securitySchemes"]
        body = jsonrpc("SendMessage", text_message("hello"))
        assert (await http.post("/a2a/jsonrpc/", json=body, headers={"A2A-Version": "1.0"})).status_code == 401
        wrong = {"A2A-Version": "1.0", "Authorization": "Bearer nope"}
        assert (await http.post("/a2a/jsonrpc/", json=body, headers=wrong)).status_code == 401
        right = {"A2A-Version": "1.0", "Authorization": "Bearer s3cret"}
        assert (await http.post("/a2a/jsonrpc/", json=body, headers=right)).status_code == 200


def test_unknown_player_is_refused_with_the_known_ones() -> None:
    from collabgap.services.agent import PlayerSpecError

    with pytest.raises(PlayerSpecError, match="scripted:cartographer"):
        create_agent_app(AgentSettings(player="scripted:nobody", public_url="http://x"))


async def test_card_also_declares_the_a2a_0_3_interface(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        card = (await http.get(f"{stack.cartographer.url}/.well-known/agent-card.json")).json()
    assert {"protocolBinding": "JSONRPC", "protocolVersion": "0.3",
            "url": f"{stack.cartographer.url}/a2a/jsonrpc/"} in card["supportedInterfaces"]


async def test_an_a2a_0_3_client_drives_a_whole_game(stack: Stack) -> None:
    """Issue 5: an a2a-sdk client in 0.3 mode plays a game against our agent service."""
    from collabgap.services.coordinator import EpisodeSpec, ExplicitMaze, RefereeClient, play_episode

    maze = ExplicitMaze(rows=["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"],
                        views=[["@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"],
                               ["@.?..#", "??##..", "?#?..?", ".?#?..", "????#?", "..???*"]])
    spec = EpisodeSpec(episode_id="v03", condition="pair", seat_a=stack.cartographer, seat_b=stack.cartographer,
                       maze=maze)
    async with AgentConnection.open(stack.cartographer.url, versions=["0.3"]) as agent, \
            RefereeClient.connect(stack.referee_url, stack.token.get_secret_value()) as referee:
        record = await play_episode(spec, referee, {stack.cartographer.url: agent})
    assert record.status == "solved" and record.score is not None and record.score.moves == 10
