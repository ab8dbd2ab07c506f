"""The Kubernetes manifests under deploy/k8s, checked offline (see tests/deploy/_files.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from collabgap.services.coordinator import load_run_file

from ._files import (
    AGENT_TOKEN_ENV,
    ENVIRON,
    IMAGE,
    IMAGE_UID,
    NAMESPACE,
    OLDEST_KUBERNETES,
    REFEREE_TOKEN_ENV,
    SECRET_NAME,
    SECRET_TEMPLATE,
    SECRET_VARIABLE,
    SERVING,
    all_manifests,
    applied,
    configmap_files,
    containers_of,
    is_collabgap,
    kustomization,
    manifest_files,
    objects,
    only,
    option,
    parse_cli,
    pod_spec,
    secret_template_keys,
    workloads,
)
from ._validators import (
    KUBERNETES_VALIDATE,
    Validators,
)

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
    assert {"referee-token", "postgres-password", "openai-api-key", "cartographer-token", "follower-token"} <= keys
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
    for agent in ("cartographer", "follower"):
        assert (agent, AGENT_TOKEN_ENV, f"{agent}-token") in seen


def test_every_agent_demands_a_token_of_its_own_which_the_job_presents(tmp_path: Path) -> None:
    """An agent Deployment reads COLLABGAP_AGENT_TOKEN from its own Secret key; the Job holds the same key in
    the variable that the run file names as that agent's token_env."""
    run = load_run_file(configmap_files(tmp_path) / "run.toml", environ=ENVIRON)
    [coordinator] = pod_spec(only("Job", "collabgap-run"))["containers"]
    job_keys = {v["name"]: v["valueFrom"]["secretKeyRef"]["key"] for v in coordinator["env"]}
    agent_keys = {}
    for workload in objects("Deployment"):
        [container] = pod_spec(workload)["containers"]
        if container["args"][:2] == ["agent", "serve"]:
            env = {v["name"]: v["valueFrom"]["secretKeyRef"]["key"] for v in container.get("env", [])}
            agent_keys[workload["metadata"]["name"]] = env[AGENT_TOKEN_ENV]
    assert set(agent_keys) == {urlsplit(str(agent.url)).hostname for agent in run.agents.values()}
    for name, agent in run.agents.items():
        assert agent.token_env is not None, name
        assert job_keys[agent.token_env] == agent_keys[urlsplit(str(agent.url)).hostname], name
    assert len(set(agent_keys.values())) == len(agent_keys)


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
    assert result.stdout.splitlines() == [f"ready: http://127.0.0.1:{http_ok}/readyz",
                                          f"ready: tcp://127.0.0.1:{http_ok}"]


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
