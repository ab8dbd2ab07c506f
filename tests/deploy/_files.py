"""Reading the deployment assets under deploy/ for the tests beside this module."""

from __future__ import annotations

import re
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import typer.main
import yaml

from collabgap.services._cli import app

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
AGENT_TOKEN_ENV = "COLLABGAP_AGENT_TOKEN"
"""The variable from which an agent service reads the bearer token it demands."""
AGENT_TOKENS = {"cartographer": "COLLABGAP_CARTOGRAPHER_TOKEN", "follower": "COLLABGAP_FOLLOWER_TOKEN",
                "llm-agent": "COLLABGAP_LLM_AGENT_TOKEN"}
"""The variable that holds each agent's token in the shell and in the coordinator (compose and Kubernetes)."""
ENVIRON = {REFEREE_TOKEN_ENV: "test-token", "OPENAI_API_KEY": "test-key",
           **{variable: f"test-{agent}-token" for agent, variable in AGENT_TOKENS.items()}}
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


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read results, not access logs."""
