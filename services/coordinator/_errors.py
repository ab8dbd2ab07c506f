"""Errors of the coordinator, and whose fault each failure of an episode is.

    CollabgapError
    └── CoordinatorError
        ├── ConfigError                     a run or play setting that cannot work
        ├── InfrastructureError             a call across a seam failed (kind names it in records)
        │   ├── AgentFault                  the agent failed: scored where the game stood, blamed on the agent
        │   │   ├── AgentUnreachableError   kind "agent_unreachable": no card, connection refused or reset
        │   │   ├── AgentTimeoutError       kind "agent_timeout": no reply within the turn or game limit
        │   │   ├── ProtocolViolationError  kind "protocol_violation": an empty, malformed or oversized reply
        │   │   ├── AuthFailureError        kind "auth_failure": the agent refused our credentials
        │   │   ├── VersionError            kind "version_error": the agent does not speak our A2A version
        │   │   ├── AgentError              kind "agent_error": the agent says it failed (e.g. its model is down)
        │   │   └── GraderError             kind "grader_error": paper mode, the grader's answer is unusable
        │   └── PlatformFault               we failed: the episode is `error`, never scored, and replayed
        │       ├── RefereeFault            kind "referee_error": the referee failed or refused a call
        │       └── UnexpectedError         kind "internal": an exception we did not foresee, a bug of ours
        └── StoreError                      the results store cannot be opened, read or written as asked
            └── StoreVersionError           the database holds a store of another schema version
"""

from __future__ import annotations

from typing import ClassVar, Literal

from collabgap.protocol import CollabgapError

ErrorKind = Literal["agent_unreachable", "agent_timeout", "protocol_violation", "auth_failure", "version_error",
                    "agent_error", "grader_error", "referee_error", "internal"]


class CoordinatorError(CollabgapError):
    """The coordinator cannot carry out what it was asked."""


class ConfigError(CoordinatorError):
    """A setting that cannot work; the message names it and the fix."""


class InfrastructureError(CoordinatorError):
    """A call across a seam failed: to an agent, the grader or the referee. `AgentFault` and `PlatformFault` say
    whose fault it was; `kind` names it in records."""

    kind: ClassVar[ErrorKind] = "internal"


class AgentFault(InfrastructureError):
    """The agent's own failure, caused by what it sent or did not send: scored as that agent's failure."""


class PlatformFault(InfrastructureError):
    """The referee or collabgap itself failed: the episode is recorded as `error`, unscored, and replayed."""


class AgentUnreachableError(AgentFault):
    kind = "agent_unreachable"


class AgentTimeoutError(AgentFault):
    kind = "agent_timeout"


class ProtocolViolationError(AgentFault):
    kind = "protocol_violation"


class AuthFailureError(AgentFault):
    kind = "auth_failure"


class VersionError(AgentFault):
    kind = "version_error"


class AgentError(AgentFault):
    kind = "agent_error"


class GraderError(AgentFault):
    kind = "grader_error"


class RefereeFault(PlatformFault):
    """The referee failed or refused a call: the shared client's `RefereeUnavailableError`, blamed on the platform."""

    kind = "referee_error"


class UnexpectedError(PlatformFault):
    """An exception nobody translated: a bug in collabgap or a library it uses, never charged to an agent."""

    kind = "internal"


class StoreError(CoordinatorError):
    """The results store cannot be opened, read or written as asked; the message names the database."""


class StoreVersionError(StoreError):
    """The database holds a collabgap store of another schema version, which this version never alters."""
