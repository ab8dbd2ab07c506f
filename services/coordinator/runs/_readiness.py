"""Wait until the services a run names by URL are ready, so that a run started beside them (compose, a Job)
does not begin before they do.

The referee is ready when its `/readyz` answers 200; an agent, when its agent card answers 200 (every A2A
agent serves one, so a third-party agent is waited for too). Only the status is waited for, never the body: an
agent that is up but sends its card slowly is ready here, and its own games end on the card's deadline, so one
slow agent cannot hold up the run. One deadline covers the whole wait, each probe included.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from collabgap.services.shared import describe

from .._errors import ConfigError
from ..game._card import CARD_PATH
from ..game._http import tls_context
from ._runfile import RunFile

READY_TIMEOUT_S = 120.0
"""How long a run waits, at most, for its referee and agents to become ready."""
PROBE_TIMEOUT_S = 5.0
"""The most one probe may take (less when the deadline is nearer)."""
PROBE_INTERVAL_S = 0.5


@dataclass(frozen=True)
class ReadinessProbe:
    """One service to wait for: `name` for messages (`referee`, `agent follower`), `url` the address probed."""

    name: str
    url: str


def readiness_probes(run: RunFile) -> list[ReadinessProbe]:
    """The probes of the services `run` names by URL: its referee, then its agents (those it starts itself are
    waited for as they start)."""
    probes = []
    if run.referee is not None:
        probes.append(ReadinessProbe("referee", urljoin(str(run.referee.url), "/readyz")))
    for name, agent in run.agents.items():
        if agent.url is not None:
            probes.append(ReadinessProbe(f"agent {name}", str(agent.url).rstrip("/") + CARD_PATH))
    return probes


async def wait_until_ready(probes: list[ReadinessProbe], timeout_s: float = READY_TIMEOUT_S) -> None:
    """Return once every probe has answered 200 (each needs to answer once).

    Raises:
        ConfigError: some were not ready within `timeout_s`; the message names each, with its last answer.
    """
    deadline = time.monotonic() + timeout_s
    pending = list(probes)
    async with httpx.AsyncClient(verify=tls_context(), follow_redirects=False) as http:
        while pending:
            answers = await asyncio.gather(*(_probe(http, probe.url, deadline) for probe in pending))
            failed = {probe: answer for probe, answer in zip(pending, answers, strict=True) if answer is not None}
            if failed and deadline - time.monotonic() < 2 * PROBE_INTERVAL_S:  # no room for one more probe
                names = "; ".join(f"{probe.name} ({probe.url}: {answer})" for probe, answer in failed.items())
                raise ConfigError(f"not ready after {timeout_s:g} s: {names}. Start it, or correct its URL in the "
                                  "run file")
            pending = list(failed)
            if pending:
                await asyncio.sleep(PROBE_INTERVAL_S)


async def _probe(http: httpx.AsyncClient, url: str, deadline: float) -> str | None:
    """None when `url` answers 200 before the deadline; otherwise what happened instead."""
    budget = min(PROBE_TIMEOUT_S, deadline - time.monotonic())
    try:
        async with asyncio.timeout(budget):
            async with http.stream("GET", url, timeout=None) as response:  # the deadline above bounds it
                status = response.status_code  # leaving the block closes the stream: the body is never read
    except TimeoutError:
        return f"no answer within {budget:.1f} s"
    except httpx.HTTPError as exc:
        return describe(exc)
    return None if status == 200 else f"HTTP {status}"
