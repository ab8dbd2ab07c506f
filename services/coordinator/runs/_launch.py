"""Start collabgap services as child processes on free loopback ports, and stop every one of them.

A child sees only what it needs (`child_environment`): the variables any process needs to run, and the secrets
it is handed by name. Secrets travel in the environment, never on a command line, where `ps` would show them.
Each service is started from its settings object, handed to the child as JSON on its standard input.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import httpx
from pydantic import BaseModel, JsonValue

from collabgap.services.shared import SECRET_VARIABLES, SERVE_MODULE, ServeRequest, ServiceName, secret_environment

from .._errors import ConfigError

if TYPE_CHECKING:
    from collabgap.services.agent import AgentSettings, HumanSettings
    from collabgap.services.fake_llm import FakeVendorSettings

READY_TIMEOUT_S = 30.0
PR_SET_PDEATHSIG = 1
PASSED_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "NO_COLOR", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "VIRTUAL_ENV", "LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy",
})
"""Variables every child gets as they are: what a process needs to run, find its files and reach the network."""
PASSED_PREFIXES = ("LC_", "PYTHON", "COLLABGAP_")
"""Variables every child gets by prefix (locale, the interpreter's settings, collabgap's own settings)..."""
SECRET_WORDS = ("TOKEN", "KEY", "PASSWORD", "SECRET", "CREDENTIAL", "URL")
"""...unless the name holds one of these words: a secret goes only to the child it is handed to."""


def child_environment(secrets: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment of a child service: the allowed variables of `environ`, and `secrets` (name → value).

    API keys, agent and referee tokens and database passwords in `environ` stay here: a referee never sees a
    vendor key, and an agent sees only the key it is handed.
    """
    def passed(name: str) -> bool:
        if name in PASSED_NAMES:
            return True
        return name.startswith(PASSED_PREFIXES) and not any(word in name.upper() for word in SECRET_WORDS)

    return {**{name: value for name, value in environ.items() if passed(name)}, **secrets}


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


class ServiceGroup:
    """Child services that live exactly as long as the `with` block, Ctrl-C included.

    Example:
        >>> with ServiceGroup() as group:                                # doctest: +SKIP
        ...     referee = group.start_referee(token="secret")
        ...     agent = group.start_agent(AgentSettings(player="scripted:cartographer", max_body=4096))
    """

    def __init__(self, log_dir: Path | None = None) -> None:
        self._stack = contextlib.ExitStack()
        self._log_dir = log_dir
        self.services: list[ServiceProcess] = []

    def __enter__(self) -> ServiceGroup:
        if self._log_dir is None:
            self._log_dir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="collabgap-")))
        self._log_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for service in reversed(self.services):
            _stop(service.process)
        self._stack.close()

    def start_referee(self, token: str) -> str:
        """Start a referee whose coordinator token is `token`; returns its MCP URL."""
        return self.start("referee", {}, env={SECRET_VARIABLES["referee"][1]: token}) + "/mcp"

    def start_agent(self, settings: AgentSettings | str, *, env: dict[str, str] | None = None) -> str:
        """Start an agent service (a player spec alone: with the default settings); returns its base URL.

        `env` holds the secrets it needs by name: its API key variable, its `COLLABGAP_AGENT_TOKEN`.
        """
        player = settings if isinstance(settings, str) else settings.player
        return self.start("agent", {"player": settings} if isinstance(settings, str) else settings, env=env,
                          name=player.replace(":", "-").replace("/", "-"))

    def start_human(self, settings: HumanSettings) -> str:
        """Start a person's seat; returns its base URL, where the person opens the page."""
        return self.start("human", settings)

    def start_fake_vendor(self, settings: FakeVendorSettings | None = None, *,
                          env: dict[str, str] | None = None) -> str:
        """Start the fake LLM vendor (default settings when None); returns its base URL (OpenAI API under `/v1`).

        `env` may hold `COLLABGAP_FAKE_LLM_KEY`, the one key it then accepts.
        """
        return self.start("fake-llm", {} if settings is None else settings, env=env)

    def start(self, service: ServiceName, settings: BaseModel | dict[str, JsonValue], *, name: str | None = None,
              env: dict[str, str] | None = None) -> str:
        """Start `service` with `settings` (its settings model, or their fields as JSON) on a free loopback port;
        returns its base URL once it is ready.

        The child (`python -m collabgap.services._serve`) reads the settings on its standard input and validates
        them with the same model. Their secret, and the secrets in `env` (name -> value), reach it only in its
        environment.
        """
        return self.start_process(
            name or service, lambda port: [sys.executable, "-m", SERVE_MODULE, service],  # `ps` names the service
            env={**secret_environment(service, settings), **(env or {})},
            stdin=lambda port: ServeRequest.of(service, settings, port).model_dump_json().encode())

    def start_process(self, name: str, argv: Callable[[int], list[str]], *, env: dict[str, str] | None = None,
                      ready_path: str = "/healthz", stdin: Callable[[int], bytes] | None = None) -> str:
        """Start any HTTP service whose command line `argv(port)` (and standard input `stdin(port)`) makes it
        listen on 127.0.0.1:port; returns its base URL once `ready_path` answers 200. It is stopped with the group,
        like every collabgap service.

        Its environment is `child_environment(env)`: secrets only by name in `env`, never in `argv`.
        """
        assert self._log_dir is not None, "use ServiceGroup in a with block"
        port = free_port()
        log = self._log_dir / f"{name}-{port}.log"
        with log.open("wb") as sink:
            # Its own session: a Ctrl-C at the terminal reaches the run, which stops its games before the
            # services go (the group stops them on exit); a service that died first would fail games in flight.
            process = subprocess.Popen(argv(port), stdout=sink, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                       env=child_environment(env or {}), preexec_fn=_die_with_parent,
                                       start_new_session=True)
        if stdin is not None:
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError), process.stdin:  # died at once: its log says why, below
                process.stdin.write(stdin(port))
        service = ServiceProcess(name, f"http://127.0.0.1:{port}", process, log)
        self.services.append(service)
        _wait_ready(service, ready_path)
        return service.url


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask for SIGTERM when the parent dies, even by SIGKILL.

    So a killed run leaves no services behind to hold ports and memory.
    """
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_ready(service: ServiceProcess, path: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                tail = service.log.read_text(errors="replace")[-2000:]
                raise ConfigError(f"{service.name} exited with code {service.process.returncode}:\n{tail}")
            with contextlib.suppress(httpx.TransportError):
                if http.get(f"{service.url}{path}").status_code == 200:
                    return
            time.sleep(0.05)
    raise ConfigError(f"{service.name} did not become ready at {service.url} within {READY_TIMEOUT_S:g} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
