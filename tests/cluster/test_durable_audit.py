"""The audit trail survives the operator's pod: installed by the chart with its defaults (a
PersistentVolumeClaim of the cluster's default StorageClass), the log keeps every record across `helm
upgrade` (a new pod, the Recreate strategy) and the operator pod's deletion, the chain verifies, and every
iteration that ran has its launch, execution and evaluation records, each once. When the log is lost while a
task is under way, the new operator refuses to extend it (the task's AuditRefused condition and the
level5_audit_refused metric) instead of starting a new chain."""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_e2e_helm import EXIT0, Release, create, helm
from test_e2e_helm import release as release_fixture  # noqa: F401  # the fixture, under a name of its own
from test_standby import resumed_at

from conftest import task_pods, wait_for, wait_terminal
from kube import OPERATOR_IMAGE, get_json, kubectl
from level5.safety.audit import completeness, verify
from task_manifests import code, task

SANDBOX_IMAGE = os.environ.get("LEVEL5_SANDBOX_IMAGE", "level5.local/sandbox:dev")

pytestmark = pytest.mark.cluster

AUDIT_PATH = "/var/lib/level5/audit.jsonl"


class DurableRelease:
    """The chart with its default audit persistence, this checkout's operator image."""

    def __init__(self, release: Release, directory: Path) -> None:
        self.release, self.values = release, directory / "durable-values.json"
        repository, _, tag = OPERATOR_IMAGE.rpartition(":")
        values = release.values()
        values["image"] = {"repository": repository, "tag": tag, "pullPolicy": "Never"}
        values["model"] = {**values["model"], "timeoutSeconds": 20, "retries": 2, "backoffSeconds": 1}
        # The sandbox image the tests were given (LEVEL5_SANDBOX_IMAGE), like the operator's.
        values["sandbox"] = {**values["sandbox"], "image": SANDBOX_IMAGE}
        self.values.write_text(json.dumps(values))

    def helm(self, verb: str, *extra: str) -> None:
        r = self.release
        if verb == "install":
            kubectl("create", "secret", "generic", "model-key", "-n", r.namespace, "--from-literal=api-key=t")
        helm(verb, r.name, str(Path(__file__).parents[2] / "charts" / "level5"), "-n", r.namespace,
             "-f", str(self.values), "--wait", "--timeout", "4m", *extra)  # fmt: skip

    def pod(self) -> dict[str, Any]:
        """The operator pod once it alone runs and is ready (after a restart the old one may still end)."""

        def ready() -> dict[str, Any] | None:
            pods = [
                p
                for p in json.loads(
                    kubectl(
                        "get",
                        "pods",
                        "-n",
                        self.release.namespace,
                        "-l",
                        f"app.kubernetes.io/instance={self.release.name}",
                        "-o",
                        "json",
                    )
                )["items"]
                if not p["metadata"].get("deletionTimestamp")
            ]
            statuses = [s for p in pods for s in (p.get("status") or {}).get("containerStatuses") or []]
            return pods[0] if len(pods) == 1 and statuses and all(s["ready"] for s in statuses) else None

        pod: dict[str, Any] = wait_for(ready, 180, "one ready operator pod")
        return pod

    def log(self) -> list[str]:
        text = kubectl("exec", "-n", self.release.namespace, self.pod()["metadata"]["name"], "--",
                       "cat", AUDIT_PATH)  # fmt: skip
        return [line for line in text.splitlines() if line.strip()]

    def metric(self, name: str) -> float:
        pod = self.pod()
        port = 9090
        url = f"http://{pod['status']['podIP']}:{port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(f"{name} "):
                    return float(line.split()[1])
        raise AssertionError(f"{name} not exported")


@pytest.fixture
def durable(release_fixture: Release, tmp_path: Path) -> DurableRelease:  # noqa: F811
    """The release (installed by the test; the `release` fixture of test_e2e_helm uninstalls it)."""
    return DurableRelease(release_fixture, tmp_path)


def succeed(namespace: str, release: Release, name: str) -> dict[str, Any]:
    release.model.add({"match": f"durable-{name}", "content": code(f"print('{name} ran')")})
    criteria = [EXIT0, {"name": "ran", "outputContains": f"{name} ran"}]
    create(namespace, task(name, f"Print a line (durable-{name}).", criteria))
    status = wait_terminal(namespace, name, 240)
    assert status["phase"] == "Succeeded", status
    return status


def assert_complete(lines: list[str], statuses: list[dict[str, Any]]) -> None:
    checkpoints = [(s["audit"]["seq"], s["audit"]["hash"]) for s in statuses]
    assert verify(lines, checkpoints=checkpoints).ok, verify(lines, checkpoints=checkpoints)
    check = completeness(lines)
    assert check.ok and check.iterations == len(statuses), check


def test_helm_upgrade_and_a_deleted_pod_keep_every_record(durable: DurableRelease, namespace: str) -> None:
    release = durable.release
    durable.helm("install")
    claim = get_json("pvc", f"{release.fullname}-audit", release.namespace)
    assert claim["status"]["phase"] == "Bound" and claim["spec"]["storageClassName"]

    first = succeed(namespace, release, "first")
    before_upgrade = durable.log()
    assert_complete(before_upgrade, [first])

    old_uid = durable.pod()["metadata"]["uid"]
    durable.helm("upgrade", "--set-string", "podAnnotations.level5\\.dev/upgraded=yes")
    assert durable.pod()["metadata"]["uid"] != old_uid  # a new pod (Recreate), the same claim
    second = succeed(namespace, release, "second")
    after_upgrade = durable.log()
    assert after_upgrade[: len(before_upgrade)] == before_upgrade
    assert_complete(after_upgrade, [first, second])

    old_uid = durable.pod()["metadata"]["uid"]
    kubectl("delete", "pod", "-n", release.namespace, durable.pod()["metadata"]["name"], "--wait=false")
    wait_for(lambda: durable.pod()["metadata"]["uid"] != old_uid, 180, "a new operator pod")
    third = succeed(namespace, release, "third")
    after_delete = durable.log()
    assert after_delete[: len(after_upgrade)] == after_upgrade
    assert_complete(after_delete, [first, second, third])
    assert durable.metric("level5_audit_refused") == 0


def test_a_lost_log_is_refused_not_restarted(durable: DurableRelease, namespace: str) -> None:
    release = durable.release
    durable.helm("install")
    release.model.add({"match": "durable-held", "content": code("print('held ran')", confidence=0.2)})
    held = create(namespace, task("held", "Print a line once approved (durable-held).", [EXIT0],
                                  autonomy={"level": "A"}))  # fmt: skip
    wait_for(
        lambda: (
            (get_json("agenttask", held, namespace).get("status") or {}).get("phase") == "AwaitingApproval"
        ),
        180,
        "the task to wait for a person",
    )
    recorded = get_json("agenttask", held, namespace)["status"]["audit"]
    # The operator's storage is lost (here: the log deleted) and the operator restarts.
    pod = durable.pod()
    kubectl("exec", "-n", release.namespace, pod["metadata"]["name"], "--", "rm", AUDIT_PATH)
    kubectl("delete", "pod", "-n", release.namespace, pod["metadata"]["name"], "--wait=false")
    wait_for(lambda: durable.pod()["metadata"]["uid"] != pod["metadata"]["uid"], 180, "a new operator pod")

    def refused() -> dict[str, Any] | None:
        status = get_json("agenttask", held, namespace)["status"]
        found = [c for c in status.get("conditions", []) if c["type"] == "AuditRefused"]
        return found[0] if found and found[0]["status"] == "True" else None

    condition = wait_for(refused, 120, "the AuditRefused condition")
    assert f"record {recorded['seq']}" in condition["message"]
    assert durable.metric("level5_audit_refused") == 1
    absent = kubectl("exec", "-n", release.namespace, durable.pod()["metadata"]["name"], "--",
                     "cat", AUDIT_PATH, check=False)  # fmt: skip
    assert "No such file" in absent  # nothing appended: no new chain was started
    assert get_json("agenttask", held, namespace)["status"]["phase"] == "AwaitingApproval"


def test_the_charts_standby_takes_over_a_deleted_active_operator(
    durable: DurableRelease, namespace: str
) -> None:
    """`standby.enabled`: two operator pods, one drives the tasks; its pod deleted while a program runs, the
    other finishes the task, with one sandbox pod and a complete trail, and wrote no record before."""
    release = durable.release
    values = json.loads(durable.values.read_text())
    durable.values.write_text(json.dumps({**values, "standby": {"enabled": True, "lifetimeSeconds": 10}}))
    durable.helm("install")
    program = code("import time\ntime.sleep(20)\nprint('once')")
    release.model.add({"match": "durable-standby", "content": program})
    create(namespace, task("standby", "Print a line (durable-standby).", [EXIT0]))
    wait_for(lambda: bool(task_pods(namespace, "standby")), 180, "the sandbox pod")
    pods = operator_pods(release)
    assert len(pods) == 2
    logs = {p: kubectl("logs", "-n", release.namespace, p) for p in pods}
    active = [p for p, log in logs.items() if '"kind":"launch"' in log]
    assert len(active) == 1, "exactly one operator launched the pod"
    standby = next(p for p in pods if p not in active)
    deleted_at = datetime.now(UTC)
    kubectl("delete", "pod", "-n", release.namespace, active[0], "--wait=false")
    status = wait_terminal(namespace, "standby", 240)
    assert status["phase"] == "Succeeded" and len(task_pods(namespace, "standby")) == 1
    records = [
        json.loads(line[line.index("{") :])
        for line in kubectl("logs", "-n", release.namespace, standby).splitlines()
        if "level5.safety.audit" in line and '"hash"' in line
    ]
    times = [datetime.fromisoformat(r["time"]) for r in records]
    assert times and min(times) > deleted_at  # the standby wrote nothing while the other one was active
    text = kubectl("exec", "-n", release.namespace, standby, "--", "cat", AUDIT_PATH)
    assert_complete([line for line in text.splitlines() if line.strip()], [status])
    takeover = (resumed_at(kubectl("logs", "-n", release.namespace, standby)) - deleted_at).total_seconds()
    print(
        f"\nchart standby take-over: {takeover:.1f} s from the active pod's deletion to the standby resuming"
    )


def operator_pods(release: Release) -> list[str]:
    selector = f"app.kubernetes.io/instance={release.name}"
    found = json.loads(kubectl("get", "pods", "-n", release.namespace, "-l", selector, "-o", "json"))["items"]
    return [p["metadata"]["name"] for p in found if not p["metadata"].get("deletionTimestamp")]
