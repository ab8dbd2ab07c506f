"""Calls to a vendor's HTTP API with one retry policy, one concurrency limit and one timeout per endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx

from collabgap.services.shared import retrying

from ._base import VendorError, VendorSpec
from ._scrub import scrub

logger = logging.getLogger(__name__)
T = TypeVar("T")
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


class RetryableError(VendorError):
    """One attempt failed in a way a later attempt may not: rate limit, server error, timeout, garbled answer."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the vendor asks us to wait (`retry-after-ms` or `Retry-After` in seconds)."""
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


def check_status(response: httpx.Response, body: bytes) -> None:
    """Raise for an error status, retryable or not, with the vendor's own message when it sent one."""
    if response.status_code < 400:
        return
    try:
        detail = json.loads(body).get("error", {})
        message = detail.get("message", "") if isinstance(detail, dict) else str(detail)
    except (ValueError, AttributeError):
        message = ""
    text = f"HTTP {response.status_code}{': ' + message[:300] if message else ''}"
    if response.status_code in RETRYABLE_STATUS:
        raise RetryableError(text, retry_after(response))
    raise VendorError(text)


def is_event_stream(response: httpx.Response) -> bool:
    """Whether the answer is a stream; some compatible servers ignore `stream: true` and answer whole."""
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("text/event-stream")


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str | None, str]]:
    """(event, data) pairs of a server-sent event stream."""
    event: str | None = None
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    if data:
        yield event, "\n".join(data)


class EndpointClient:
    """The shared connection pool, concurrency limit and retry loop of one vendor endpoint."""

    def __init__(self, spec: VendorSpec, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.spec = spec
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(spec.timeout_s, connect=min(10.0, spec.timeout_s)),
                                      transport=transport)
        self._limit = asyncio.Semaphore(spec.max_concurrency)

    async def call(self, attempt: Callable[[], Awaitable[T]]) -> tuple[T, int, float]:
        """Run `attempt` until it succeeds or the spec's retry policy gives up; returns (result, attempts, seconds).

        Every reason, logged or raised, is scrubbed of secrets first: a vendor's message may repeat our key.

        Raises:
            VendorError: not retryable, or still failing after every retry (the last reason is given).
        """
        retries = 0

        def note(retry: int, failure: RetryableError, wait: float) -> None:
            nonlocal retries
            retries = retry
            logger.info("%s %s: %s; retrying in %.2f s", self.spec.kind, self.spec.model, failure, wait)

        started = time.perf_counter()
        try:
            result = await retrying(self.spec.retry, lambda: self._once(attempt), (RetryableError,), on_retry=note,
                                    retry_after=lambda failure: failure.retry_after)
        except RetryableError as failure:
            raise VendorError(f"{self.spec.kind} {self.spec.model}: {failure} "
                              f"(gave up after {retries + 1} attempts)") from failure
        return result, retries + 1, time.perf_counter() - started

    async def _once(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """One attempt under the concurrency limit, its failure scrubbed and raised as retryable or not."""
        failure: VendorError
        try:
            async with self._limit:
                return await attempt()
        except httpx.TimeoutException as exc:
            failure = RetryableError(f"no answer within {self.spec.timeout_s:g} s ({type(exc).__name__})")
        except httpx.TransportError as exc:
            failure = RetryableError(self.scrub(f"connection failed: {type(exc).__name__}: {exc}"))
        except RetryableError as exc:
            failure = RetryableError(self.scrub(str(exc)), exc.retry_after)
        except VendorError as exc:
            failure = VendorError(self.scrub(str(exc)))
        raise failure  # outside the except block, so the unscrubbed error is not even its context

    def headers(self, auth: dict[str, str]) -> dict[str, str]:
        """The spec's extra headers (read from the environment where it says `env:`), then `auth`."""
        return {**self.spec.headers(), **auth}

    def scrub(self, text: str) -> str:
        """`text` without the spec's key and secret headers, nor anything else that looks like a key."""
        return scrub(text, self.spec.secrets())

    def body(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {**fields, **self.spec.extra_body}

    async def aclose(self) -> None:
        await self.http.aclose()
