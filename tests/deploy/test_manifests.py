"""The deployment assets under deploy/ (DESIGN.md §4), checked offline: no Docker engine, no cluster.

Validators: every Kubernetes manifest against the Kubernetes JSON schemas bundled in `kubernetes-validate`
(strict: unknown fields fail), the compose file against the Compose Specification schema vendored in
`check-jsonschema` (`--builtin-schema vendor.compose-spec`), and the Dockerfile with `hadolint`. Beside them,
PyYAML reads the files to pin what the schemas cannot: non-root containers, probes and healthchecks, the
coordinator waiting for healthy services, `--public-url` naming each service, secrets only from the
environment, and run files that load and point at the services that are really there. Every command line is
parsed by the real `collabgap` CLI.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml

from services._cli import app
from services.coordinator import load_run_file

from ._validators import CHECK_JSONSCHEMA, HADOLINT, KUBERNETES_VALIDATE, Validators, validators

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
DEPLOY_PAGE = REPO / "docs" / "deploy.md"
SECRET_TEMPLATE = K8S / "secret.template.yaml"

NAMESPACE = "collabgap"
SECRET_NAME = "collabgap-secrets"
IMAGE = "collabgap"
IMAGE_UID = 10001
OLDEST_KUBERNETES = "1.31.0"
"""The oldest Kubernetes the manifests promise: Job `podFailurePolicy` is GA from 1.31."""
SECRET_VARIABLE = re.compile(r"(TOKEN|KEY|PASSWORD|SECRET)$")
"""Environment variables that carry a secret, by name."""
REFEREE_TOKEN_ENV = "COLLABGAP_REFEREE_TOKEN"
ENVIRON = {REFEREE_TOKEN_ENV: "test-token", "OPENAI_API_KEY": "test-key"}
WORKLOADS = ("Deployment", "StatefulSet", "Job")
SERVING = ("Deployment", "StatefulSet")


# ---- reading the files -------------------------------------------------------------------------------------


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def kustomization() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return config


def manifest_files() -> list[Path]:
    return sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def all_manifests() -> list[tuple[str, dict[str, Any]]]:
    """Every object in deploy/k8s, the Secret template included, as (file name, object)."""
    return [(path.name, doc) for path in manifest_files() for doc in load_yaml_documents(path)]


def applied() -> list[dict[str, Any]]:
    """The objects `kubectl apply -k deploy/k8s` creates."""
    return [doc for name in kustomization()["resources"] for doc in load_yaml_documents(K8S / name)]


def objects(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in applied() if doc["kind"] == kind]


def only(kind: str, name: str) -> dict[str, Any]:
    [found] = [doc for doc in objects(kind) if doc["metadata"]["name"] == name]
    return found


def workloads(kinds: tuple[str, ...] = WORKLOADS) -> list[dict[str, Any]]:
    return [doc for doc in applied() if doc["kind"] in kinds]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers_of(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def is_collabgap(container: dict[str, Any]) -> bool:
    return str(container["image"]).split(":")[0] == IMAGE


def option(args: list[str], name: str) -> str:
    """The value after `name` in a command line (which must have it exactly once)."""
    assert args.count(name) == 1, (name, args)
    return args[args.index(name) + 1]


def secret_template_keys() -> set[str]:
    [secret] = load_yaml_documents(SECRET_TEMPLATE)
    return set(secret["stringData"])


def configmap_files(tmp_path: Path) -> Path:
    """The coordinator's ConfigMap written out as the folder the Job mounts at /config."""
    folder = tmp_path / "config"
    folder.mkdir()
    for key, text in only("ConfigMap", "collabgap-run")["data"].items():
        (folder / key).write_text(text)
    return folder


def compose() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return config


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def compose_mount(service: dict[str, Any], target: str) -> tuple[str, str]:
    """(source, mode) of the short-syntax volume mounted at `target`."""
    for volume in service.get("volumes", []):
        source, mount, *mode = volume.split(":")
        if mount == target:
            return source, (mode or ["rw"])[0]
    raise AssertionError(f"nothing is mounted at {target}")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines
            if line and not line.startswith("#")]


def instruction(name: str) -> list[str]:
    return [args for key, args in dockerfile_instructions() if key == name]


def parse_cli(args: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse a `collabgap` command line exactly as the CLI would, without running the command.

    Raises whatever the CLI raises for it (unknown command or option, a bad value, a missing file).
    """
    command: Any = typer.main.get_command(app)
    path, rest = ["collabgap"], list(args)
    while hasattr(command, "list_commands"):
        assert rest, f"{' '.join(path)} needs a subcommand"
        name, *rest = rest
        command = command.get_command(command.make_context(" ".join(path), [name], resilient_parsing=True), name)
        assert command is not None, f"{' '.join(path)} has no subcommand {name!r}"
        path.append(name)
    with command.make_context(" ".join(path), rest) as ctx:
        return ctx.command_path, dict(ctx.params)


def cli_options(args: list[str]) -> tuple[str, set[str]]:
    """The subcommand path of a command line and the option names it accepts (no parsing of values)."""
    command: Any = typer.main.get_command(app)
    path, rest = ["collabgap"], list(args)
    while hasattr(command, "list_commands") and rest:
        name, *rest = rest
        command = command.get_command(command.make_context(" ".join(path), [name], resilient_parsing=True), name)
        assert command is not None, f"{' '.join(path)} has no subcommand {name!r}"
        path.append(name)
    names = {"--help"} | {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    return " ".join(path), names


@pytest.fixture(scope="session")
def tools(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Validators:
    cache = request.config.cache
    folder = cache.mkdir("deploy-validators") if cache is not None else tmp_path_factory.mktemp("validators")
    return validators(Path(folder))


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read results, not access logs."""


@pytest.fixture
def http_ok() -> Iterator[int]:
    """A loopback HTTP server answering 200 to every GET; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ---- Kubernetes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, "latest"])
def test_every_kubernetes_manifest_passes_strict_schema_validation(tools: Validators, version: str) -> None:
    """kubernetes-validate, strict: each object matches its kind's schema, with no unknown field."""
    tools.module("kubernetes_validate", KUBERNETES_VALIDATE)
    import kubernetes_validate

    desired = kubernetes_validate.latest_version() if version == "latest" else version
    checked = []
    for name, doc in all_manifests():
        kubernetes_validate.validate(doc, desired, strict=True)
        checked.append((name, doc["kind"]))
    kinds = {kind for _, kind in checked}
    assert {"Namespace", "Secret", "Deployment", "Service", "StatefulSet", "ConfigMap", "Job"} <= kinds


def test_strict_schema_validation_rejects_a_misspelt_field(tools: Validators) -> None:
    """The validator is live: a probe spelt `readinessprobe` fails strict validation."""
    tools.module("kubernetes_validate", KUBERNETES_VALIDATE)
    import kubernetes_validate

    referee = only("Deployment", "referee")
    pod_spec(referee)["containers"][0]["readinessprobe"] = {"httpGet": {"path": "/readyz", "port": "http"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(referee, OLDEST_KUBERNETES, strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_template() -> None:
    """`kubectl apply -k` creates everything except the Secret, which is made from the environment."""
    config = kustomization()
    listed = config["resources"]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(p.name for p in manifest_files() if p != SECRET_TEMPLATE)
    assert config["namespace"] == NAMESPACE
    assert [image["name"] for image in config["images"]] == [IMAGE]
    assert "Secret" not in {doc["kind"] for doc in applied()}
    assert objects("Namespace")[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_namespaced_object_names_the_collabgap_namespace() -> None:
    """Each file also works with a plain `kubectl apply -f`."""
    for name, doc in all_manifests():
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, (name, doc["kind"], doc["metadata"]["name"])


def test_every_pod_runs_as_a_non_root_user_under_the_restricted_profile() -> None:
    """Pod Security Standard "restricted", plus a read-only root filesystem for every container."""
    for workload in workloads():
        spec = pod_spec(workload)
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, where
        assert pod["runAsUser"] > 0 and pod["runAsGroup"] > 0, where
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", where
        assert spec["automountServiceAccountToken"] is False, where
        for container in containers_of(workload):
            context = container["securityContext"]
            assert context.get("runAsUser", pod["runAsUser"]) != 0, (where, container["name"])
            assert context["allowPrivilegeEscalation"] is False, (where, container["name"])
            assert context["capabilities"]["drop"] == ["ALL"], (where, container["name"])
            assert "add" not in context["capabilities"], (where, container["name"])
            assert context["readOnlyRootFilesystem"] is True, (where, container["name"])
            assert "privileged" not in context, (where, container["name"])
            if is_collabgap(container):
                assert pod["runAsUser"] == IMAGE_UID, where


def test_every_container_has_resource_requests_and_limits() -> None:
    for workload in workloads():
        for container in containers_of(workload):
            resources = container["resources"]
            assert set(resources["requests"]) == {"cpu", "memory"}, container["name"]
            assert set(resources["limits"]) == {"cpu", "memory"}, container["name"]


def test_every_long_running_container_has_readiness_and_liveness_probes() -> None:
    """Collabgap services: ready on /readyz, alive on /healthz, both on the named container port."""
    for workload in workloads(SERVING):
        for container in pod_spec(workload)["containers"]:
            readiness, liveness = container["readinessProbe"], container["livenessProbe"]
            if is_collabgap(container):
                ports = {port["name"] for port in container["ports"]}
                assert readiness["httpGet"] == {"path": "/readyz", "port": "http"}, workload["metadata"]["name"]
                assert liveness["httpGet"] == {"path": "/healthz", "port": "http"}, workload["metadata"]["name"]
                assert "http" in ports
            else:
                assert "exec" in readiness and "exec" in liveness


def test_every_service_routes_to_one_workload_and_a_declared_port() -> None:
    for service in objects("Service"):
        selector = service["spec"]["selector"]
        matched = [w for w in workloads(SERVING)
                   if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matched) == 1, service["metadata"]["name"]
        [workload] = matched
        assert workload["spec"]["selector"]["matchLabels"].items() <= selector.items()
        declared = {p["name"]: p["containerPort"] for c in pod_spec(workload)["containers"] for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert declared[port["targetPort"]] == port["port"], service["metadata"]["name"]
    [postgres] = objects("StatefulSet")
    assert only("Service", postgres["spec"]["serviceName"])["spec"]["clusterIP"] == "None"


def test_every_collabgap_service_binds_all_interfaces_and_names_its_service_as_public_url() -> None:
    """--public-url is http://<Service>:<port> of the Service in front of this very pod."""
    served = []
    for workload in objects("Deployment"):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        for container in pod_spec(workload)["containers"]:
            args = container["args"]
            assert option(args, "--host") == "0.0.0.0"
            port = int(option(args, "--port"))
            assert [p["containerPort"] for p in container["ports"]] == [port]
            url = urlsplit(option(args, "--public-url"))
            service = only("Service", url.hostname or "")
            assert service["spec"]["selector"].items() <= labels.items()
            assert [p["port"] for p in service["spec"]["ports"]] == [url.port] == [port]
            assert service["spec"]["publishNotReadyAddresses"] is True
            served.append(args[:2])
    assert ["referee", "serve"] in served and served.count(["agent", "serve"]) >= 2


def test_secrets_reach_containers_only_through_the_secret() -> None:
    """Tokens, keys and passwords come from `collabgap-secrets` keys that the template documents."""
    keys = secret_template_keys()
    assert {"referee-token", "postgres-password", "openai-api-key"} <= keys
    seen = set()
    for workload in workloads():
        for container in containers_of(workload):
            for variable in container.get("env", []):
                if SECRET_VARIABLE.search(variable["name"]):
                    assert "value" not in variable, variable["name"]
                    ref = variable["valueFrom"]["secretKeyRef"]
                    assert ref["name"] == SECRET_NAME and ref["key"] in keys, variable["name"]
                    seen.add((workload["metadata"]["name"], variable["name"], ref["key"]))
    assert ("referee", REFEREE_TOKEN_ENV, "referee-token") in seen
    assert ("collabgap-run", REFEREE_TOKEN_ENV, "referee-token") in seen
    assert ("collabgap-run", "PGPASSWORD", "postgres-password") in seen
    assert ("postgres", "POSTGRES_PASSWORD", "postgres-password") in seen


def test_coordinator_job_retries_with_resume_and_gives_up_on_configuration_errors() -> None:
    job = only("Job", "collabgap-run")
    spec = job["spec"]
    assert spec["backoffLimit"] >= 1 and spec["ttlSecondsAfterFinished"] > 0
    assert pod_spec(job)["restartPolicy"] == "Never"
    [rule] = spec["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob"
    assert rule["onExitCodes"] == {"containerName": "coordinator", "operator": "In", "values": [2]}
    [coordinator] = pod_spec(job)["containers"]
    assert coordinator["name"] == "coordinator" and coordinator["args"] == ["run", "/config/run.toml"]
    mounts = {m["mountPath"]: m for m in coordinator["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(job)["volumes"]}
    assert mounts["/config"]["readOnly"] is True
    assert volumes[mounts["/config"]["name"]]["configMap"]["name"] == "collabgap-run"
    assert "emptyDir" in volumes[mounts["/app/runs"]["name"]]


def test_cluster_run_file_plays_against_the_cluster_services_into_postgres(tmp_path: Path) -> None:
    """The ConfigMap's run file loads, names only Services that exist, and stores without a password."""
    run = load_run_file(configmap_files(tmp_path) / "run.toml", environ=ENVIRON)
    assert run.referee is not None and run.referee.token_env == REFEREE_TOKEN_ENV
    referee = urlsplit(str(run.referee.url))
    assert referee.path == "/mcp"
    assert only("Service", referee.hostname or "")["spec"]["ports"][0]["port"] == referee.port
    for name, agent in run.agents.items():
        assert agent.url is not None and agent.player is None, name
        url = urlsplit(str(agent.url))
        assert only("Service", url.hostname or "")["spec"]["ports"][0]["port"] == url.port, name
    job = only("Job", "collabgap-run")
    assert str(run.runs_dir) in {m["mountPath"] for m in pod_spec(job)["containers"][0]["volumeMounts"]}

    assert run.store is not None
    store = urlsplit(run.store)
    assert store.scheme == "postgresql" and store.password is None
    [postgres] = pod_spec(only("StatefulSet", "postgres"))["containers"]
    env = {variable["name"]: variable for variable in postgres["env"]}
    assert store.username == env["POSTGRES_USER"]["value"]
    assert store.path == f"/{env['POSTGRES_DB']['value']}"
    assert only("Service", store.hostname or "")["spec"]["ports"][0]["port"] == store.port
    job_env = {variable["name"]: variable for variable in pod_spec(job)["containers"][0]["env"]}
    assert job_env["PGPASSWORD"]["valueFrom"] == env["POSTGRES_PASSWORD"]["valueFrom"]


def test_job_waits_for_every_service_its_run_file_names(tmp_path: Path) -> None:
    run = load_run_file(configmap_files(tmp_path) / "run.toml", environ=ENVIRON)
    [wait] = pod_spec(only("Job", "collabgap-run"))["initContainers"]
    assert wait["command"] == ["python", "/config/wait-ready.py"]
    assert run.referee is not None and run.store is not None
    referee = urlsplit(str(run.referee.url))
    expected = {f"http://{referee.netloc}/readyz", f"tcp://{urlsplit(run.store).netloc.split('@')[-1]}"}
    expected |= {f"{str(agent.url).rstrip('/')}/readyz" for agent in run.agents.values()}
    assert set(wait["args"]) == expected


def test_wait_ready_script_returns_once_every_target_answers(tmp_path: Path, http_ok: int) -> None:
    """The init container's waiter, run for real against a loopback server over HTTP and TCP."""
    script = configmap_files(tmp_path) / "wait-ready.py"
    result = subprocess.run([sys.executable, str(script), f"http://127.0.0.1:{http_ok}/readyz",
                             f"tcp://127.0.0.1:{http_ok}"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"ready: http://127.0.0.1:{http_ok}/readyz", f"ready: tcp://127.0.0.1:{http_ok}"]


def test_every_cluster_command_line_parses_with_the_collabgap_cli(tmp_path: Path) -> None:
    config = configmap_files(tmp_path)
    parsed = []
    for workload in workloads():
        for container in containers_of(workload):
            if is_collabgap(container) and "command" not in container:
                args = [arg.replace("/config/", f"{config}/") for arg in container["args"]]
                parsed.append(parse_cli(args)[0])
    assert sorted(parsed) == ["collabgap agent serve", "collabgap agent serve", "collabgap referee serve",
                              "collabgap run"]


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


def test_compose_secrets_come_from_the_shell_environment() -> None:
    """Secret values are `${NAME…}` interpolations; the referee token is required, with no default."""
    services = compose_services()
    fake_llm_keys = {option(s["command"], "--api-key-env") for s in services.values()
                     if "--base-url" in s["command"] and urlsplit(option(s["command"], "--base-url")).hostname
                     == "fake-llm"}
    for name, service in services.items():
        for variable, value in service.get("environment", {}).items():
            if SECRET_VARIABLE.search(variable):
                form = re.fullmatch(rf"\$\{{{variable}(:\?[^}}]+|:-[^}}]+)\}}", value)
                assert form is not None, (name, variable)
                assert form.group(1).startswith(":?") or variable in fake_llm_keys, (name, variable)
    for name in ("referee", "coordinator"):
        assert services[name]["environment"][REFEREE_TOKEN_ENV].startswith(f"${{{REFEREE_TOKEN_ENV}:?")


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


# ---- the image ---------------------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint(tools: Validators) -> None:
    hadolint = tools.executable("hadolint", HADOLINT)
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_installs_the_project_and_runs_collabgap_as_a_non_root_user() -> None:
    assert instruction("FROM") == ["python:3.11-slim"]
    assert any("pip install --no-cache-dir ." in args for args in instruction("RUN"))
    [user] = instruction("USER")
    assert user.split(":")[0] == str(IMAGE_UID)
    assert any(f"--uid {IMAGE_UID}" in args for args in instruction("RUN"))
    assert [json.loads(args) for args in instruction("ENTRYPOINT")] == [["collabgap"]]
    assert [json.loads(args) for args in instruction("CMD")] == [["--help"]]
    assert [args.split() for args in instruction("EXPOSE")] == [["8760", "8770"]]
    assert instruction("WORKDIR")[-1] == "/app"  # `runs_dir = "runs"` lands in /app/runs, the volume


def test_image_healthcheck_fetches_healthz_on_the_port_its_variable_names(http_ok: int) -> None:
    """The HEALTHCHECK command, run for real: healthy against a live port, unhealthy against a closed one."""
    [healthcheck] = instruction("HEALTHCHECK")
    command = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert command[0] == "python" and "/healthz" in command[-1]
    run = [sys.executable, *command[1:]]
    live = subprocess.run(run, env={"COLLABGAP_HEALTHCHECK_PORT": str(http_ok)}, capture_output=True, timeout=30,
                          check=False)
    assert live.returncode == 0, live.stderr
    with ThreadingHTTPServer(("127.0.0.1", 0), _Ok) as closed:
        port = closed.server_address[1]  # closed when the block ends: nothing listens there
    dead = subprocess.run(run, env={"COLLABGAP_HEALTHCHECK_PORT": str(port)}, capture_output=True, timeout=30,
                          check=False)
    assert dead.returncode != 0


def test_dockerignore_lets_in_exactly_what_the_image_copies() -> None:
    """The ignore file admits the files the COPY lines name, and those are all the distribution is built from."""
    lines = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    admitted = {line[1:] for line in lines if line.startswith("!")}
    copied = {source for args in instruction("COPY") for source in args.split()[:-1]}
    assert copied == admitted
    assert all((REPO / source).exists() for source in copied)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["readme"] in copied
    packages = {pattern.rstrip("*") for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages | {"pyproject.toml", project["project"]["readme"]} == copied


# ---- the page ----------------------------------------------------------------------------------------------


def page_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DEPLOY_PAGE.read_text(), flags=re.DOTALL)


def page_collabgap_commands() -> list[list[str]]:
    commands = []
    for block in page_blocks("bash"):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0].endswith("collabgap"):
                commands.append([word for word in words[1:] if word != "&"])
    return commands


def test_deploy_page_commands_use_only_options_the_cli_has() -> None:
    commands = page_collabgap_commands()
    assert {tuple(c[:2]) for c in commands} >= {("referee", "serve"), ("agent", "serve"), ("run", "laptop-run.toml"),
                                                ("report", "runs/laptop")}
    for words in commands:
        path, names = cli_options(words)
        for word in words:
            if word.startswith("--"):
                assert word.split("=")[0] in names, (path, word)


def test_deploy_page_run_files_load(tmp_path: Path) -> None:
    [laptop] = page_blocks("toml")
    path = tmp_path / "laptop-run.toml"
    path.write_text(laptop)
    run = load_run_file(path, environ=ENVIRON)
    ports = {option(c, "--port") for c in page_collabgap_commands() if c[:2] in (["referee", "serve"],
                                                                                 ["agent", "serve"])}
    assert run.referee is not None
    assert {str(urlsplit(str(a.url)).port) for a in run.agents.values()} | {str(run.referee.url.port)} == ports


def test_deploy_page_names_every_deployment_file_and_the_commands_to_run_them() -> None:
    page = DEPLOY_PAGE.read_text()
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            assert path.name in page, path
    assert "docker compose -f deploy/compose.yaml up --build --abort-on-container-exit coordinator" in page
    assert "kubectl apply -k deploy/k8s" in page
    assert "--ray" in page
