"""Issue 2, bad input: a rude agent ends only its own game, with a recorded reason; the run goes on.

Issue 9: the failure is that agent's, blamed on it by name and scored where the game stood."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from collabgap.protocol import MazeParams
from collabgap.services.coordinator import EpisodeSpec, SeatSpec, ServiceGroup, run_episodes
from tests.conftest import Stack

EXPECTED = {
    "garbage": ("protocol_violation", ""),
    "silent": ("protocol_violation", "empty reply"),
    "nontext": ("protocol_violation", "no text part"),
    "oversized": ("protocol_violation", "exceeds the cap"),
    "huge": ("protocol_violation", "larger than"),
    "slow": ("agent_timeout", "no reply within"),
    "stranger": ("protocol_violation", "another conversation"),
    "error": ("agent_error", "agent crashed"),
}


def spec(episode_id: str, a: SeatSpec, b: SeatSpec) -> EpisodeSpec:
    return EpisodeSpec(episode_id=episode_id, condition="pair", seat_a=a, seat_b=b, maze=MazeParams(seed=1))


async def test_each_rude_agent_ends_only_its_own_game(stack: Stack, rude_agent: str) -> None:
    rude = {fault: SeatSpec(name=fault, url=f"{rude_agent}/{fault}") for fault in EXPECTED}
    plan = [spec(fault, stack.cartographer, seat) for fault, seat in rude.items()]
    plan.append(spec("good", stack.cartographer, stack.cartographer))
    records = {r.spec.episode_id: r for r in await run_episodes(plan, stack.referee_url, stack.token,
                                                                turn_timeout_s=2, concurrency=len(plan))}
    assert records["good"].status == "solved" and records["good"].error is None
    for fault, (kind, words) in EXPECTED.items():
        record = records[fault]
        assert (record.status, record.end_reason) == ("ended", "agent_failure"), fault
        assert record.score is not None and record.score.moves == 0 and record.flagged, fault
        assert record.error is not None and record.error.kind == kind, (fault, record.error)
        assert record.error.seat == "B" and words in record.error.message, (fault, record.error.message)
        assert record.error.blame == f"agent:{fault}"
        assert [m.seat for m in record.messages] == ["A"]  # A's opening was relayed, B broke the contract
        assert record.maze and record.views


async def test_an_unreachable_agent_fails_its_own_episodes(stack: Stack) -> None:
    nobody = SeatSpec(name="nobody", url="http://127.0.0.1:9")
    [record] = await run_episodes([spec("x", nobody, stack.cartographer)], stack.referee_url, stack.token)
    assert record.error is not None and record.error.kind == "agent_unreachable"
    assert (record.error.seat, record.error.blame) == ("A", "agent:nobody")
    assert record.status == "ended" and record.score is not None and record.score.weighted == 0.0


@pytest.mark.parametrize("token", ["wrong-token"])
async def test_wrong_referee_token_is_a_platform_error(stack: Stack, token: str) -> None:
    [record] = await run_episodes([spec("x", stack.cartographer, stack.cartographer)], stack.referee_url,
                                  SecretStr(token))
    assert record.status == "error" and record.error is not None and record.error.kind == "referee_error"
    assert record.error.blame == "platform" and record.score is None
    assert "coordinator" in record.error.message


async def test_an_agent_refusing_our_token_is_an_auth_failure(stack: Stack, tmp_path: Path) -> None:
    """Issue 5: auth failures are reported as such; issue 9: as the agent's, scored where the game stood."""
    with ServiceGroup(log_dir=tmp_path) as services:
        guarded = SeatSpec(name="guarded", url=services.start_agent("scripted:cartographer",
                                                                    env={"COLLABGAP_AGENT_TOKEN": "secret"}))
        [record] = await run_episodes([spec("auth", stack.cartographer, guarded)], stack.referee_url, stack.token)
    assert record.status == "ended" and record.score is not None and record.error is not None
    assert (record.error.kind, record.error.seat, record.error.blame) == ("auth_failure", "B", "agent:guarded")
