"""End to end, as a user installs level5: the Helm chart installs the operator image into a fresh release
namespace; tasks run through the whole loop against a scripted model on the host (success, self-debugging,
code the review blocks, a level A task approved by a person); a real Prometheus (Debian's package, run
on the host) scrapes the operator through its metrics Service and answers queries about those tasks;
`helm test` passes; `helm uninstall` leaves none of the release's objects behind except the CRDs, which
Helm never deletes.

The release's operator watches only the test's tasks namespace and its own (`--namespace`), and its
webhooks only see the tasks namespace, so the other tests' operators and this one never meet."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    CHART_VALUES,
    ROOT,
    as_user,
    binding,
    free_port,
    task_pods,
    user_kubeconfig,
    wait_for,
    wait_terminal,
)
from forked import FORKED
from kube import get_json, kubectl, unique_name
from scripted_model import ScriptedModel
from task_manifests import code, task

pytestmark = pytest.mark.cluster

NODE_IP = "10.244.0.1"
"""The node's address on the CNI bridge: pods reach the host there, and the host's traffic to pods comes
from it."""
CHART = ROOT / "charts" / "level5"
EXIT0 = {"name": "exits-cleanly", "exitCode": 0}


def helm(*args: str, timeout: float = 300) -> str:
    proc = subprocess.run(["helm", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


class Release:
    """The chart installed as release `name` in `namespace`."""

    def __init__(self, name: str, namespace: str, tasks_namespace: str, model: ScriptedModel) -> None:
        self.name, self.namespace, self.tasks = name, namespace, tasks_namespace
        self.fullname = f"{name}-level5"
        self.model = model

    def values(self) -> dict[str, Any]:
        return {
            "args": [f"--namespace={self.tasks}", f"--namespace={self.namespace}"],
            "model": {
                "baseURL": self.model.base_url,
                "name": "scripted",
                "apiKeySecret": {"name": "model-key", "key": "api-key"},
            },
            "sandbox": {"namespaces": [self.tasks], "createNamespaces": False},
            # The approver roles have fixed names, so a release in a shared cluster leaves them to whoever
            # made them (the `chart_roles` fixture, or another test or release).
            "approverRole": {"create": False},
            "webhook": {
                "enabled": True,
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": self.tasks}},
            },
            "networkPolicy": {"enabled": True, "metricsFrom": [{"ipBlock": {"cidr": f"{NODE_IP}/32"}}]},
        }

    def install(self, directory: Path) -> None:
        kubectl(
            "create", "secret", "generic", "model-key", "-n", self.namespace, "--from-literal=api-key=test"
        )
        values = directory / "values.json"
        values.write_text(json.dumps(self.values()))
        helm(
            "install",
            self.name,
            str(CHART),
            "-n",
            self.namespace,
            "-f",
            str(values),
            "--wait",
            "--timeout",
            "4m",
        )

    def operator_pod(self) -> dict[str, Any]:
        pods = json.loads(
            kubectl(
                "get",
                "pods",
                "-n",
                self.namespace,
                "-l",
                f"app.kubernetes.io/instance={self.name},app.kubernetes.io/component=operator",
                "-o",
                "json",
            )
        )["items"]
        assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
        pod: dict[str, Any] = pods[0]
        return pod


@pytest.fixture
def release(namespace: str, tmp_path: Path, chart_roles: None) -> Iterator[Release]:
    """A fresh release namespace and the scripted model on the node's address (a free port). Whatever the
    test left installed is uninstalled afterwards."""
    if not any(
        f"inet {NODE_IP}/" in line
        for line in subprocess.run(
            ["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    ):
        pytest.fail(f"the node address {NODE_IP} is not on this host")
    release_ns = unique_name("e2e-helm-system")
    kubectl("create", "namespace", release_ns)
    with ScriptedModel(host=NODE_IP) as model:
        rel = Release(unique_name("e2e"), release_ns, namespace, model)
        yield rel
        if "NotFound" not in kubectl("get", "deployment", rel.fullname, "-n", release_ns, check=False):
            print(kubectl("logs", "-n", release_ns, f"deployment/{rel.fullname}", "--tail=200", check=False))
            kubectl("delete", "agenttasks", "--all", "-n", namespace, "--timeout=60s", check=False)
        subprocess.run(
            ["helm", "uninstall", rel.name, "-n", release_ns, "--wait"],
            capture_output=True,
            check=False,
            timeout=300,
        )
    kubectl("delete", "namespace", release_ns, "--wait=false", check=False)


class Prometheus:
    """Debian's prometheus as a host process, scraping one target every second; storage in a tmp dir."""

    def __init__(self, directory: Path, target: str) -> None:
        exe = shutil.which("prometheus")
        if exe is None:
            pytest.fail("prometheus is not installed: make deps installs Debian's package")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "prometheus.yml"
        config.write_text(
            json.dumps(
                {
                    "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
                    "scrape_configs": [{"job_name": "level5", "static_configs": [{"targets": [target]}]}],
                }
            )
        )
        self.log = directory / "prometheus.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    exe,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={directory / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1h",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.ready, 60, "prometheus to be ready")

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def query(self, expr: str) -> float | None:
        """The value of an instant query that returns one sample, None if it returns none."""
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        result = body["data"]["result"]
        assert len(result) <= 1, (expr, result)
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def create(namespace: str, manifest: dict[str, Any]) -> str:
    """Create a task as the admin user; retried while the release's webhooks (fail closed) start."""
    name = str(manifest["metadata"]["name"])

    def created() -> bool:
        out = kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(manifest), check=False)
        return f"{name} created" in out

    wait_for(created, 60, f"agenttask {name} to be admitted")
    return name


def test_helm_install_tasks_prometheus_helm_test_and_uninstall(
    release: Release, namespace: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    model = release.model
    release.install(tmp_path)
    installed = time.monotonic()

    # The operator pod: Ready (kopf's health endpoint behind both probes), non-root, read-only root.
    kubectl(
        "wait",
        "-n",
        release.namespace,
        "--for=condition=Available",
        f"deployment/{release.fullname}",
        "--timeout=120s",
    )
    pod = release.operator_pod()
    container = pod["spec"]["containers"][0]
    assert container["image"] == "level5.local/operator:dev"
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsNonRoot"] is True
    assert all(c["ready"] for c in pod["status"]["containerStatuses"])
    exec_ = ["exec", "-n", release.namespace, pod["metadata"]["name"], "--"]
    assert kubectl(*exec_, "id", "-u").strip() == "65532"
    refused = kubectl(*exec_, "touch", "/probe", check=False)
    assert "Read-only file system" in refused, refused
    # Redaction's detector processes (redaction.workers), forked by a forkserver in the same container
    # (its socket in the /tmp emptyDir), started in the background once the operator is up.
    workers = CHART_VALUES["redaction"]["workers"]
    wait_for(
        lambda: len(kubectl(*exec_, "python", "-c", FORKED).split()) == workers,
        60,
        f"{workers} redaction detector processes in the operator's container",
    )

    # A person to approve: alice, bound in the tasks namespace to the chart's level5-approver role. The
    # admin creates the tasks, so no self-approval is involved.
    kubectl("create", "serviceaccount", "alice", "-n", namespace)
    kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        input=json.dumps(binding(namespace, "alice", "ClusterRole", "level5-approver")),
    )
    alice = user_kubeconfig(tmp_path, namespace, "alice")

    model.add(
        {"match": "e2e-ok", "content": code("print('hello from e2e')", confidence=0.9)},
        {"match": "e2e-debug", "content": code("values = [3, 4]\nprint(sum(values) / len(valuez))")},
        {"match": "e2e-debug", "content": code("values = [3, 4]\nprint(sum(values) / len(values))")},
        {"match": "e2e-blocked", "content": code("import subprocess\nprint(subprocess.run(['id']))")},
        {"match": "e2e-blocked", "content": code("print('blocked no more')")},
        {
            "match": "e2e-approve",
            "content": code(
                "print('approved code ran')", confidence=0.2, uncertainty="whether the greeting is right"
            ),
        },
    )
    ok = create(
        namespace,
        task(
            "ok",
            "Print a greeting (e2e-ok).",
            [EXIT0, {"name": "greets", "outputContains": "hello from e2e"}],
        ),
    )
    debug = create(
        namespace,
        task(
            "debug",
            "Print the mean of 3 and 4 (e2e-debug).",
            [EXIT0, {"name": "mean", "outputContains": "3.5"}],
        ),
    )
    blocked = create(
        namespace,
        task(
            "blocked",
            "Print a line without running commands (e2e-blocked).",
            [EXIT0, {"name": "line", "outputContains": "blocked no more"}],
        ),
    )
    approve = create(
        namespace,
        task(
            "approve",
            "Print a line once a person agrees (e2e-approve).",
            [EXIT0, {"name": "ran", "outputContains": "approved code ran"}],
            autonomy={"level": "A"},
        ),
    )

    def pending_approval() -> str | None:
        found = json.loads(
            kubectl("get", "approvals", "-n", namespace, "-l", f"level5.dev/task={approve}", "-o", "json")
        )["items"]
        pending = [a for a in found if (a.get("status") or {}).get("state") == "Pending"]
        return str(pending[0]["metadata"]["name"]) if pending else None

    approval = wait_for(pending_approval, 120, "the level A task's Approval")
    assert get_json("agenttask", approve, namespace)["status"]["phase"] == "AwaitingApproval"
    assert not task_pods(namespace, approve), "code ran before a person approved it"
    patched = as_user(
        alice,
        "patch",
        "approval",
        approval,
        "-n",
        namespace,
        "--type",
        "merge",
        "-p",
        '{"spec":{"decision":"Approve"}}',
    )
    assert patched.returncode == 0, patched.stderr

    statuses = {name: wait_terminal(namespace, name, 240) for name in (ok, debug, blocked, approve)}
    for name, status in statuses.items():
        assert status["phase"] == "Succeeded", (name, status)
    assert [h["exitCode"] for h in statuses[ok]["history"]] == [0]
    first, second = statuses[debug]["history"]
    assert first["exitCode"] != 0 and "NameError" in first["reason"] and second["exitCode"] == 0
    assert statuses[blocked]["history"][0]["reviewVerdict"] == "block"
    assert "L5-IMPORT-001" in statuses[blocked]["history"][0]["reviewRules"]
    assert not statuses[blocked]["history"][0].get("podName"), "blocked code ran"
    decided = get_json("approval", approval, namespace)
    assert decided["spec"]["decision"] == "Approve"
    assert decided["spec"]["decidedBy"] == f"system:serviceaccount:{namespace}:alice"
    tasks_done = time.monotonic()

    # A real Prometheus on the host scrapes the operator through the metrics Service's ClusterIP (host ->
    # ClusterIP through kube-proxy; the NetworkPolicy lets the node's address in).
    service = get_json("service", f"{release.fullname}-metrics", release.namespace)
    prometheus = Prometheus(tmp_path / "prometheus", f"{service['spec']['clusterIP']}:9090")
    expected = {
        'up{job="level5"}': lambda v: v == 1,
        "level5_build_info": lambda v: v == 1,
        'level5_tasks{phase="Succeeded"}': lambda v: v >= 4,
        'level5_tasks{phase="AwaitingApproval"}': lambda v: v == 0,
        'sum(level5_tasks_finished_total{phase="Succeeded",reason="AllCriteriaPassed"})': lambda v: v >= 4,
        'level5_iterations_total{outcome="failed"}': lambda v: v >= 1,
        'level5_iterations_total{outcome="review_blocked"}': lambda v: v >= 1,
        'level5_iterations_total{outcome="succeeded"}': lambda v: v >= 4,
        'level5_reviews_total{verdict="block"}': lambda v: v >= 1,
        'level5_approval_wait_seconds_count{decision="Approve"}': lambda v: v >= 1,
        "sum(level5_escalations_total)": lambda v: v >= 1,
        "sum(level5_model_tokens_total)": lambda v: v > 0,
        "level5_sandbox_run_duration_seconds_count": lambda v: v >= 5,  # 1 + 2 + 1 (after the block) + 1
        "level5_audit_records_total": lambda v: v > 0,
        "level5_audit_write_failures_total": lambda v: v == 0,
        "level5_emergency_stop_active": lambda v: v == 0,
    }
    values: dict[str, float | None] = {}

    def all_as_expected() -> bool:
        values.update({expr: prometheus.query(expr) for expr in expected})
        return all(
            v is not None and check(v)
            for (expr, check), v in zip(expected.items(), values.values(), strict=True)
        )

    try:
        try:
            wait_for(all_as_expected, 60, "Prometheus to have the expected series")
        except TimeoutError as exc:
            raise AssertionError(
                f"Prometheus answered {json.dumps(values, indent=1)}; "
                f"log: {prometheus.log.read_text()[-2000:]}"
            ) from exc
    finally:
        prometheus.stop()
    print("Prometheus:", json.dumps(values, indent=1))
    scraped = time.monotonic()

    # helm test: the chart's own check, a pod in the release namespace reading the metrics Service.
    out = helm("test", release.name, "-n", release.namespace, "--timeout", "3m")
    assert "Succeeded" in out, out

    # The tasks go first, while their operator still removes its finalizers; then the release.
    kubectl("delete", "agenttasks", "--all", "-n", namespace, "--timeout=120s")
    helm("uninstall", release.name, "-n", release.namespace, "--wait", "--timeout", "3m")
    selector = f"app.kubernetes.io/instance={release.name}"
    # The garbage collector removes the operator pod after its Deployment, within its grace period.
    kubectl("wait", "--for=delete", "pods", "-n", release.namespace, "-l", selector, "--timeout=90s",
            timeout=100)  # fmt: skip
    left = kubectl(
        "get",
        "deployments,replicasets,pods,services,serviceaccounts,roles,rolebindings,"
        "configmaps,secrets,networkpolicies,resourcequotas,limitranges",
        "-n",
        release.namespace,
        "-l",
        selector,
        "-o",
        "name",
    )
    left += kubectl(
        "get",
        "networkpolicies,resourcequotas,limitranges,roles,rolebindings",
        "-n",
        namespace,
        "-l",
        selector,
        "-o",
        "name",
    )
    left += kubectl(
        "get",
        "clusterroles,clusterrolebindings,mutatingwebhookconfigurations,validatingwebhookconfigurations",
        "-l",
        selector,
        "-o",
        "name",
    )
    for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration", "clusterrole"):
        name = release.fullname if kind != "clusterrole" else f"{release.fullname}-operator"
        if "NotFound" not in kubectl("get", kind, name, check=False):
            left += f"{kind}/{name}\n"
    assert not left.strip(), f"left behind by helm uninstall:\n{left}"
    # Helm never deletes CRDs (a chart's crds/ are install-only): the AgentTask and Approval CRDs stay.
    for crd in ("agenttasks.level5.dev", "approvals.level5.dev"):
        kubectl("get", "crd", crd)
    finished = time.monotonic()
    print(
        f"durations: install {installed - started:.1f}s, tasks {tasks_done - installed:.1f}s, "
        f"prometheus {scraped - tasks_done:.1f}s, helm test and uninstall {finished - scraped:.1f}s"
    )
