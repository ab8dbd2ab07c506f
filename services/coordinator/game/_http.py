"""HTTP plumbing shared by the coordinator's clients: one TLS context per process, pooled connections, and
transport failures that say what failed."""

from __future__ import annotations

import functools
import ssl
from typing import TypedDict

import httpx

CONNECT_RETRIES = 2
"""Extra tries of a connection that was refused or reset while connecting; a request is never sent twice."""
KEEPALIVE_S = 2.0
"""How long an idle pooled connection is kept: well under the 5 s after which our services (uvicorn) close
theirs, so a request is never written to a connection the server is closing at that moment."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every client of this process, built once: building one reads the CA bundle (≈25 ms)."""
    return httpx.create_ssl_context()


class PoolLimits(TypedDict):
    max_connections: int | None
    max_keepalive_connections: int | None
    keepalive_expiry: float


def pool_size(connections: int | None) -> PoolLimits:
    """The pool limits of one endpoint's client, as keyword arguments of `httpx.Limits` / `httpx2.Limits`.

    `connections` is how many requests to the endpoint can be in flight at once (the games in flight; None:
    unbounded). Every one of them keeps its connection, so a busy run opens no connection twice; a request past
    the limit waits for a free connection instead of failing.
    """
    return PoolLimits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=KEEPALIVE_S)
