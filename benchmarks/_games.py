"""The games every figure plays: scripted or LLM cartographers paired on 6x6 mazes, one seed per game."""

from __future__ import annotations

from pathlib import Path

from collabgap.services.coordinator import EpisodeRecord, EpisodeSpec, RunFile, plan_run

SIZE = 6


def pair_plan(agent_url: str, count: int, first_seed: int) -> list[EpisodeSpec]:
    """`count` referee-mode pair games of the agent at `agent_url` (named `self`) with itself, seeds `first_seed`,
    `first_seed`+1…, planned as a run file of that agent would plan them."""
    run = RunFile.model_validate({
        "name": "bench", "agents": {"self": {"url": agent_url}},
        "mazes": {"count": count, "size": SIZE, "seed": first_seed},
        "conditions": [{"kind": "pair", "pairing": "homogeneous", "agents": ["self"]}]})
    return plan_run(run, Path())


def failed(records: list[EpisodeRecord]) -> list[EpisodeRecord]:
    """Games that ended in any error: the platform's, or an agent's (for our own agents, also ours)."""
    return [record for record in records if record.error is not None]


def first_error(records: list[EpisodeRecord]) -> str:
    """The first error among `records`, in a line; empty when there is none."""
    for record in failed(records):
        assert record.error is not None
        return f"{record.error.kind}: {record.error.message[:300]}"
    return ""


def require_clean(records: list[EpisodeRecord]) -> None:
    """Raise when a game of a sequential figure failed: its timing would not describe a game."""
    if failed(records):
        raise RuntimeError(f"{len(failed(records))} of {len(records)} games failed; first: {first_error(records)}")
