from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from collabgap.services.agent import AgentSettings, VendorSpec
from collabgap.services.coordinator import SeatSpec, ServiceGroup
from tests._serving import serving

from ._rude_agent import app


@pytest.fixture(scope="session")
def rude_agent() -> Iterator[str]:
    """Base URL of the misbehaving agent server, served by uvicorn in a thread on a loopback port."""
    with serving(app) as url:
        yield url


FAKE_KEY = "sk-collabgap-test-5f1d0c3a9e"
"""The API key the LLM agents hold in tests; it must never reach a stored file or a log."""


@dataclass(frozen=True)
class LLMStack:
    """The fake vendor and LLM agent services on top of it."""

    vendor_url: str
    logs: Path
    openai_cartographer: SeatSpec
    anthropic_cartographer: SeatSpec
    openai_follower: SeatSpec
    coords: SeatSpec
    grader: SeatSpec


def llm_agent(spec: str, vendor_url: str, *, referee_direct: bool = False) -> AgentSettings:
    """An LLM player on the fake vendor at `vendor_url`: its key in COLLABGAP_TEST_KEY, short timeouts, quick
    retries."""
    kind, _, model = spec.partition(":")
    base = f"{vendor_url}/v1" if kind == "openai" else vendor_url
    vendor = VendorSpec.model_validate({"kind": kind, "model": model, "base_url": base,
                                        "api_key_env": "COLLABGAP_TEST_KEY", "timeout_s": 2,
                                        "retry": {"max_retries": 5, "backoff_s": 0.01}})
    return AgentSettings(player=spec, vendor=vendor, referee_direct=referee_direct)


@pytest.fixture(scope="session")
def llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMStack]:
    logs = tmp_path_factory.mktemp("llm-logs")
    env = {"COLLABGAP_TEST_KEY": FAKE_KEY}
    with ServiceGroup(log_dir=logs) as services:
        vendor = services.start_fake_vendor()

        def agent(name: str, spec: str) -> SeatSpec:
            return SeatSpec(name=name, url=services.start_agent(llm_agent(spec, vendor), env=env))

        yield LLMStack(
            vendor_url=vendor, logs=logs,
            openai_cartographer=agent("gpt-sim-cartographer", "openai:sim-cartographer"),
            anthropic_cartographer=agent("claude-sim-cartographer", "anthropic:sim-cartographer"),
            openai_follower=agent("gpt-sim-follower", "openai:sim-follower"),
            coords=agent("gpt-sim-coords", "openai:sim-coords"),
            grader=agent("grader", "openai:sim-grader"),
        )
