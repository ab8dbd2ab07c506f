"""Issue 9: paper mode sends the paper's prompts word for word (App. A), recorded on the wire to the vendor.

LLM players and the grader reach the fake vendor through a recording proxy, so what is compared is every
request body the model endpoint received. The expected texts are parsed out of the shared reference copy of the
paper's prompts, with the game's own maps in place of the paper's example maps; whitespace is normalised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collabgap.services.coordinator import (
    EpisodeRecord,
    EpisodeSpec,
    ExplicitMaze,
    SeatSpec,
    ServiceGroup,
    run_episodes,
)
from tests._serving import serving
from tests.conftest import Stack

from .conftest import FAKE_KEY, llm_agent

REFERENCE = Path(__file__).parents[2] / ".." / "shared" / "reference" / "paper_prompts.md"
PAIR_EXAMPLE = "@.???\n.?..?\n#???.\n?...?\n.??#*"
VIEW_2_EXAMPLE = "@?...\n?.??#\n?#..?\n#???.\n?##?*"
VIEWS = [["@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"],
         ["@.?..#", "??##..", "?#?..?", ".?#?..", "????#?", "..???*"]]
MAZE = ExplicitMaze(rows=["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"], views=VIEWS)


def words(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Paper:
    """The paper's prompts, as the reference quotes them."""

    system: str
    pair_task: str
    solo_task: str
    critic: str
    pair_grader: str
    solo_grader: str


def read_reference() -> Paper:
    text = REFERENCE.read_text()
    section = dict(re.findall(r"^## ([A-D])\. .*?\n(.*?)(?=^## [A-D]\. |\Z)", text, re.S | re.M))
    system = re.search(r"^\s*> (The user will act.*)$", section["A"], re.M)
    fenced = [block for part in "BC" for block in re.findall(r"^```\n(.*?)^```$", section[part], re.S | re.M)]
    grader = re.search(r"^~~~text\n(.*?)^~~~", section["D"], re.S | re.M)
    opening = re.search(r'^- It opens: "(.*)"$', section["D"], re.M)
    assert system and len(fenced) == 3 and grader and opening, "the reference's layout changed"
    pair_grader = grader.group(1)
    # Fig. A.5, rebuilt from the parts the reference describes: its opening, the same schema block, and route
    # items that are final moves of agent_1; its input section is collabgap's choice (docs/paper-protocol.md).
    schema_block = pair_grader[pair_grader.index("Further, you should"):pair_grader.index("# Dialogue")]
    solo_block = (schema_block
                  .replace('turn_type: "<move|consider>"',
                           'turn_type: "move" # only consider final moves, not intermediate considerations')
                  .replace('agent: "<agent_1|agent_2>|both"', 'agent: "agent_1"'))
    return Paper(system=system.group(1), pair_task=fenced[0], solo_task=fenced[1], critic=fenced[2],
                 pair_grader=pair_grader, solo_grader=f"# Task\n{opening.group(1)}\n\n{solo_block}# Solution\n")


@dataclass(frozen=True)
class Recorder:
    """A model endpoint that forwards every request to the fake vendor and keeps its JSON body."""

    url: str
    bodies: list[dict[str, Any]]

    def requests(self, model: str) -> list[list[dict[str, str]]]:
        """The message lists of every request for `model`, oldest first."""
        return [body["messages"] for body in self.bodies if body.get("model") == model]


def recording_proxy(vendor_url: str, bodies: list[dict[str, Any]]) -> Starlette:
    async def forward(request: Request) -> Response:
        body = await request.body()
        if body:
            bodies.append(json.loads(body))
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.request(request.method, f"{vendor_url}{request.url.path}", content=body,
                                        headers=headers)
        return Response(answer.content, answer.status_code,
                        media_type=answer.headers.get("content-type", "application/json"))

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])


@dataclass(frozen=True)
class Players:
    recorder: Recorder
    seat: SeatSpec
    grader: SeatSpec
    scripted_grader: SeatSpec


@pytest.fixture(scope="module")
def players(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Players]:
    bodies: list[dict[str, Any]] = []
    with ServiceGroup(log_dir=tmp_path_factory.mktemp("paper-logs")) as services:
        vendor = services.start_fake_vendor()
        with serving(recording_proxy(vendor, bodies)) as proxy:
            env = {"COLLABGAP_TEST_KEY": FAKE_KEY}
            yield Players(
                recorder=Recorder(proxy, bodies),
                seat=SeatSpec(name="cartographer", url=services.start_agent(
                    llm_agent("openai:sim-cartographer", proxy), env=env)),
                grader=SeatSpec(name="grader", url=services.start_agent(
                    llm_agent("openai:sim-grader", proxy), env=env)),
                scripted_grader=SeatSpec(name="scripted-grader", url=services.start_agent("scripted:grader")))


async def play(stack: Stack, condition: str, seat_a: SeatSpec, seat_b: SeatSpec | None,
               grader: SeatSpec) -> EpisodeRecord:
    spec = EpisodeSpec(episode_id=condition, condition=condition, seat_a=seat_a,
                       seat_b=seat_b if condition == "pair" else None, maze=MAZE, mode="paper", grader=grader)
    [record] = await run_episodes([spec], stack.referee_url, stack.token, turn_timeout_s=30, concurrency=1)
    assert record.score is not None and record.error is None, record.error
    return record


async def test_a_paper_pair_game_sends_the_papers_system_task_and_grader_prompts(stack: Stack,
                                                                                  players: Players) -> None:
    paper = read_reference()
    players.recorder.bodies.clear()
    record = await play(stack, "pair", players.seat, players.seat, players.grader)
    seats = players.recorder.requests("sim-cartographer")
    [grading] = players.recorder.requests("sim-grader")

    assert len(seats) == len(record.messages) > 2
    assert {words(request[0]["content"]) for request in seats} == {words(paper.system)}
    assert all(request[0]["role"] == "system" for request in seats)
    tasks = {words(request[1]["content"]) for request in seats}
    assert tasks == {words("[user]: " + paper.pair_task.replace(PAIR_EXAMPLE, "\n".join(view)))
                     for view in VIEWS}
    opening_b = seats[1]  # seat B's history begins with two user messages, kept apart: the task, then A's
    assert [m["role"] for m in opening_b] == ["system", "user", "user"]
    assert opening_b[2]["content"] == f"[other agent]: {record.messages[0].text}"

    dialogue = "\n\n".join(f"[agent_{1 if m.seat == 'A' else 2}]: {m.text}" for m in record.messages)
    assert [m["role"] for m in grading] == ["user"]
    assert words(grading[0]["content"]) == words(paper.pair_grader.replace("<insert dialogue>", dialogue))
    assert record.grading is not None and record.grading.error is None
    assert record.score is not None and record.score.weighted == 1.0


async def test_a_paper_solo_split_game_is_one_answer_the_critic_step_and_the_solo_grader(stack: Stack,
                                                                                         players: Players) -> None:
    paper = read_reference()
    players.recorder.bodies.clear()
    record = await play(stack, "solo-split", players.seat, players.seat, players.grader)
    answer, review = players.recorder.requests("sim-cartographer")
    [grading] = players.recorder.requests("sim-grader")

    view_1, view_2 = ("\n".join(view) for view in VIEWS)
    task = paper.solo_task.replace(f"Map view 1:\n{PAIR_EXAMPLE}", f"Map view 1:\n{view_1}").replace(
        VIEW_2_EXAMPLE, view_2)
    assert [m["role"] for m in answer] == ["user"]  # alone there is no partner to relay: no system message
    assert words(answer[0]["content"]) == words(task)
    assert [m["role"] for m in review] == ["user", "assistant", "user"]
    assert review[1]["content"] == record.messages[0].text
    assert words(review[2]["content"]) == words(paper.critic)

    final = record.messages[-1].text
    assert len(record.messages) == 2 and "Final solution" in final
    assert words(grading[0]["content"]) == words(paper.solo_grader + final)
    assert record.grading is not None and record.grading.error is None and len(record.grading.route) == 11
    assert record.score is not None and record.score.weighted == 1.0 and record.status == "solved"


@pytest.mark.parametrize("condition", ["pair", "solo-split", "solo-full"])
async def test_scripted_players_and_grader_play_paper_mode(stack: Stack, players: Players, condition: str) -> None:
    record = await play(stack, condition, stack.cartographer, stack.cartographer, players.scripted_grader)
    assert record.grading is not None and record.grading.error is None
    assert record.score is not None and record.score.weighted == 1.0
    if condition != "pair":
        answer, final = record.messages
        assert "Final solution" in answer.text and final.text.endswith(answer.text)


@pytest.mark.parametrize("grader", ["refuses", "rambles"])
async def test_a_grader_that_fails_is_a_scored_failure_with_its_reason(stack: Stack, players: Players,
                                                                      grader: str) -> None:
    """A grader that refuses to grade (a seat player) or answers prose (a seat model) scores the empty route."""
    judge = stack.cartographer if grader == "refuses" else players.seat
    spec = EpisodeSpec(episode_id=grader, condition="pair", seat_a=stack.cartographer, seat_b=stack.cartographer,
                       maze=MAZE, mode="paper", grader=judge)
    [record] = await run_episodes([spec], stack.referee_url, stack.token, turn_timeout_s=30, concurrency=1)
    assert record.status != "error" and record.score is not None
    assert (record.score.weighted, record.score.moves) == (0.0, 0)
    assert record.grading is not None and record.grading.route == [] and record.grading.error
    assert ("did not answer" if grader == "refuses" else "grader's answer") in record.grading.error
