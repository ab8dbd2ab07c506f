"""Every process a benchmark talks to, each started by `ServiceGroup` on 127.0.0.1, with its process id."""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from collabgap.services.agent import AgentSettings, VendorSpec
from collabgap.services.coordinator import ServiceGroup
from collabgap.services.fake_llm import FakeVendorSettings

HERE = Path(__file__).resolve().parent
SCRIPTED = "scripted:cartographer"
LLM = "openai:sim-cartographer"
LATENCY_S = 0.2
"""The fake vendor's fixed latency in the latency-bound run."""
MAX_CONCURRENCY = 512
"""The LLM agents' `--max-concurrency`: above every number of games in flight, so the agent never queues calls."""
KEY_VARIABLE = "COLLABGAP_BENCH_KEY"
FAKE_KEY = "sk-fake-bench"  # the fake vendor accepts any key


@dataclass(frozen=True)
class Service:
    url: str
    pid: int


@dataclass(frozen=True)
class Stack:
    referee: Service
    """The referee's MCP endpoint (`…/mcp`)."""
    token: SecretStr
    scripted: Service
    """An agent service hosting the scripted cartographer."""
    llm: Service
    """An agent service hosting `openai:sim-cartographer`, on a fake vendor answering at once."""
    llm_slow: Service
    """The same, on a fake vendor answering after `LATENCY_S`."""
    slow_vendor: Service
    echo: Service
    """The bare a2a-sdk echo agent."""
    bare_mcp: Service
    """The bare `mcp` server (MCP at `…/mcp`)."""


@contextlib.contextmanager
def start_stack(log_dir: Path | None = None) -> Iterator[Stack]:
    """Start every service, side by side (the LLM agents once their vendors answer); all stop when the block ends.

    Their logs go to `log_dir` when given (kept), else to a temporary folder.
    """
    token = secrets.token_urlsafe(24)
    with ServiceGroup(log_dir) as group, ThreadPoolExecutor(max_workers=6) as pool:

        def start(launch: Callable[[], str]) -> Future[Service]:
            def started() -> Service:
                url = launch()
                return Service(url, next(s.process.pid for s in group.services if s.url == url.removesuffix("/mcp")))
            return pool.submit(started)

        def script(name: str, file: str, ready_path: str) -> Callable[[], str]:
            return lambda: group.start_process(name, lambda port: [sys.executable, str(HERE / file), str(port)],
                                               ready_path=ready_path)

        def llm_agent(vendor: Service) -> Callable[[], str]:
            spec = VendorSpec.model_validate({"kind": "openai", "model": LLM.partition(":")[2],
                                              "base_url": f"{vendor.url}/v1", "api_key_env": KEY_VARIABLE,
                                              "max_concurrency": MAX_CONCURRENCY})
            return lambda: group.start_agent(AgentSettings(player=LLM, vendor=spec), env={KEY_VARIABLE: FAKE_KEY})

        referee, scripted = start(lambda: group.start_referee(token)), start(lambda: group.start_agent(SCRIPTED))
        vendor, slow_vendor = start(group.start_fake_vendor), start(lambda: group.start_fake_vendor(
            FakeVendorSettings(latency=LATENCY_S)))
        echo = start(script("echo", "_echo_agent.py", "/.well-known/agent-card.json"))
        bare_mcp = start(script("bare-mcp", "_bare_mcp.py", "/healthz"))
        llm, llm_slow = start(llm_agent(vendor.result())), start(llm_agent(slow_vendor.result()))
        bare = bare_mcp.result()
        yield Stack(referee=referee.result(), token=SecretStr(token), scripted=scripted.result(), llm=llm.result(),
                    llm_slow=llm_slow.result(), slow_vendor=slow_vendor.result(), echo=echo.result(),
                    bare_mcp=Service(f"{bare.url}/mcp", bare.pid))
