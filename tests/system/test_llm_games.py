"""Issue 3: LLM players over the vendors' real HTTP APIs, against the fake vendor; referee and paper mode."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from collabgap.protocol import MazeParams
from collabgap.services.coordinator import EpisodeRecord, EpisodeSpec, ExplicitMaze, SeatSpec, Store, run_episodes
from tests.conftest import Stack

from .conftest import FAKE_KEY, LLMStack

MAZE_6 = ExplicitMaze(rows=["@.#..#", "..##..", ".#...#", ".##...", ".#..#.", ".....*"],
                      views=[["@?#???", "..????", ".?.??#", "?#?.??", ".#..?.", "??...*"],
                             ["@.?..#", "??##..", "?#?..?", ".?#?..", "????#?", "..???*"]])


async def play(stack: Stack, *specs: EpisodeSpec) -> list[EpisodeRecord]:
    return await run_episodes(list(specs), stack.referee_url, stack.token, turn_timeout_s=30, concurrency=8)


def episode(episode_id: str, a: SeatSpec, b: SeatSpec | None, maze: ExplicitMaze | MazeParams = MAZE_6,
            **options: object) -> EpisodeSpec:
    condition = options.pop("condition", "pair")
    return EpisodeSpec(episode_id=episode_id, condition=condition, seat_a=a, seat_b=b, maze=maze, **options)


async def set_faults(llm: LLMStack, faults: list[dict[str, object]]) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(f"{llm.vendor_url}/_fake/faults", json={"faults": faults})).raise_for_status()


async def test_openai_and_anthropic_players_solve_the_paper_maze_in_referee_mode(stack: Stack, llm: LLMStack) -> None:
    [record] = await play(stack, episode("mixed", llm.openai_cartographer, llm.anthropic_cartographer))
    assert record.status == "solved" and record.score is not None
    assert (record.score.weighted, record.score.moves, record.score.conflicts) == (1.0, 10, 0)
    models = {m.seat: m.usage.model for m in record.messages if m.usage}
    assert models == {"A": "sim-cartographer", "B": "sim-cartographer"}
    assert all(m.usage and m.usage.prompt_tokens > 0 and m.usage.completion_tokens > 0 for m in record.messages)
    assert record.cost_usd > 0


async def test_paper_mode_is_graded_from_the_transcript(stack: Stack, llm: LLMStack) -> None:
    [record] = await play(stack, episode("paper", llm.anthropic_cartographer, llm.openai_cartographer,
                                         mode="paper", grader=llm.grader))
    assert record.status == "solved" and record.score is not None and record.score.weighted == 1.0
    assert record.grading is not None and record.grading.convention == "directions"
    assert len(record.grading.route) == 10 and record.votes == []  # no referee votes in paper mode
    assert not any("MOVE:" in m.text for m in record.messages)


async def test_coordinate_route_scores_as_the_same_game_in_referee_mode(stack: Stack, llm: LLMStack) -> None:
    """Issue 3: a route graded in 1-based column-first coordinates scores as the refereed game does."""
    maze = MazeParams(size=6, seed=21)
    refereed, graded = await play(stack, episode("ref", llm.coords, llm.coords, maze),
                                  episode("paper", llm.coords, llm.coords, maze, mode="paper", grader=llm.grader))
    assert graded.grading is not None
    assert graded.grading.convention == "origin 1, top-left, col-row"
    assert graded.grading.route[0].count(",") == 1  # cells, not directions
    assert refereed.score is not None and graded.score is not None
    assert (graded.score.weighted, graded.score.success, graded.score.moves) == (
        refereed.score.weighted, refereed.score.success, refereed.score.moves)


async def test_a_solo_paper_game_is_one_answer_then_the_critic_step(stack: Stack, llm: LLMStack) -> None:
    [record] = await play(stack, episode("solo", llm.openai_cartographer, None, MazeParams(size=6, seed=8),
                                         condition="solo-full", mode="paper", grader=llm.grader))
    assert record.status == "solved" and record.score is not None and record.score.success
    answer, final = record.messages
    assert "Final solution" in answer.text and final.text.endswith(answer.text)  # the review confirms the route


async def test_a_429_storm_is_ridden_out_by_backoff(stack: Stack, llm: LLMStack) -> None:
    await set_faults(llm, [{"kind": "rate_limit", "first": 5, "retry_after": 0.01}])
    try:
        [record] = await play(stack, episode("storm", llm.openai_cartographer, llm.anthropic_cartographer))
    finally:
        await set_faults(llm, [])
    assert record.status == "solved"
    assert sum(m.usage.calls - 1 for m in record.messages if m.usage) == 5


@pytest.mark.parametrize(("fault", "words"), [("server_error", "HTTP 500"), ("malformed", "malformed"),
                                              ("cut_stream", "stream ended"), ("hang", "no answer within")])
async def test_a_broken_vendor_fails_only_its_agents_games(stack: Stack, llm: LLMStack, fault: str,
                                                             words: str) -> None:
    await set_faults(llm, [{"kind": fault, "models": ["sim-follower"]}])
    try:
        broken, fine = await play(stack, episode("broken", llm.openai_follower, llm.openai_follower),
                                  episode("fine", llm.openai_cartographer, llm.anthropic_cartographer))
    finally:
        await set_faults(llm, [])
    assert fine.status == "solved"
    # Issue 9: a vendor that fails after retries is the agent's own failure: scored where the game stood
    assert broken.status == "ended" and broken.score is not None and broken.error is not None
    assert broken.error.blame == "agent:gpt-sim-follower" and broken.end_reason == "agent_failure"
    assert broken.error.kind == "agent_error" and words in broken.error.message, broken.error.message
    assert "gave up after 6 attempts" in broken.error.message


async def test_a_vendor_that_is_down_fails_its_agents_games(stack: Stack, tmp_path: Path) -> None:
    from collabgap.services.coordinator import ServiceGroup, free_port

    from .conftest import llm_agent

    with ServiceGroup(log_dir=tmp_path) as services:
        url = services.start_agent(llm_agent("openai:sim-cartographer", f"http://127.0.0.1:{free_port()}"),
                                   env={"COLLABGAP_TEST_KEY": FAKE_KEY})
        down = SeatSpec(name="down", url=url)
        [record] = await play(stack, episode("down", down, down))
    assert record.status == "ended" and record.error is not None and record.error.kind == "agent_error"
    assert record.error.blame == "agent:down" and record.score is not None
    assert "connection failed" in record.error.message


async def test_no_stored_file_or_log_holds_the_api_key(stack: Stack, llm: LLMStack, tmp_path: Path) -> None:
    """Issue 3: the key reaches the vendor and nothing else; every stored file and log is searched."""
    await set_faults(llm, [{"kind": "server_error", "models": ["sim-follower"]}])
    try:
        records = await play(stack, episode("ok", llm.openai_cartographer, llm.anthropic_cartographer),
                             episode("err", llm.openai_follower, llm.openai_follower))
    finally:
        await set_faults(llm, [])
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:  # as a run stores them
        store.start_run("keys", {}, {})
        for record in records:
            store.save_episode("keys", record)
    searched = [path for folder in (tmp_path, llm.logs) for path in folder.rglob("*") if path.is_file()]
    assert len(searched) >= 7  # the store and the log of every service
    assert not [path for path in searched if FAKE_KEY in path.read_text(errors="replace")]
    assert FAKE_KEY not in json.dumps([r.model_dump(mode="json") for r in records])
