from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def llm_options(vendor_url: str, kind: str) -> list[str]:
    base = f"{vendor_url}/v1" if kind == "openai" else vendor_url
    return ["--base-url", base, "--api-key-env", "COLLABGAP_TEST_KEY", "--timeout", "2", "--max-retries", "5",
            "--backoff", "0.01"]


@pytest.fixture(scope="session")
def llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMStack]:
    logs = tmp_path_factory.mktemp("llm-logs")
    env = {"COLLABGAP_TEST_KEY": FAKE_KEY}
    with ServiceGroup(log_dir=logs) as services:
        vendor = services.start_fake_vendor()

        def agent(name: str, spec: str) -> SeatSpec:
            kind = spec.split(":", 1)[0]
            return SeatSpec(name=name, url=services.start_agent(spec, *llm_options(vendor, kind), env=env))

        yield LLMStack(
            vendor_url=vendor, logs=logs,
            openai_cartographer=agent("gpt-sim-cartographer", "openai:sim-cartographer"),
            anthropic_cartographer=agent("claude-sim-cartographer", "anthropic:sim-cartographer"),
            openai_follower=agent("gpt-sim-follower", "openai:sim-follower"),
            coords=agent("gpt-sim-coords", "openai:sim-coords"),
            grader=agent("grader", "openai:sim-grader"),
        )
