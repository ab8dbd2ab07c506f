"""The fake vendor's ASGI app: the OpenAI and Anthropic chat endpoints over the scripted models of `_models`.

Routes:
    `POST /v1/chat/completions`  OpenAI Chat Completions (streaming or not).
    `POST /v1/messages`          Anthropic Messages (streaming or not).
    `GET  /v1/models`            The models, in OpenAI's list shape (Anthropic's when `anthropic-version` is sent).
    `GET  /healthz`              Liveness.
    `POST /_fake/faults`         Test-double control: replace the fault rules.
    `GET  /_fake/stats`          Test-double control: requests per endpoint and faults fired per kind.

The `/_fake/` endpoints exist only because this is a test double: they let a test start a 429 storm at run time
and then check that it happened. No real vendor has them, and clients must never depend on them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from collabgap.protocol import CollabgapError

from ._anthropic import AnthropicDialect
from ._dialect import (
    ChatRequest,
    Completion,
    Dialect,
    FakeVendorError,
    complete,
    describe,
    dumps,
)
from ._faults import FAULT_KINDS, FaultPlan, FaultRule, Latency, draw_delay
from ._models import MODELS, UnknownModelError, respond
from ._openai import OpenAIDialect

logger = logging.getLogger(__name__)

SERVICE = "collabgap-fake-llm"
OWNER = "collabgap-fake"
CUT_AFTER_CHUNKS = 2
"""Content chunks a `cut_stream` fault sends before it closes the stream."""


class FakeVendorSettings(BaseModel):
    """How the fake vendor behaves; validated once, at the edge (e.g. `FakeVendorSettings.model_validate_json`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr | None = None
    """When set, every API call must carry exactly this key (`Authorization: Bearer` for OpenAI, `x-api-key` for
    Anthropic, and either for `/_fake/`); when None, any non-empty key is accepted, but one is still required."""
    seed: int = 0
    """Seeds the latency draws and the fault draws, so misbehaviour is reproducible."""
    latency: Latency = 0.0
    """Seconds each chat request waits before it is answered: fixed, or `{"kind": "uniform", "low", "high"}`,
    or `{"kind": "lognormal", "median", "sigma"}`."""
    faults: tuple[FaultRule, ...] = ()
    """The fault rules at start; `POST /_fake/faults` replaces them at run time."""
    hang_limit: float = Field(600.0, gt=0.0, le=3600.0)
    """Seconds a `hang` fault holds a request whose client stays connected, so server shutdown still finishes.
    After it the request gets a 500."""


class _FaultsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    faults: tuple[FaultRule, ...]


class _Vendor:
    """One app's state: settings, fault plan, random draws and counters (per server process)."""

    def __init__(self, settings: FakeVendorSettings) -> None:
        self.settings = settings
        self.latency_rng = random.Random(settings.seed)
        self.faults = FaultPlan(settings.faults, random.Random(f"faults:{settings.seed}"))
        self.requests: Counter[str] = Counter()
        self.fired: Counter[str] = Counter()

    def authenticate(self, dialect: Dialect, headers: Mapping[str, str]) -> None:
        """Raise `FakeVendorError` unless the request carries a key, and the configured one when one is configured."""
        key = dialect.credential(headers)
        if key is None:
            raise FakeVendorError("authentication", "no API key was provided", code="invalid_api_key")
        expected = self.settings.api_key
        if expected is not None and not hmac.compare_digest(key.encode(), expected.get_secret_value().encode()):
            raise FakeVendorError("authentication", "the API key is not valid", code="invalid_api_key")

    async def chat(self, dialect: Dialect, request: Request) -> Response:
        """One chat request, start to finish, in `dialect`'s wire format.

        In order: key (401), required headers and body (400), model (404), then the fault draw and the latency
        sleep, then the answer or the fault. So rejections come at once, and faults hit only valid requests.
        """
        self.requests[dialect.path] += 1
        try:
            self.authenticate(dialect, request.headers)
            dialect.check_headers(request.headers)
            asked = dialect.parse(await _json_body(request))
            completion = _answer(asked, dialect)
        except pydantic.ValidationError as exc:
            return _error(dialect, FakeVendorError("invalid_request", describe(exc)))
        except FakeVendorError as exc:
            return _error(dialect, exc)
        fault = self.faults.draw(asked.model)
        await asyncio.sleep(draw_delay(self.settings.latency, self.latency_rng))
        if fault is None:
            return _stream(dialect, completion, asked) if asked.stream else JSONResponse(dialect.body(completion))
        self.fired[fault.kind] += 1
        logger.info("fault %s fired on %s for model %s", fault.kind, dialect.path, asked.model)
        return await self._misbehave(fault, dialect, completion, asked, request)

    async def _misbehave(self, fault: FaultRule, dialect: Dialect, completion: Completion, asked: ChatRequest,
                         request: Request) -> Response:
        if fault.kind == "rate_limit":
            seconds = fault.retry_after_header()
            headers = {"Retry-After": seconds, "retry-after-ms": str(round(fault.retry_after * 1000))}
            return _error(dialect, FakeVendorError("rate_limit", f"rate limit reached; retry after {seconds} s",
                                               code="rate_limit_exceeded", headers=headers))
        if fault.kind == "server_error":
            return _error(dialect, FakeVendorError("server_error", "the server had an error processing your request"))
        if fault.kind == "hang":
            await _hang(request, self.settings.hang_limit)
            return _error(dialect, FakeVendorError("server_error", "the request hung and was given up"))
        if fault.kind == "echo_key":
            key = dialect.credential(request.headers)
            return _error(dialect, FakeVendorError("authentication", f"Incorrect API key provided: {key}.",
                                               code="invalid_api_key"))
        if fault.kind == "cut_stream" and asked.stream:
            return _stream(dialect, completion, asked, cut=True)
        if fault.kind == "empty":
            silent = dataclasses.replace(completion, text="", chunks=(), completion_tokens=0, tool_calls=(),
                                         finish="stop")
            return _stream(dialect, silent, asked) if asked.stream else JSONResponse(dialect.body(silent))
        body = dumps(dialect.body(completion))
        # A proper prefix of a JSON object is never JSON: its closing brace is the last character.
        return Response(body[:len(body) // 2], media_type="application/json")

    async def replace_faults(self, request: Request) -> Response:
        """Install `{"faults": [...]}` in place of the current rules and answer with the rules now installed."""
        if (problem := self._control_auth(request)) is not None:
            return problem
        try:
            update = _FaultsUpdate.model_validate(await _json_body(request))
        except pydantic.ValidationError as exc:
            return JSONResponse({"error": describe(exc)}, status_code=400)
        except FakeVendorError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        self.faults.replace(update.faults)
        return JSONResponse({"faults": [rule.model_dump(mode="json") for rule in self.faults.rules]})

    async def stats(self, request: Request) -> Response:
        """Requests per API endpoint (rejected ones included) and faults fired per kind, since the app started."""
        if (problem := self._control_auth(request)) is not None:
            return problem
        paths = (OpenAIDialect.path, AnthropicDialect.path, "/v1/models")
        return JSONResponse({
            "requests": {path: self.requests[path] for path in paths},
            "faults": {kind: self.fired[kind] for kind in FAULT_KINDS},
        })

    async def models(self, request: Request) -> Response:
        """The models in OpenAI's list shape, or in Anthropic's for a request that sends `anthropic-version`."""
        self.requests["/v1/models"] += 1
        anthropic = "anthropic-version" in request.headers
        dialect: Dialect = AnthropicDialect() if anthropic else OpenAIDialect()
        try:
            self.authenticate(dialect, request.headers)
        except FakeVendorError as exc:
            return _error(dialect, exc)
        names = sorted(MODELS)
        if anthropic:
            data = [{"type": "model", "id": name, "display_name": name, "created_at": "2025-01-01T00:00:00Z"}
                    for name in names]
            return JSONResponse({"data": data, "has_more": False, "first_id": names[0], "last_id": names[-1]})
        return JSONResponse({"object": "list",
                             "data": [{"id": name, "object": "model", "created": 0, "owned_by": OWNER}
                                      for name in names]})

    def _control_auth(self, request: Request) -> Response | None:
        """The `/_fake/` endpoints are open unless an API key is configured; then they take it either way."""
        if self.settings.api_key is None:
            return None
        for dialect in (OpenAIDialect(), AnthropicDialect()):
            try:
                self.authenticate(dialect, request.headers)
                return None
            except FakeVendorError:
                continue
        return JSONResponse({"error": "the control endpoints need the configured API key"}, status_code=401)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FakeVendorError("invalid_request", f"the request body is not valid JSON: {exc}") from exc


def _answer(chat: ChatRequest, dialect: Dialect) -> Completion:
    """The model's completion, with model failures translated to vendor errors and tool calls given ids."""
    try:
        reply = respond(chat.model, chat.turns, chat.tools)
    except UnknownModelError as exc:
        raise FakeVendorError("not_found", str(exc), code="model_not_found") from exc
    except CollabgapError as exc:  # the scripted model cannot read this conversation (e.g. no map in the task)
        raise FakeVendorError("invalid_request",
                              f"model {chat.model!r} cannot answer this conversation: {exc}") from exc
    calls = tuple(dataclasses.replace(call, id=f"{dialect.tool_id_prefix}{uuid.uuid4().hex[:24]}")
                  for call in reply.tool_calls)
    return complete(chat, reply.text, id=f"{dialect.id_prefix}{uuid.uuid4().hex}", created=int(time.time()),
                    tool_calls=calls)


def _error(dialect: Dialect, error: FakeVendorError) -> JSONResponse:
    return JSONResponse(dialect.error_body(error), status_code=error.status, headers=error.headers)


def _stream(dialect: Dialect, completion: Completion, chat: ChatRequest, *, cut: bool = False) -> StreamingResponse:
    frames = dialect.frames(completion, chat)
    content = frames.content[:CUT_AFTER_CHUNKS] if cut else frames.content
    parts = frames.head + content + ([] if cut else frames.tail)

    async def events() -> AsyncIterator[str]:
        for part in parts:
            yield part

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def _hang(request: Request, limit: float) -> None:
    """Wait until the client disconnects, or `limit` seconds pass."""
    try:
        async with asyncio.timeout(limit):
            # The body is read, so the next message is the disconnect; servers block until it comes.
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        logger.warning("a hang fault gave up after %s s with the client still connected", limit)


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": SERVICE})


def create_fake_vendor_app(settings: FakeVendorSettings) -> Starlette:
    """The fake vendor: serve it with uvicorn, or call it in process through `httpx.ASGITransport`.

    Each app counts its own requests and fault draws, so one app is one vendor process.
    """
    vendor = _Vendor(settings)
    openai, anthropic = OpenAIDialect(), AnthropicDialect()

    async def chat_completions(request: Request) -> Response:
        return await vendor.chat(openai, request)

    async def messages(request: Request) -> Response:
        return await vendor.chat(anthropic, request)

    return Starlette(routes=[
        Route(openai.path, chat_completions, methods=["POST"]),
        Route(anthropic.path, messages, methods=["POST"]),
        Route("/v1/models", vendor.models, methods=["GET"]),
        Route("/healthz", _health, methods=["GET"]),
        Route("/_fake/faults", vendor.replace_faults, methods=["POST"]),
        Route("/_fake/stats", vendor.stats, methods=["GET"]),
    ])
