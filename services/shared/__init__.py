"""What agent and coordinator share beyond protocol; imports only protocol and libraries."""

from __future__ import annotations

from ._describe import describe
from ._referee import RefereeSession, RefereeToolError, RefereeUnavailableError, open_referee
from ._retry import RetryPolicy, retrying
from ._serving import SECRET_VARIABLES, SERVE_MODULE, ServeRequest, ServiceName, secret_environment

__all__ = [
    "RefereeSession", "RefereeToolError", "RefereeUnavailableError", "RetryPolicy", "SECRET_VARIABLES",
    "SERVE_MODULE", "ServeRequest", "ServiceName", "describe", "open_referee", "retrying",
    "secret_environment",
]
