"""Serving one service until it is stopped: the one serve function of the referee, the agent, the human seat and
the fake vendor, called by their `serve` commands and, as `python -m collabgap.services._serve`, by every child a
run starts (`ServiceGroup`), which hands it a `ServeRequest` as JSON on standard input.

Its imports wait inside the functions: the command line imports this module only in the commands that serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

    from collabgap.referee import RefereeSettings
    from collabgap.services.agent import AgentSettings, HumanSettings
    from collabgap.services.fake_llm import FakeVendorSettings
    from collabgap.services.shared import ServeRequest, ServiceName

    Settings = RefereeSettings | AgentSettings | HumanSettings | FakeVendorSettings

PUBLIC_URL_DEADLINE_S = 15.0


class ServeError(Exception):
    """A service could not serve where it was asked to: its port was taken, or its public URL leads elsewhere."""


def settings_of(request: ServeRequest, environ: dict[str, str]) -> Settings:
    """The request's settings, its secret read from `environ`, validated by the service's own model."""
    from collabgap.referee import RefereeSettings
    from collabgap.services.agent import AgentSettings, HumanSettings
    from collabgap.services.fake_llm import FakeVendorSettings

    models: dict[ServiceName, type[Settings]] = {"referee": RefereeSettings, "agent": AgentSettings,
                                                 "human": HumanSettings, "fake-llm": FakeVendorSettings}
    return models[request.service].model_validate(request.settings_with_secret(environ))


def serve_settings(settings: Settings, host: str, port: int) -> None:
    """Serve the service `settings` describe on host:port until stopped. An agent or a person's seat without a
    public URL advertises the address it listens at; a public URL that is given must lead to this very service.

    Raises:
        ServeError: the port could not be bound, or the public URL does not lead here.
        VendorError: an LLM player's key, or a header's variable, is unset.
    """
    from collabgap.referee import RefereeSettings, create_referee_app
    from collabgap.services.agent import AgentSettings, HumanSettings, create_agent_app, create_human_app
    from collabgap.services.fake_llm import FakeVendorSettings, create_fake_vendor_app

    public_url = None if isinstance(settings, FakeVendorSettings) else settings.public_url
    if isinstance(settings, AgentSettings | HumanSettings) and public_url is None:
        settings = settings.model_copy(update={"public_url": f"http://{host}:{port}"})
    app: object
    if isinstance(settings, AgentSettings):
        if settings.vendor is not None:  # fail now, not at the first game, when a variable is missing
            settings.vendor.api_key()
            settings.vendor.headers()
        app = create_agent_app(settings)
    elif isinstance(settings, HumanSettings):
        app = create_human_app(settings)
    elif isinstance(settings, RefereeSettings):
        app = create_referee_app(settings)
    else:
        app = create_fake_vendor_app(settings)
    serve(app, host, port, public_url)


def serve(asgi: object, host: str, port: int, public_url: str | None = None) -> None:
    """Serve an ASGI app until stopped; with a public URL, first prove that it reaches this very service.

    Raises:
        ServeError: the port could not be bound, or the public URL does not lead here.
    """
    asyncio.run(_serve_checked(asgi, host, port, public_url))


async def _serve_checked(asgi: object, host: str, port: int, public_url: str | None) -> None:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(asgi, host=host, port=port, log_level="warning"))  # type: ignore[arg-type]
    serving = asyncio.create_task(server.serve())
    if public_url:
        problem = await _probe_public_url(server, serving, public_url.rstrip("/"))
        if problem:
            server.should_exit = True
            await serving
            raise ServeError(f"--public-url {public_url} does not reach this service: {problem}")
    await serving  # a port that cannot be bound makes uvicorn say so and exit with status 3
    if not server.started:
        raise ServeError(f"cannot serve on {host}:{port}; is the port already taken?")


async def _probe_public_url(server: uvicorn.Server, serving: asyncio.Task[None], url: str) -> str | None:
    import httpx

    deadline = time.monotonic() + PUBLIC_URL_DEADLINE_S
    while not server.started and not serving.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    problem = "the service did not start"
    async with httpx.AsyncClient(timeout=2.0) as http:
        while server.started and time.monotonic() < deadline:
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return None
                problem = "its /healthz does not answer 200"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.2)
    return problem


@contextlib.contextmanager
def known_errors() -> Iterator[None]:
    """Known errors (ours, and settings that do not validate) print as one line and exit 2; tracebacks are for
    bugs."""
    try:
        yield
    except Exception as exc:
        from pydantic import ValidationError  # here, not at the top: `collabgap --help` stays fast

        from collabgap.protocol import CollabgapError

        if not isinstance(exc, CollabgapError | ValidationError | ServeError):
            raise
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - the one line a person or a log reads
        sys.exit(2)


def main() -> None:
    """Serve the `ServeRequest` on standard input, its secret read from this process's environment."""
    from collabgap.services.shared import SERVE_MODULE, ServeRequest

    with known_errors():
        request = ServeRequest.model_validate_json(sys.stdin.buffer.read())
        if sys.argv[1:] != [request.service]:  # the command line names the service, for `ps`; they must agree
            sys.exit(f"usage: python -m {SERVE_MODULE} {request.service} < request.json")
        serve_settings(settings_of(request, dict(os.environ)), request.host, request.port)


if __name__ == "__main__":
    main()
