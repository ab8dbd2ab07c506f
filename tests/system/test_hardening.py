"""Issue 11, hardened services: every fetch from an agent has an overall deadline, a reply must be JSON-RPC 2.0,
and `collabgap play` reaches an agent that wants a bearer token."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from pathlib import Path

import pytest

from collabgap.protocol import MazeParams
from collabgap.services.coordinator import (
    AgentConnection,
    AgentUnreachableError,
    EpisodeSpec,
    SeatSpec,
    ServiceGroup,
    run_episodes,
)
from tests._command import COLLABGAP
from tests.conftest import Stack

BACKSTOP_S = 60
"""Only so that a regression fails instead of hanging; the deadlines under test are seconds."""


def spec(episode_id: str, a: SeatSpec, b: SeatSpec, seed: int = 1) -> EpisodeSpec:
    return EpisodeSpec(episode_id=episode_id, condition="pair", seat_a=a, seat_b=b, maze=MazeParams(seed=seed))


async def test_a_card_that_arrives_a_byte_at_a_time_is_given_up_at_its_deadline(rude_agent: str) -> None:
    async with asyncio.timeout(BACKSTOP_S):
        with pytest.raises(AgentUnreachableError, match="had not arrived whole after 2 s"):
            async with AgentConnection.open(f"{rude_agent}/loris", timeout=2):
                pass


async def test_a_slow_loris_card_ends_only_its_own_games(stack: Stack, rude_agent: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    loris = SeatSpec(name="loris", url=f"{rude_agent}/loris")
    plan = [spec(f"{kind}-{seed}", stack.cartographer, seat, seed)
            for seed in (1, 2) for kind, seat in (("loris", loris), ("good", stack.cartographer))]
    with caplog.at_level(logging.WARNING):
        async with asyncio.timeout(BACKSTOP_S):
            records = {r.spec.episode_id: r for r in await run_episodes(plan, stack.referee_url, stack.token,
                                                                        turn_timeout_s=3, concurrency=len(plan))}
    for seed in (1, 2):
        assert records[f"good-{seed}"].status == "solved" and records[f"good-{seed}"].error is None
        record = records[f"loris-{seed}"]
        assert (record.status, record.end_reason) == ("ended", "agent_failure")
        assert record.error is not None and record.error.kind == "agent_unreachable"
        assert (record.error.seat, record.error.blame) == ("B", "agent:loris")
        assert record.error.message == (f"no connection to {loris.url}: no agent card at {loris.url}: it had not "
                                        "arrived whole after 3 s")
    assert f"no agent card at {loris.url}: it had not arrived whole after 3 s" in caplog.text


async def test_a_reply_that_says_jsonrpc_1_0_is_a_protocol_violation(stack: Stack, rude_agent: str) -> None:
    old = SeatSpec(name="jsonrpc1", url=f"{rude_agent}/jsonrpc1")
    [record] = await run_episodes([spec("old", stack.cartographer, old)], stack.referee_url, stack.token,
                                  turn_timeout_s=5)
    assert (record.status, record.end_reason) == ("ended", "agent_failure")
    assert record.error is not None and record.error.kind == "protocol_violation"
    assert (record.error.seat, record.error.blame) == ("B", "agent:jsonrpc1")
    assert 'the reply says "jsonrpc": "1.0"' in record.error.message


def test_play_sends_each_seat_its_bearer_token(tmp_path: Path) -> None:
    with ServiceGroup(log_dir=tmp_path) as services:
        guarded = services.start_agent("scripted:cartographer", env={"COLLABGAP_AGENT_TOKEN": "seat-secret"})
        seats = ["play", "--a", guarded, "--b", guarded, "--seed", "4"]
        env = {**os.environ, "PLAY_TEST_TOKEN": "seat-secret"}
        played = subprocess.run([*COLLABGAP, *seats, "--a-token-env", "PLAY_TEST_TOKEN", "--b-token-env",
                                 "PLAY_TEST_TOKEN"], capture_output=True, text=True, timeout=120, env=env)
        refused = subprocess.run([*COLLABGAP, *seats], capture_output=True, text=True, timeout=120, env=env)
        unset = subprocess.run([*COLLABGAP, *seats, "--a-token-env", "PLAY_TEST_UNSET"], capture_output=True,
                               text=True, timeout=120, env=env)
    assert played.returncode == 0, played.stderr
    assert "Outcome: solved (goal); weighted score 1.000" in played.stdout
    assert "ERROR (auth_failure, seat A, blame agent:A)" in refused.stdout
    assert unset.returncode == 2 and "PLAY_TEST_UNSET is not set" in unset.stderr
    assert "seat-secret" not in played.stdout + played.stderr + refused.stdout + refused.stderr
