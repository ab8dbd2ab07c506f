"""A service started as a child gets its settings object as JSON, without its secret, which travels in the
child's environment and is put back before the same model validates the settings."""

from __future__ import annotations

from pydantic import SecretStr

from collabgap.services._serve import settings_of
from collabgap.services.agent import AgentSettings
from collabgap.services.shared import ServeRequest, secret_environment


def test_the_secret_leaves_the_request_and_comes_back_from_the_environment() -> None:
    settings = AgentSettings(player="scripted:cartographer", token=SecretStr("seat-secret"), max_body=4096)
    request = ServeRequest.of("agent", settings, 8123)
    environ = secret_environment("agent", settings)
    assert "seat-secret" not in request.model_dump_json() and environ == {"COLLABGAP_AGENT_TOKEN": "seat-secret"}
    served = settings_of(ServeRequest.model_validate_json(request.model_dump_json()), environ)
    assert served == settings and request.port == 8123


def test_a_referee_needs_its_token_from_the_environment() -> None:
    request = ServeRequest.of("referee", {}, 8124)
    served = settings_of(request, {"COLLABGAP_REFEREE_TOKEN": "coordinator-secret"})
    assert served.model_dump(mode="json") == {"coordinator_token": "**********", "public_url": None,
                                              "max_games": 10_000}
