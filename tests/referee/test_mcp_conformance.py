"""The official MCP conformance suite against a real referee process (MCP at /mcp, default Host allowlist).

Only the suite's server-agnostic scenarios are run: the others need the suite's own fixture tools, resources and
prompts, which the referee does not have. The suite sends no Authorization header, which is enough here: the
referee's MCP endpoint is public, and only its tools check the coordinator or seat token.

The suite is installed from npm into a cache folder outside the repository (see `_conformance.py`). Without npm
this test skips; with npm, a failed install fails it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabgap.services.coordinator import ServiceGroup
from tests.referee import _conformance
from tests.referee._conformance import Suite

LEGACY = "2025-11-25"
"""The stateful wire: initialize handshake and session ids."""
MODERN = "2026-07-28"
"""The stateless wire: the protocol version travels in each request's `_meta`."""

SCENARIOS = [
    *((scenario, LEGACY) for scenario in (
        "server-initialize", "server-session-lifecycle", "ping", "tools-list", "resources-list", "prompts-list",
        "server-sse-multiple-streams", "dns-rebinding-protection",
    )),
    *((scenario, MODERN) for scenario in (
        "tools-list", "resources-list", "prompts-list", "sep-2164-resource-not-found", "caching",
        "http-header-validation", "server-sse-multiple-streams", "input-required-result-unsupported-methods",
        "dns-rebinding-protection",
    )),
]


@pytest.fixture(scope="module")
def suite() -> Suite:
    try:
        return _conformance.ensure_suite()
    except _conformance.Unavailable as exc:
        pytest.skip(f"MCP conformance suite unavailable: {exc}")
    except _conformance.InstallFailed as exc:
        problem = str(exc)  # failed outside the except block, so that npm's output is shown once
    pytest.fail(f"installing the MCP conformance suite failed:\n{problem}", pytrace=False)


@pytest.fixture(scope="module")
def referee_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ServiceGroup(log_dir=tmp_path_factory.mktemp("conformance-referee-logs")) as services:
        yield services.start_referee(secrets.token_urlsafe(16))


@pytest.mark.parametrize(("scenario", "spec_version"), SCENARIOS, ids=[f"{s}@{v}" for s, v in SCENARIOS])
def test_scenario_passes(suite: Suite, referee_url: str, scenario: str, spec_version: str, tmp_path: Path) -> None:
    result = suite.run(referee_url, scenario, spec_version, tmp_path)

    assert result.returncode == 0, f"{scenario} at {spec_version}: {result.explain()}"
    assert result.checks, f"{scenario} at {spec_version} wrote no checks.json: {result.explain()}"
    assert not result.failures(), f"{scenario} at {spec_version}: {result.explain()}"
