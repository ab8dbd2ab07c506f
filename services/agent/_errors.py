"""Errors of the agent service (a referee-direct player whose referee fails raises the shared
`collabgap.services.shared.RefereeUnavailableError`, never a model failure).

    CollabgapError
    └── AgentServiceError
        ├── PlayerSpecError           a `--player` spec that names no known player
        ├── VendorError               the model could not be had (`_vendors/_base.py`)
        └── NoReplyError              the player did not reply in time (a person at `collabgap human serve`)
"""

from __future__ import annotations

from collabgap.protocol import CollabgapError


class AgentServiceError(CollabgapError):
    """The agent service cannot start or serve as configured."""


class PlayerSpecError(AgentServiceError):
    """A player spec names no known player."""


class NoReplyError(AgentServiceError):
    """The player did not reply within its time: the seat answers a failed task that says so, which the
    coordinator records as this seat's `agent_timeout` (docs/human.md)."""
