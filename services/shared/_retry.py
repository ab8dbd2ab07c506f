"""The one retry policy of collabgap: how many times a failed call is made again, how long to wait before each
retry (exponential backoff, capped, with jitter, at least what a server asked for with Retry-After), and
`retrying`, which runs a call under a policy. Vendor calls, store saves and replayed episodes each keep their own
parameters; only what the caller names is retried, so a failure that a later try cannot mend surfaces at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

_RANDOM = random.Random()


class RetryPolicy(BaseModel):
    """Exponential backoff with jitter, capped, honouring a server's Retry-After. The defaults are the model
    vendors' (the agent's `--max-retries`, `--backoff`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(5, ge=0, le=50)
    """Retries after the first attempt."""
    backoff_s: float = Field(0.5, ge=0)
    """First backoff; each retry doubles it."""
    max_backoff_s: float = Field(30.0, ge=0)
    """Cap on one wait, Retry-After included."""
    jitter: float = Field(0.5, ge=0, le=1)
    """Each backoff is scaled by a random factor in [1 - jitter, 1], so clients that failed together spread apart."""

    def wait_s(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (1 for the first); at least `retry_after`, at most the cap."""
        backoff = self.backoff_s * 2.0 ** (retry - 1) * _RANDOM.uniform(1.0 - self.jitter, 1.0)
        return min(self.max_backoff_s, max(backoff, retry_after or 0.0))


async def retrying(policy: RetryPolicy, call: Callable[[], Awaitable[T]], retry_on: tuple[type[E], ...], *,
                   on_retry: Callable[[int, E, float], None] | None = None,
                   retry_after: Callable[[E], float | None] | None = None) -> T:
    """Await `call()` until it returns, retrying the exceptions `retry_on` names as `policy` says.

    `on_retry(retry, failure, wait_s)` is told of each retry before its wait (to log it, or to keep the failed
    attempt); `retry_after(failure)` reads the seconds a server asked for, if any.

    Raises:
        E: the last failure, as raised, once `policy.max_retries` retries failed too.
        BaseException: whatever else `call` raised, at once.
    """
    retry = 0
    while True:
        try:
            return await call()
        except retry_on as exc:
            if retry == policy.max_retries:
                raise
            failure = exc
        retry += 1
        wait = policy.wait_s(retry, retry_after(failure) if retry_after else None)
        if on_retry is not None:
            on_retry(retry, failure, wait)
        await asyncio.sleep(wait)
