"""`run_episodes` plays through the run's engine: with `retries` it reopens a dropped referee connection and keeps
the failed attempt; without, the episode is that platform error."""

from __future__ import annotations

from collabgap.protocol import MazeParams
from collabgap.services.coordinator import EpisodeSpec, run_episodes
from tests.conftest import Stack
from tests.system.test_demo_retries import dropping_proxy


def pair(stack: Stack) -> EpisodeSpec:
    return EpisodeSpec(episode_id="dropped", condition="pair", seat_a=stack.cartographer, seat_b=stack.follower,
                       maze=MazeParams(seed=3))


async def test_a_retry_reopens_the_dropped_referee_and_keeps_the_attempt(stack: Stack) -> None:
    with dropping_proxy(stack.referee_url.removesuffix("/mcp"), drops=1) as proxy:
        [record] = await run_episodes([pair(stack)], f"{proxy}/mcp", stack.token, turn_timeout_s=10, retries=1)
    assert record.status != "error" and record.attempt == 2
    [attempt] = record.attempts
    assert attempt.attempt == 1 and attempt.error.kind == "referee_error"
    assert f"cannot reach the referee at {proxy}/mcp: " in attempt.error.message


async def test_without_retries_the_dropped_referee_is_the_episode_s_error(stack: Stack) -> None:
    with dropping_proxy(stack.referee_url.removesuffix("/mcp"), drops=1) as proxy:
        [record] = await run_episodes([pair(stack)], f"{proxy}/mcp", stack.token, turn_timeout_s=10)
    assert record.status == "error" and record.error is not None and record.error.kind == "referee_error"
    assert record.error.blame == "platform" and record.attempt == 1 and record.attempts == []
