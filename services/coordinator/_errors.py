"""Errors of the coordinator. Infrastructure errors end an episode as `error`, never as a model failure.

    CollabgapError
    └── CoordinatorError
        ├── ConfigError                 a run or play setting that cannot work
        ├── InfrastructureError         the platform failed, not the model (kind names it in records)
        │   ├── AgentUnreachableError   kind "agent_unreachable": no connection, no card, HTTP error
        │   ├── AgentTimeoutError       kind "agent_timeout": no reply within the turn limit
        │   ├── ProtocolViolationError  kind "protocol_violation": a reply that breaks the seat contract
        │   ├── AgentError              kind "agent_error": the agent says it failed (e.g. its model is down)
        │   ├── GraderError             kind "grader_error": paper mode, the grader's answer is unusable
        │   └── RefereeUnavailableError kind "referee_error": the referee failed or refused a call
        └── StoreError                  the results store cannot be opened, read or written as asked
            └── StoreVersionError       the database holds a store of another schema version
"""

from __future__ import annotations

from typing import ClassVar, Literal

from protocol import CollabgapError

ErrorKind = Literal["agent_unreachable", "agent_timeout", "protocol_violation", "auth_failure", "version_error",
                    "agent_error", "grader_error", "referee_error", "internal"]


class CoordinatorError(CollabgapError):
    """The coordinator cannot carry out what it was asked."""


class ConfigError(CoordinatorError):
    """A setting that cannot work; the message names it and the fix."""


class InfrastructureError(CoordinatorError):
    """The platform failed, not the model: recorded with its reason, never scored."""

    kind: ClassVar[ErrorKind] = "internal"


class AgentUnreachableError(InfrastructureError):
    kind = "agent_unreachable"


class AgentTimeoutError(InfrastructureError):
    kind = "agent_timeout"


class ProtocolViolationError(InfrastructureError):
    kind = "protocol_violation"


class AuthFailureError(InfrastructureError):
    kind = "auth_failure"


class VersionError(InfrastructureError):
    kind = "version_error"


class AgentError(InfrastructureError):
    kind = "agent_error"


class GraderError(InfrastructureError):
    kind = "grader_error"


class RefereeUnavailableError(InfrastructureError):
    kind = "referee_error"


class StoreError(CoordinatorError):
    """The results store cannot be opened, read or written as asked; the message names the database."""


class StoreVersionError(StoreError):
    """The database holds a collabgap store of another schema version, which this version never alters."""
