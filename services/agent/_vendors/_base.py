"""How an LLM player reaches a model: the vendor spec (with its retry policy), chat messages and completions."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from collabgap.protocol import Usage
from collabgap.services.shared import RetryPolicy

from .._errors import AgentServiceError

VendorKind = Literal["openai", "anthropic"]
DEFAULT_BASE_URLS: dict[VendorKind, str] = {"openai": "https://api.openai.com/v1",
                                             "anthropic": "https://api.anthropic.com"}
DEFAULT_KEY_ENV: dict[VendorKind, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
FROM_ENV = "env:"
"""A header value `env:NAME` is read from the variable NAME when a request is sent."""
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class VendorError(AgentServiceError):
    """The model could not be reached or answered unusably, after every retry; never a model failure."""


class VendorSpec(BaseModel):
    """One model behind one endpoint. Names the environment variable holding the key, never the key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: VendorKind
    model: str = Field(min_length=1)
    base_url: HttpUrl | None = None
    """Defaults to the vendor's public API; any OpenAI-compatible endpoint works for `openai`."""
    api_key_env: str | None = None
    """The variable holding the key (default OPENAI_API_KEY / ANTHROPIC_API_KEY)."""
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int = Field(2048, ge=1)
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    """OpenAI reasoning models only."""
    extra_headers: dict[str, str] = Field(default_factory=dict)
    """Sent with every request; a value `env:NAME` names the variable holding it (a secret never in the spec)."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    timeout_s: float = Field(120.0, gt=0)
    """Per request, streaming included."""
    max_concurrency: int = Field(8, ge=1)
    """Requests in flight at once to this endpoint, across every game the service plays."""
    stream: bool = True
    retry: RetryPolicy = RetryPolicy()
    """Retried: 429, 5xx, timeouts, broken and garbled answers (see `_http.EndpointClient.call`)."""

    @field_validator("extra_headers")
    @classmethod
    def _variables_named_well(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if value.startswith(FROM_ENV) and not _VARIABLE.match(value.removeprefix(FROM_ENV)):
                raise ValueError(f"header {name}: {value!r} must name a variable, like env:MY_HEADER_TOKEN")
        return headers

    @property
    def url(self) -> str:
        return str(self.base_url or DEFAULT_BASE_URLS[self.kind]).rstrip("/")

    @property
    def key_env(self) -> str:
        return self.api_key_env or DEFAULT_KEY_ENV[self.kind]

    def api_key(self) -> SecretStr:
        """Read the key at the point of use.

        Raises:
            VendorError: the variable is unset.
        """
        value = os.environ.get(self.key_env)
        if not value:
            raise VendorError(f"set {self.key_env} to call {self.kind} model {self.model!r}")
        return SecretStr(value)

    def headers(self) -> dict[str, str]:
        """`extra_headers`, each `env:NAME` value read from its variable at the point of use.

        Raises:
            VendorError: a variable is unset.
        """
        headers = {}
        for name, value in self.extra_headers.items():
            if value.startswith(FROM_ENV):
                variable = value.removeprefix(FROM_ENV)
                value = os.environ.get(variable, "")
                if not value:
                    raise VendorError(f"set {variable} to send the {name} header to {self.kind} model {self.model!r}")
            headers[name] = value
        return headers

    def secrets(self) -> list[str]:
        """The values this spec reads from the environment (its key, its `env:` headers), as they are now: what
        no message may repeat."""
        variables = [self.key_env] + [value.removeprefix(FROM_ENV) for value in self.extra_headers.values()
                                      if value.startswith(FROM_ENV)]
        return [value for variable in variables if (value := os.environ.get(variable))]


ToolChoice = Literal["auto", "none"]
"""`auto`: the model may call the offered tools; `none`: it must answer in text (the tools stay defined)."""


@dataclass(frozen=True)
class ToolDefinition:
    """A function the model may call: its name, what it does, and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """One function call the model made. `id` pairs it with its result."""

    id: str
    name: str
    arguments: dict[str, Any]
    malformed: str | None = None
    """Why the arguments the model wrote could not be read as a JSON object (`arguments` is then empty)."""


@dataclass(frozen=True)
class ChatMessage:
    """One turn. An assistant turn may carry tool calls; a `tool` turn answers one of them."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    """Assistant turns only: the calls the model made in this turn (the content may then be empty)."""
    tool_call_id: str | None = None
    """Tool turns only: the id of the call this result answers."""
    is_error: bool = False
    """Tool turns only: the call failed and the content says why."""


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    tool_calls: tuple[ToolCall, ...] = ()
    """The functions the model called; empty when it answered in text only."""


class Vendor(Protocol):
    """Sends a conversation to a model; retries are the vendor client's job."""

    spec: VendorSpec

    async def complete(self, messages: list[ChatMessage], tools: Sequence[ToolDefinition] | None = None, *,
                       tool_choice: ToolChoice = "auto") -> Completion:
        """The model's next message, offering it `tools` when given. Raises VendorError when it cannot be had."""
        ...


def read_arguments(raw: str | None) -> tuple[dict[str, Any], str | None]:
    """A tool call's arguments from the JSON text a model wrote, or `({}, why)` when they are not a JSON object."""
    if not raw or not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, f"the arguments are not valid JSON ({exc})"
    if not isinstance(value, dict):
        return {}, f"the arguments must be a JSON object, not {type(value).__name__}"
    return value, None
