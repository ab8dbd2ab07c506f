"""A person's seat (issue 15): the seat contract over A2A, answered from a web page by whoever joined the game."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from collabgap.protocol import MazeParams, SeatEnd, SeatStart, generate_maze, render_map, split_views
from collabgap.services.agent import HumanSettings, create_human_app
from collabgap.services.coordinator import AgentConnection, AgentTimeoutError, AuthFailureError, SeatReply
from tests._serving import serving

WAIT_S = 5.0


def start_message(partner_text: str | None = None) -> SeatStart:
    views = split_views(generate_maze(MazeParams(seed=3)), 3)
    return SeatStart(game_id=f"g-{uuid.uuid4().hex[:6]}", seat="A", condition="pair", speaks_first=partner_text is None,
                     message_limit=50, size=6, maps=[list(views[0])], legend="@ start, * goal",
                     partner_text=partner_text)


@pytest.fixture(scope="module")
def seat() -> Iterator[str]:
    with serving(build=lambda url: create_human_app(HumanSettings(public_url=url, reply_timeout_s=60))) as url:
        yield url


class Person:
    """A browser, as far as the pages go: it keeps its cookies."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def next_game(self, known: frozenset[str] = frozenset()) -> str:
        """The key of a game the lobby lists that is not in `known`, once one appears."""
        async with asyncio.timeout(WAIT_S):
            while True:
                lobby = (await self.http.get("/")).text
                fresh: list[str] = [key for key in re.findall(r'data-game="([^"]+)"', lobby) if key not in known]
                if fresh:
                    return fresh[0]
                await asyncio.sleep(0.02)

    async def join(self, key: str) -> httpx.Response:
        return await self.http.post(f"/join/{key}", follow_redirects=True)

    async def state(self, key: str, version: int = -1) -> httpx.Response:
        return await self.http.get(f"/play/{key}/state", params={"version": version})

    async def say(self, key: str, text: str) -> httpx.Response:
        return await self.http.post(f"/play/{key}/reply", data={"text": text}, headers={"Accept": "application/json"})


@pytest.fixture
async def person(seat: str) -> AsyncIterator[Person]:
    async with httpx.AsyncClient(base_url=seat) as http:
        yield Person(http)


async def send_start(seat: str, start: SeatStart, context: str, texts: list[str]) -> SeatReply:
    async with AgentConnection.open(seat, timeout=30) as agent:
        return await agent.send("A", context, texts, start)


async def states_of(seat: str, context: str) -> list[str]:
    """The states of the A2A tasks of one context, as any A2A client reads them."""
    request = {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {"contextId": context}}
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{seat}/a2a/jsonrpc/", json=request, headers={"A2A-Version": "1.0"})
    return [task["status"]["state"] for task in answer.json()["result"]["tasks"]]


async def test_the_task_stays_working_while_the_person_types_and_carries_the_reply(seat: str, person: Person) -> None:
    context = uuid.uuid4().hex
    start = start_message()
    sending = asyncio.create_task(send_start(seat, start, context, ["The task: find the goal."]))
    key = await person.next_game()
    joined = await person.join(key)
    assert render_map(start.maps[0]) in joined.text.replace("&#x27;", "'")
    assert "The task: find the goal." in joined.text
    assert await states_of(seat, context) == ["TASK_STATE_WORKING"]
    assert (await person.state(key)).json()["your_turn"] is True
    assert (await person.say(key, "Hello partner.\nMOVE: down")).json() == {"ok": True, "problem": None}
    reply = await sending
    assert reply.text == "Hello partner.\nMOVE: down"
    assert await states_of(seat, context) == ["TASK_STATE_COMPLETED"]
    again = await person.say(key, "one more")
    assert again.status_code == 409 and again.json()["problem"] == "it is not your turn"


async def test_a_reply_that_does_not_come_in_time_is_the_seats_timeout(person: Person) -> None:
    settings = HumanSettings(public_url="http://seat.test", reply_timeout_s=0.05)
    with serving(build=lambda url: create_human_app(settings.model_copy(update={"public_url": url}))) as url:
        with pytest.raises(AgentTimeoutError, match="had no reply in time"):
            await send_start(url, start_message(), uuid.uuid4().hex, ["task"])
        async with httpx.AsyncClient(base_url=url) as http:
            assert 'id="no-games"' in (await http.get("/")).text  # a game that timed out waits for nobody


async def test_only_the_browser_that_joined_sees_the_game(seat: str, person: Person) -> None:
    context = uuid.uuid4().hex
    sending = asyncio.create_task(send_start(seat, start_message("secret plan"), context, ["task"]))
    key = await person.next_game()
    assert (await person.join(key)).status_code == 200
    async with httpx.AsyncClient(base_url=seat) as http:
        stranger = Person(http)
        assert (await stranger.join(key)).status_code == 409
        assert (await http.get(f"/play/{key}")).status_code == 403
        assert (await stranger.state(key)).status_code == 403
        assert (await stranger.say(key, "let me in")).status_code == 403
        assert key not in (await http.get("/")).text  # a joined game leaves the lobby
    await person.say(key, "done")
    await sending


async def test_what_the_game_says_is_shown_as_text_never_as_markup(seat: str, person: Person) -> None:
    context = uuid.uuid4().hex
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    sending = asyncio.create_task(send_start(seat, start_message(attack), context, [f"task {attack}"]))
    key = await person.next_game()
    page = (await person.join(key)).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "script-src 'self'" in (await person.http.get(f"/play/{key}")).headers["content-security-policy"]
    assert {"who": "partner", "label": "Partner", "text": attack} in (await person.state(key)).json()["lines"]
    await person.say(key, "ok")
    await sending


async def test_the_end_of_the_game_reaches_the_page(seat: str, person: Person) -> None:
    context = uuid.uuid4().hex
    start = start_message()
    sending = asyncio.create_task(send_start(seat, start, context, ["task"]))
    key = await person.next_game()
    await person.join(key)
    await person.say(key, "MOVE: down")
    await sending
    end = SeatEnd(game_id=start.game_id, seat="A", status="solved", reason="goal")
    async with AgentConnection.open(seat) as agent:
        await agent.send("A", context, ["The game is over: solved."], end)
    assert (await person.state(key)).json()["over"] == "The game is over: solved (goal)."


async def test_the_token_guards_the_page_and_the_a2a_endpoint_alike() -> None:
    settings = HumanSettings(public_url="http://seat.test", token="t0ken", reply_timeout_s=0.05)
    with serving(build=lambda url: create_human_app(settings.model_copy(update={"public_url": url}))) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            page = await http.get("/", headers={"Accept": "text/html"})
            assert page.status_code == 401 and 'action="/login"' in page.text
            call = {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}
            assert (await http.post("/a2a/jsonrpc/", json=call, headers={"A2A-Version": "1.0"})).status_code == 401
            assert (await http.post("/login", data={"token": "wrong"})).status_code == 401
            assert (await http.post("/login", data={"token": "t0ken"}, follow_redirects=True)).status_code == 200
            assert (await http.get("/")).status_code == 200
        with pytest.raises(AuthFailureError):
            async with AgentConnection.open(url) as agent:
                await agent.send("A", uuid.uuid4().hex, ["task"], start_message())
        async with AgentConnection.open(url, token="t0ken") as agent:
            with pytest.raises(AgentTimeoutError):  # admitted, and nobody is there to answer in time
                await agent.send("A", uuid.uuid4().hex, ["task"], start_message())
