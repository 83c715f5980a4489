"""Payloads that get past the review are still contained by the pod (layer 2).

Every payload of the escape corpus (tests/corpora/escapes/), whatever the review says about it, runs in a
real gVisor sandbox pod built by level5.sandbox.manifests exactly as the operator builds it (same runner,
same lockdown), in a namespace with the operator's deny-all NetworkPolicy, ResourceQuota and LimitRange.
One pod per corpus file: the corpus file, a stdlib driver (escape_driver.py, the pod's main.py) and the
probe targets arrive in the pod's code ConfigMap. The pod runs the driver directly instead of the runner
(the runner refuses to run anything while the API server answers, which would hide what a payload could
reach; see test_api_server_is_unreachable). The driver runs each payload in a forked child with a short
time limit and a seccomp filter that refuses only signals and process access aimed at the driver (PID 1),
kills whatever the payload left running, ignores the outcomes, then probes containment and prints JSON on
a line tagged with a nonce that only the pod's termination message repeats (see run_result). One pod runs
first and leaves marker files in /tmp and /output; every later pod must start with both empty.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from escape_driver import REPORT_TAG

from kube import apply, get_json, kubectl, python_pod, unique_name, wait_pod_done
from level5.api.spec import AgentTaskSpec
from level5.core.config import OperatorConfig
from level5.core.layout import PROGRAM_CONTAINER, PROGRAM_UID, RUNNER_PATH
from level5.safety.runtime_policy import policy_document
from level5.sandbox.manifests import (
    TaskRef,
    code_config_map,
    deny_all_network_policy,
    sandbox_limit_range,
    sandbox_pod,
    sandbox_pod_name,
    sandbox_resource_quota,
)
from level5.sandbox.outcome import container_status

pytestmark = pytest.mark.cluster

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "corpora" / "escapes"
Results = dict[str, tuple[dict[str, Any], dict[str, Any]]]
FAMILIES = sorted(p.name for p in CORPUS.glob("*.py.txt"))
FIRST = FAMILIES[0]
SERVER_PORT = 8080
SERVER = f"""
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {SERVER_PORT})); s.listen(64)
print("serving", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"pong"); c.close()
"""
SPEC = AgentTaskSpec.model_validate(
    {
        "goal": {"primary": "Run the escape corpus.", "successCriteria": [{"name": "ran", "exitCode": 0}]},
        # Small enough that all pods fit the 2-core node at once; the payloads are cut at 1.5 s anyway.
        "capabilities": {"timeoutSeconds": 120, "cpu": "120m", "memory": "384Mi"},
    }
)
CONFIG = OperatorConfig.from_env()


def payload_names(text: str) -> list[str]:
    return [line[5:].strip() for line in text.splitlines() if line.startswith("# ===")]


def host_only_paths() -> list[str]:
    """Paths that exist on this host (the node) and must not exist in a sandbox."""
    kubeconfig = Path(os.environ.get("KUBECONFIG", "/root/.cache/level5/cluster/admin.kubeconfig"))
    candidates = [
        "/root/.cache/level5",
        str(kubeconfig),
        str(kubeconfig.parent / "run" / "containerd" / "containerd.sock"),
        "/run/containerd/containerd.sock",
        str(HERE / "test_escape_containment.py"),
        "/var/lib/level5",
    ]
    return [p for p in candidates if os.path.exists(p)]


TOKEN_PATHS = ["/var/run/secrets/kubernetes.io/serviceaccount", "/run/secrets/kubernetes.io/serviceaccount"]


def build(namespace: str, family: str, targets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The code ConfigMap and the pod for one corpus file, from the operator's own manifest functions."""
    task = TaskRef(
        name=f"escape-{family.split('.')[0].replace('_', '-')}", namespace=namespace, uid=unique_name("uid")
    )
    name = sandbox_pod_name(task, 1)
    driver = (HERE / "escape_driver.py").read_text()
    config_map = code_config_map(task, SPEC, name, 1, driver, policy_document(SPEC))
    config_map["data"][family] = (CORPUS / family).read_text()
    config_map["data"]["targets.json"] = json.dumps(targets)
    pod = sandbox_pod(task, SPEC, name, 1, CONFIG)
    # The payloads run where generated code runs: the program's container (its runner replaced by the driver).
    program = pod["spec"]["initContainers"][0]
    assert program["command"][:4] == ["python3", "-I", RUNNER_PATH, "program"]
    program["command"] = ["python3", "/code/main.py"]
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "program-code")
    volume["configMap"]["items"] += [{"key": key, "path": key} for key in (family, "targets.json")]
    for obj in (config_map, pod):
        # There is no AgentTask here: an owner that does not exist would have them garbage-collected.
        del obj["metadata"]["ownerReferences"]
    return config_map, pod


def run_result(namespace: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The finished pod and the driver's report ({"error": ...} when there is none).

    Payloads can write the program container's stdout too (`print`, /proc/1/fd/1), so the log's last line
    proves nothing: the report is the one line tagged with the nonce the driver drew after every payload
    process was gone and left in the container's termination message, which only the pod's status shows."""
    pod = wait_pod_done(namespace, name, timeout=200)
    status = container_status(pod, PROGRAM_CONTAINER) or {}
    nonce = str((status.get("state") or {}).get("terminated", {}).get("message", "")).strip()
    lines = kubectl("logs", "-n", namespace, name, "-c", PROGRAM_CONTAINER).rstrip("\n").splitlines()
    tagged = [line for line in lines if nonce and line.startswith(f"{REPORT_TAG} {nonce} ")]
    if len(tagged) != 1:
        tail = "\n".join(lines[-20:])
        return pod, {"error": f"{len(tagged)} report lines with nonce {nonce!r}; log tail:\n{tail}"}
    try:
        document: dict[str, Any] = json.loads(tagged[0].split(" ", 2)[2])
    except ValueError:
        document = {"error": tagged[0][:2000]}
    return pod, document


@pytest.fixture(scope="module")
def contained(cluster: None) -> Iterator[Results]:
    namespace = unique_name("escapes")
    kubectl("create", "namespace", namespace)
    try:
        guards = [deny_all_network_policy, sandbox_resource_quota, sandbox_limit_range]
        apply([guard(namespace) for guard in guards], namespace)
        # Another pod to try to reach: a TCP server (runc, not a sandbox, so the policy does not select it).
        apply(python_pod("server", SERVER, runtime_class=None, labels={"app": "escape-target"}), namespace)
        kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/server", "--timeout=120s", timeout=130)
        server_ip = get_json("pod", "server", namespace)["status"]["podIP"]
        # Positive control: the server answers from outside the policy's reach, so a failure to connect
        # from a sandbox is the policy's doing.
        wait_answer(server_ip)
        service = get_json("service", "kubernetes", "default")
        endpoints = get_json("endpoints", "kubernetes", "default")["subsets"][0]
        targets = {
            "apiServiceHost": service["spec"]["clusterIP"],
            "apiServicePort": service["spec"]["ports"][0]["port"],
            "apiEndpointHost": endpoints["addresses"][0]["ip"],
            "apiEndpointPort": endpoints["ports"][0]["port"],
            "otherPodIP": server_ip,
            "otherPodPort": SERVER_PORT,
            "absentPaths": [*TOKEN_PATHS, *host_only_paths()],
        }
        built = {family: build(namespace, family, targets) for family in FAMILIES}
        names = {family: pod["metadata"]["name"] for family, (_, pod) in built.items()}
        results: Results = {}
        # The first pod alone, so it has finished writing its markers before any other pod starts.
        apply(list(built[FIRST]), namespace)
        results[FIRST] = run_result(namespace, names[FIRST])
        rest = [f for f in FAMILIES if f != FIRST]
        apply([obj for family in rest for obj in built[family]], namespace)
        for family in rest:
            results[family] = run_result(namespace, names[family])
        yield results
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def wait_answer(ip: str, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((ip, SERVER_PORT), timeout=2) as conn:
                assert conn.recv(4) == b"pong"
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)


def report(pod: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    assert "error" not in document, document["error"]
    assert pod["status"]["phase"] == "Succeeded"
    return document


@pytest.mark.parametrize("family", FAMILIES)
def test_payloads_are_contained(contained: Results, family: str) -> None:
    pod, document = contained[family]
    probe = report(pod, document)

    # The pod is the operator's sandbox pod: the lockdown as built, in gVisor, with the runner.
    spec = pod["spec"]
    assert spec["runtimeClassName"] == "gvisor" and spec["automountServiceAccountToken"] is False
    assert pod["metadata"]["labels"]["level5.dev/sandbox"] == "true"
    container = spec["initContainers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["command"] == ["python3", "/code/main.py"]
    assert not any(v.get("projected") or v.get("secret") for v in spec.get("volumes", []))

    # Every payload of the file ran (its outcome does not matter).
    expected = payload_names((CORPUS / family).read_text())
    assert probe["corpus"] == [family]
    assert [key.split(" ", 1)[1] for key in probe["ran"]] == expected
    assert not [key for key, outcome in probe["ran"].items() if outcome.startswith("unguarded")], probe["ran"]
    assert probe["pid"] == 1  # so reaping with kill(-1) left only the driver

    # No network: not another pod, not DNS (the API server: test_api_server_is_unreachable).
    assert probe["network"]["other-pod"] != "connected", probe["network"]
    assert probe["dns"].startswith("error"), probe["dns"]

    # No service-account token, no host filesystem, gVisor's kernel.
    # The image's own /root is mode 0700 (root's), so below it "absent" may read as "permission denied".
    for path, outcome in probe["paths"].items():
        allowed = ("error ENOENT", "error EACCES") if path.startswith("/root/") else ("error ENOENT",)
        assert outcome.startswith(allowed), f"{path}: {outcome}"
    assert set(TOKEN_PATHS) <= set(probe["paths"]) and len(probe["paths"]) >= len(TOKEN_PATHS) + 3
    assert sum(not p.startswith("/root/") for p in probe["paths"]) >= len(TOKEN_PATHS) + 1
    host_release = Path("/proc/sys/kernel/osrelease").read_text().strip()
    assert probe["kernel"]["osrelease"] != host_release and probe["kernel"]["uname"] != host_release
    assert probe["kernel"]["uname"] == "4.4.0", probe["kernel"]  # what gVisor's Sentry reports

    # Read-only root filesystem, even where the permissions would allow a write (/var/tmp is 1777).
    for path, outcome in probe["writes"].items():
        assert outcome.startswith("error"), f"wrote {path}"
    assert probe["writes"]["/var/tmp/level5-probe"].startswith("error EROFS")
    assert "ro" in probe["rootMount"].split(","), probe["rootMount"]

    # Unprivileged: uid/gid 65532, no capabilities, no privilege escalation.
    assert probe["uid"] == [PROGRAM_UID] * 4
    assert int(probe["capEff"], 16) == 0

    # No persistence: /tmp and /output start empty (the runner's own work directory aside); the markers
    # written by the first pod are nowhere, though writing them worked.
    assert probe["before"]["output"] == [] and set(probe["before"]["tmp"]) <= {"level5"}, probe["before"]
    assert probe["markers"] == {"/tmp": "ok", "/output": "ok"}
    marker = f"persist-{contained[FIRST][0]['metadata']['name']}"
    if family == FIRST:
        assert marker in probe["after"]["tmp"] and marker in probe["after"]["output"]
    else:
        assert marker not in probe["before"]["tmp"] + probe["before"]["output"]


def test_api_server_is_unreachable(contained: Results) -> None:
    for family, (pod, document) in contained.items():
        probe = report(pod, document)
        assert probe["serviceEnv"]["host"], "KUBERNETES_SERVICE_HOST not seen in the pod"
        for target in ("api-service-env", "api-service", "api-endpoint"):
            assert probe["network"][target] != "connected", f"{family}: {target} reachable from the sandbox"
