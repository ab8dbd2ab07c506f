"""How a service is started as a child process: `python -m collabgap.services._serve` reads one `ServeRequest` as
JSON on its standard input (which service, where it listens, its settings) and validates the settings with the
service's own model. Secrets never travel in the request: each stays in the child's environment, under the
variable `SECRET_VARIABLES` names, where the child reads it back into its settings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr

ServiceName = Literal["referee", "agent", "human", "fake-llm"]
SERVE_MODULE = "collabgap.services._serve"
"""The module a child runs (`python -m`) to serve one `ServeRequest`."""
SECRET_VARIABLES: dict[ServiceName, tuple[str, str]] = {
    "referee": ("coordinator_token", "COLLABGAP_REFEREE_TOKEN"),
    "agent": ("token", "COLLABGAP_AGENT_TOKEN"),
    "human": ("token", "COLLABGAP_HUMAN_TOKEN"),
    "fake-llm": ("api_key", "COLLABGAP_FAKE_LLM_KEY"),
}
"""Service -> (the settings field holding its one secret, the variable that carries it to the child)."""


class ServeRequest(BaseModel):
    """One service to serve: its settings without their secret, on host:port."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: ServiceName
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    settings: dict[str, JsonValue] = Field(default_factory=dict)
    """The settings model's fields as JSON, its secret field left out."""

    @classmethod
    def of(cls, service: ServiceName, settings: BaseModel | dict[str, JsonValue], port: int) -> ServeRequest:
        """The request serving `settings` (a settings model, or its fields as JSON) on 127.0.0.1:port, without its
        secret (`secret_environment` carries that)."""
        field = SECRET_VARIABLES[service][0]
        # Only what was set: the child's model fills in the defaults, and validators that tell a given value from
        # a default (a fault's `retry_after`) see the same settings as here.
        data = (settings.model_dump(mode="json", exclude={field}, exclude_unset=True) if isinstance(settings, BaseModel)
                else settings)
        return cls(service=service, port=port, settings=data)

    def settings_with_secret(self, environ: dict[str, str]) -> dict[str, Any]:
        """The settings to validate in the child: the request's, and the secret from `environ` when it is set."""
        field, variable = SECRET_VARIABLES[self.service]
        secret = environ.get(variable)
        return {**self.settings, field: secret} if secret else dict(self.settings)


def secret_environment(service: ServiceName, settings: BaseModel | dict[str, JsonValue]) -> dict[str, str]:
    """The child's environment entry that carries the secret `settings` hold, if they hold one."""
    field, variable = SECRET_VARIABLES[service]
    secret = getattr(settings, field, None)
    return {variable: secret.get_secret_value()} if isinstance(secret, SecretStr) else {}
