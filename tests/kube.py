"""Helpers for tests that drive the real local cluster through its kubectl (no fake API anywhere)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from typing import Any

import pytest

SANDBOX_BASE_IMAGE = os.environ.get("LEVEL5_SANDBOX_BASE_TAG", "level5.local/sandbox-base:bookworm-1")
OPERATOR_IMAGE = os.environ.get("LEVEL5_OPERATOR_IMAGE", "level5.local/operator:dev")


def unavailable(message: str) -> None:
    """A piece of the local cluster is missing: an error in CI, a skip locally."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class KubectlError(RuntimeError):
    """kubectl exited non-zero; the message carries its stderr."""


def kubectl(
    *args: str,
    input: str | None = None,
    check: bool = True,
    timeout: float = 120,
    kubeconfig: str | None = None,
) -> str:
    """Run the cluster's kubectl (KUBECONFIG from the environment, or `kubeconfig` for another user) and
    return its stdout (its stderr when it failed and check is False)."""
    exe = shutil.which("kubectl") or "kubectl"
    user = ["--kubeconfig", kubeconfig] if kubeconfig else []
    proc = subprocess.run(
        [exe, *user, *args], input=input, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise KubectlError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout if proc.returncode == 0 else proc.stderr


def apply(obj: dict[str, Any] | list[dict[str, Any]], namespace: str | None = None) -> str:
    """kubectl apply one object or a list of objects given as dicts."""
    doc = {"apiVersion": "v1", "kind": "List", "items": obj} if isinstance(obj, list) else obj
    ns = ["-n", namespace] if namespace else []
    return kubectl("apply", *ns, "-f", "-", input=json.dumps(doc))


def get_json(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    ns = ["-n", namespace] if namespace else []
    result: dict[str, Any] = json.loads(kubectl("get", kind, name, *ns, "-o", "json"))
    return result


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def wait_pod_done(namespace: str, name: str, timeout: float = 180) -> dict[str, Any]:
    """Wait until the pod is Succeeded or Failed and return it."""
    end = time.monotonic() + timeout
    pod: dict[str, Any] = {}
    while time.monotonic() < end:
        pod = get_json("pod", name, namespace)
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return pod
        time.sleep(0.5)
    raise TimeoutError(f"pod {namespace}/{name} not done after {timeout}s: {json.dumps(pod.get('status'))}")


def wait_pod_running(namespace: str, name: str, timeout: float = 120) -> dict[str, Any]:
    """Wait until the pod is Running with all containers ready (or fail if it terminated)."""
    kubectl(
        "wait",
        "-n",
        namespace,
        "--for=condition=Ready",
        f"pod/{name}",
        f"--timeout={int(timeout)}s",
        timeout=timeout + 10,
    )
    return get_json("pod", name, namespace)


def python_pod(
    name: str,
    script: str,
    *,
    runtime_class: str | None = "gvisor",
    memory: str = "128Mi",
    labels: dict[str, str] | None = None,
    deadline: int | None = None,
    image: str = SANDBOX_BASE_IMAGE,
) -> dict[str, Any]:
    """A locked-down pod (restricted PodSecurity profile) that runs a Python script once."""
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "main",
                "image": image,
                "imagePullPolicy": "Never",
                "command": ["python3", "-c", script],
                "resources": {
                    "requests": {"cpu": "100m", "memory": memory},
                    "limits": {"cpu": "500m", "memory": memory},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    if runtime_class:
        spec["runtimeClassName"] = runtime_class
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
    }


def pod_logs(namespace: str, name: str) -> str:
    return kubectl("logs", "-n", namespace, name)


def terminated_state(pod: dict[str, Any]) -> dict[str, Any]:
    """The terminated state of the pod's first container ({} if it has none)."""
    statuses = pod.get("status", {}).get("containerStatuses") or [{}]
    state: dict[str, Any] = statuses[0].get("state", {}).get("terminated", {})
    return state
