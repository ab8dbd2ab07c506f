"""The compose file and its run file, checked offline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from collabgap.services.coordinator import load_run_file

from ._files import (
    AGENT_TOKEN_ENV,
    AGENT_TOKENS,
    COMPOSE,
    DEPLOY,
    ENVIRON,
    IMAGE_UID,
    REFEREE_TOKEN_ENV,
    SECRET_VARIABLE,
    compose,
    compose_mount,
    compose_services,
    option,
    parse_cli,
)
from ._validators import (
    CHECK_JSONSCHEMA,
    Validators,
)

# ---- Docker Compose ----------------------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification(tools: Validators) -> None:
    """check-jsonschema with its vendored Compose Specification schema."""
    tools.module("check_jsonschema", CHECK_JSONSCHEMA)
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                             str(COMPOSE)], capture_output=True, text=True, env=tools.environ(), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_rejects_an_unknown_service_key(tools: Validators, tmp_path: Path) -> None:
    """The validator is live: `commandd` is not a service key."""
    tools.module("check_jsonschema", CHECK_JSONSCHEMA)
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace('    command: ["referee"', '    commandd: ["referee"'))
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                             str(broken)], capture_output=True, text=True, env=tools.environ(), check=False)
    assert result.returncode == 1 and "commandd" in result.stdout, result.stdout + result.stderr


def test_every_compose_service_but_the_job_has_a_healthcheck_on_its_own_port() -> None:
    for name, service in compose_services().items():
        if name == "coordinator":
            assert service["healthcheck"] == {"disable": True}
            continue
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name
        url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", test[3])
        assert url is not None, name
        assert url.group(1) == option(service["command"], "--port") and url.group(2) in ("/readyz", "/healthz")
        assert service["expose"] == [url.group(1)], name


def test_compose_coordinator_is_a_job_that_waits_for_healthy_services() -> None:
    """It starts once every service its run file names is healthy, and is never restarted."""
    services = compose_services()
    coordinator = services["coordinator"]
    assert coordinator["restart"] == "no"
    assert coordinator["command"] == ["run", "/config/run.toml"]
    source, _ = compose_mount(coordinator, "/config/run.toml")
    run = load_run_file(DEPLOY / source, environ=ENVIRON)
    assert run.referee is not None
    named = {urlsplit(str(run.referee.url)).hostname} | {urlsplit(str(a.url)).hostname for a in run.agents.values()}
    assert named <= set(coordinator["depends_on"])
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "test" in services[dependency]["healthcheck"], dependency


def test_compose_services_run_as_the_image_user_with_a_read_only_root() -> None:
    for name, service in compose_services().items():
        assert str(service.get("user", IMAGE_UID)).split(":")[0] not in ("0", "root"), name
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


def test_compose_services_bind_all_interfaces_and_name_their_service_as_public_url() -> None:
    serving = {name: s for name, s in compose_services().items() if s["command"][:2] in (["referee", "serve"],
                                                                                         ["agent", "serve"])}
    assert {"referee", "cartographer", "follower", "llm-agent"} <= set(serving)
    for name, service in serving.items():
        args = service["command"]
        assert option(args, "--host") == "0.0.0.0", name
        assert option(args, "--public-url") == f"http://{name}:{option(args, '--port')}", name


def shell_variable(value: str) -> tuple[str, str]:
    """(NAME, `:?message` or `:-default`) of a `${NAME…}` interpolation, which the whole value must be."""
    form = re.fullmatch(r"\$\{([A-Z][A-Z0-9_]*)(:\?[^}]+|:-[^}]+)\}", value)
    assert form is not None, value
    return form.group(1), form.group(2)


def test_compose_secrets_come_from_the_shell_environment() -> None:
    """Secret values are `${NAME…}` interpolations, required with no default (the fake vendor's key aside); each
    has the variable's own name, but for an agent's token, which the shell holds under that agent's name."""
    services = compose_services()
    fake_llm_keys = {option(s["command"], "--api-key-env") for s in services.values()
                     if "--base-url" in s["command"] and urlsplit(option(s["command"], "--base-url")).hostname
                     == "fake-llm"}
    for name, service in services.items():
        for variable, value in service.get("environment", {}).items():
            if SECRET_VARIABLE.search(variable):
                source, form = shell_variable(value)
                assert source == (AGENT_TOKENS[name] if variable == AGENT_TOKEN_ENV else variable), (name, variable)
                assert form.startswith(":?") or variable in fake_llm_keys, (name, variable)
    for name in ("referee", "coordinator"):
        assert services[name]["environment"][REFEREE_TOKEN_ENV].startswith(f"${{{REFEREE_TOKEN_ENV}:?")


def test_every_compose_agent_demands_a_token_of_its_own_which_the_coordinator_presents() -> None:
    """Each agent reads its token from the shell variable named after it; the coordinator gets that variable,
    and the run file names it as that agent's token_env."""
    services = compose_services()
    coordinator = services["coordinator"]
    run = load_run_file(DEPLOY / compose_mount(coordinator, "/config/run.toml")[0], environ=ENVIRON)
    token_envs = {urlsplit(str(agent.url)).hostname: agent.token_env for agent in run.agents.values()}
    agents = {name: service for name, service in services.items() if service["command"][:2] == ["agent", "serve"]}
    assert set(agents) == set(AGENT_TOKENS) == set(token_envs)
    for name, service in agents.items():
        variable, _ = shell_variable(service["environment"][AGENT_TOKEN_ENV])
        assert variable == AGENT_TOKENS[name] == token_envs[name], name
        assert shell_variable(coordinator["environment"][variable])[0] == variable, name
    assert len(set(token_envs.values())) == len(token_envs)


def test_compose_run_file_plays_against_the_compose_services_into_the_runs_volume() -> None:
    services = compose_services()
    coordinator = services["coordinator"]
    source, mode = compose_mount(coordinator, "/config/run.toml")
    assert mode == "ro"
    run = load_run_file(DEPLOY / source, environ=ENVIRON)
    assert run.store is None  # SQLite under runs_dir, in the volume
    volume, _ = compose_mount(coordinator, str(run.runs_dir))
    assert volume in compose()["volumes"]
    assert run.referee is not None and run.referee.token_env == REFEREE_TOKEN_ENV
    referee = urlsplit(str(run.referee.url))
    assert referee.path == "/mcp" and str(referee.port) == option(services[referee.hostname or ""]["command"], "--port")
    for name, agent in run.agents.items():
        assert agent.url is not None, name
        url = urlsplit(str(agent.url))
        assert option(services[url.hostname or ""]["command"], "--public-url") == str(agent.url).rstrip("/"), name


def test_every_compose_command_line_parses_with_the_collabgap_cli() -> None:
    parsed = []
    for service in compose_services().values():
        args = list(service["command"])
        if args[0] == "run":
            args[1] = str(DEPLOY / compose_mount(service, args[1])[0])
        parsed.append(parse_cli(args)[0])
    assert sorted(set(parsed)) == ["collabgap agent serve", "collabgap fake-llm serve", "collabgap referee serve",
                                   "collabgap run"]
