"""The local cluster is real: gVisor pods, exits, OOM and deadlines, quotas and PodSecurity, kubectl."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kube import (
    KubectlError,
    apply,
    get_json,
    kubectl,
    pod_logs,
    python_pod,
    terminated_state,
    unique_name,
    wait_pod_done,
)

pytestmark = pytest.mark.cluster

RUNTIMES = ["gvisor", None]  # None: the node's default handler (runc)


def test_kubectl_sees_a_ready_node_with_a_real_version(cluster: None) -> None:
    nodes = json.loads(kubectl("get", "nodes", "-o", "json"))["items"]
    assert len(nodes) == 1
    ready = {c["type"]: c["status"] for c in nodes[0]["status"]["conditions"]}
    assert ready["Ready"] == "True"
    version = json.loads(kubectl("version", "-o", "json"))
    assert re.fullmatch(r"v1\.\d+\.\d+", version["serverVersion"]["gitVersion"])
    assert version["serverVersion"]["gitVersion"] == version["clientVersion"]["gitVersion"]
    assert get_json("runtimeclass", "gvisor")["handler"] == "gvisor"


def test_kubectl_apply_of_a_manifest(namespace: str, tmp_path: pytest.TempPathFactory) -> None:
    manifest = tmp_path / "cm.yaml"  # type: ignore[operator]
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  greeting: hello\n"
    )
    assert "created" in kubectl("apply", "-n", namespace, "-f", str(manifest))
    assert get_json("configmap", "applied", namespace)["data"] == {"greeting": "hello"}


def test_gvisor_pod_runs_under_gvisor_not_the_host_kernel(namespace: str) -> None:
    script = "import os; print(os.uname().release); print(open('/proc/version').read())"
    apply(python_pod("kernel", script, runtime_class="gvisor"), namespace)
    pod = wait_pod_done(namespace, "kernel")
    assert pod["status"]["phase"] == "Succeeded"
    assert terminated_state(pod)["exitCode"] == 0
    release = pod_logs(namespace, "kernel").splitlines()[0]
    host_release = Path("/proc/sys/kernel/osrelease").read_text().strip()
    assert release != host_release, "the pod saw the host's kernel: it did not run under gVisor"
    # gVisor's own boot log is what the sandbox's kernel ring buffer holds.
    dmesg = python_pod("dmesg", "import subprocess; subprocess.run(['dmesg'])", runtime_class="gvisor")
    apply(dmesg, namespace)
    wait_pod_done(namespace, "dmesg")
    assert "gVisor" in pod_logs(namespace, "dmesg")


@pytest.mark.parametrize("runtime", RUNTIMES, ids=["gvisor", "runc"])
def test_exit_codes_are_observed(namespace: str, runtime: str | None) -> None:
    apply(python_pod("ok", "print('fine')", runtime_class=runtime), namespace)
    apply(python_pod("bad", "import sys; sys.exit(3)", runtime_class=runtime), namespace)
    ok, bad = wait_pod_done(namespace, "ok"), wait_pod_done(namespace, "bad")
    assert ok["status"]["phase"] == "Succeeded" and terminated_state(ok)["exitCode"] == 0
    assert bad["status"]["phase"] == "Failed" and terminated_state(bad)["exitCode"] == 3


@pytest.mark.parametrize("runtime", RUNTIMES, ids=["gvisor", "runc"])
def test_pod_over_its_memory_limit_is_oomkilled(namespace: str, runtime: str | None) -> None:
    hog = "chunks = []\nwhile True:\n    chunks.append(b'x' * (16 << 20))\n"
    apply(python_pod("hog", hog, runtime_class=runtime, memory="64Mi"), namespace)
    pod = wait_pod_done(namespace, "hog")
    assert pod["status"]["phase"] == "Failed"
    assert terminated_state(pod)["reason"] == "OOMKilled"


def test_pod_past_its_deadline_is_killed(namespace: str) -> None:
    apply(python_pod("slow", "import time; time.sleep(300)", deadline=3), namespace)
    pod = wait_pod_done(namespace, "slow", timeout=120)
    assert pod["status"]["phase"] == "Failed"
    assert pod["status"]["reason"] == "DeadlineExceeded"


def test_resource_quota_rejects_a_pod_beyond_it(namespace: str) -> None:
    apply(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "small"},
            "spec": {"hard": {"limits.memory": "100Mi", "pods": "5"}},
        },
        namespace,
    )
    # The quota controller must have computed usage before admission enforces it.
    kubectl("wait", "-n", namespace, "--for=jsonpath={.status.hard.pods}=5", "resourcequota/small")
    with pytest.raises(KubectlError, match="exceeded quota"):
        apply(python_pod("big", "print(1)", memory="128Mi"), namespace)


def test_restricted_namespace_rejects_a_privileged_pod(namespace: str) -> None:
    kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    privileged = python_pod("priv", "print(1)")
    container = privileged["spec"]["containers"][0]
    container["securityContext"] = {"privileged": True}
    with pytest.raises(KubectlError, match="violates PodSecurity"):
        apply(privileged, namespace)
    # The locked-down pod our sandboxes use is admitted by the same namespace.
    apply(python_pod(unique_name("ok"), "print(1)"), namespace)
