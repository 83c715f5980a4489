"""Fixtures for the operator's cluster tests: the CRDs installed, a scripted model server on loopback and the
real operator (`kopf run -m level5.handlers`) as a subprocess watching the test's namespace, with its
admission webhook: a TLS certificate made here, and webhook configurations limited to the test's namespace
that send the API server's admission requests to the operator on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube import apply, get_json, kubectl
from level5.core.layout import PROGRAM_CONTAINER
from level5.people.admission import webhook_configurations
from scripted_model import ScriptedModel

ROOT = Path(__file__).resolve().parents[2]
CHART_VALUES = yaml.safe_load((ROOT / "charts" / "level5" / "values.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def crd(cluster: None) -> None:
    kubectl("apply", "-f", str(ROOT / "crds"))
    for name in ("agenttasks", "approvals"):
        kubectl("wait", "--for=condition=Established", f"crd/{name}.level5.dev", "--timeout=60s")


@pytest.fixture(scope="session")
def webhook_tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA and a serving certificate for 127.0.0.1 (tls.crt, tls.key, ca.crt), made with openssl."""
    directory = tmp_path_factory.mktemp("webhook-tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=level5-test-ca",
            "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "tls.key",
        "-out",
        "tls.csr",
    )
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.ext", "-out", "tls.crt")  # fmt: skip
    return directory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def model() -> Iterator[ScriptedModel]:
    with ScriptedModel() as server:
        yield server


class OperatorProcess:
    """The operator as a subprocess; start() and kill() may be called repeatedly. Its audit log is
    `audit_path`, next to its log (one per test, so tests never share a hash chain)."""

    def __init__(self, namespace: str, model: ScriptedModel, log: Path, tls: Path) -> None:
        self.namespace, self.model, self.log, self.tls = namespace, model, log, tls
        self.audit_path = log.parent / "audit.jsonl"
        self.proc: subprocess.Popen[bytes] | None = None
        self.webhook_port, self.metrics_port = free_port(), free_port()
        self.webhook_name = f"level5-test-{namespace}"
        self.extra_env: dict[str, str] = {}

    def webhook_configurations(self) -> list[dict[str, Any]]:
        ca = base64.b64encode((self.tls / "ca.crt").read_bytes()).decode()
        return webhook_configurations(
            self.webhook_name,
            lambda path: {"url": f"https://127.0.0.1:{self.webhook_port}/{path}", "caBundle": ca},
            {"matchLabels": {"kubernetes.io/metadata.name": self.namespace}},
        )

    def start(self) -> None:
        """Start the operator and wait until its webhook answers (the configurations fail closed)."""
        env = {
            **os.environ,
            "LEVEL5_MODEL_BASE_URL": self.model.base_url,
            "LEVEL5_MODEL_NAME": "scripted",
            "LEVEL5_MODEL_API_KEY": "test",
            "LEVEL5_AUDIT_PATH": str(self.audit_path),
            # The operator watches only the test's namespace, so its emergency-stop ConfigMap lives there.
            "LEVEL5_OPERATOR_NAMESPACE": self.namespace,
            "LEVEL5_WEBHOOK_CERT_DIR": str(self.tls),
            "LEVEL5_WEBHOOK_PORT": str(self.webhook_port),
            "LEVEL5_WEBHOOK_ADDR": "127.0.0.1",
            "LEVEL5_METRICS_PORT": str(self.metrics_port),
            # Redaction's detector processes, as many as the chart gives an installed operator.
            "LEVEL5_REDACTION_WORKERS": str(CHART_VALUES["redaction"]["workers"]),
            # The local cluster's collector of gVisor's trace points (cluster/up.sh), on the node address.
            "LEVEL5_SYSCALL_MONITOR_URL": "http://{hostIP}:"
            + os.environ.get("LEVEL5_SYSCALL_MONITOR_PORT", "18090"),
            **self.extra_env,
        }
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kopf",
                    "run",
                    "--standalone",
                    "-m",
                    "level5.handlers",
                    "--namespace",
                    self.namespace,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        apply(self.webhook_configurations())
        end = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.webhook_port), timeout=1).close()
                break
            except OSError as exc:
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise RuntimeError(
                        f"the operator's webhook did not come up: {self.log.read_text()[-3000:]}"
                    ) from exc
                time.sleep(0.2)

    def remove_webhooks(self) -> None:
        for config in self.webhook_configurations():
            kubectl("delete", config["kind"].lower(), self.webhook_name, "--ignore-not-found", check=False)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def running(proc: OperatorProcess) -> Iterator[OperatorProcess]:
    """The operator started, then stopped with its webhooks and its tasks' finalizers removed."""
    proc.start()
    try:
        yield proc
    finally:
        _stop_operator(proc)


@pytest.fixture
def operator(
    crd: None, namespace: str, model: ScriptedModel, tmp_path: Path, webhook_tls: Path
) -> Iterator[OperatorProcess]:
    with running(OperatorProcess(namespace, model, tmp_path / "operator.log", webhook_tls)) as proc:
        yield proc


def _stop_operator(proc: OperatorProcess) -> None:
    namespace = proc.namespace
    proc.stop()
    proc.remove_webhooks()
    # kopf's finalizers would keep the namespace Terminating now that no operator removes them.
    unfinalize = '{"metadata":{"finalizers":null}}'
    for task_name in kubectl("get", "agenttasks", "-n", namespace, "-o", "name").split():
        kubectl("patch", task_name, "-n", namespace, "--type", "merge", "-p", unfinalize, check=False)
    print(proc.log.read_text()[-5000:])


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll check() until it returns something truthy (test-side only; the operator itself watches)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def status_of(namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = get_json("agenttask", name, namespace).get("status") or {}
    return found


def wait_terminal(namespace: str, name: str, timeout: float = 240) -> dict[str, Any]:
    """The status of the task once it is Succeeded, Failed or Cancelled."""

    def done() -> dict[str, Any] | None:
        status = status_of(namespace, name)
        return status if status.get("phase") in ("Succeeded", "Failed", "Cancelled") else None

    result: dict[str, Any] = wait_for(done, timeout, f"agenttask {name} to finish")
    return result


def program_running(pod: dict[str, Any]) -> bool:
    """The sandbox pod's program runs: its container (a ConfigMap-fed pod's init container, a streamed pod's
    first container) has started and not ended. A ConfigMap-fed pod's phase stays Pending until then, so
    "Running" is never the sign of it."""
    status = pod.get("status", {})
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    return any(s.get("name") == PROGRAM_CONTAINER and "running" in (s.get("state") or {}) for s in statuses)


def task_pods(namespace: str, name: str) -> list[dict[str, Any]]:
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-l", f"level5.dev/task={name}", "-o", "json"))
    items: list[dict[str, Any]] = pods["items"]
    return items


# -- people: real users of the cluster with their own RBAC ----------------------------------------------


@pytest.fixture
def chart_roles() -> Iterator[None]:
    """The chart's level5-approver and level5-viewer ClusterRoles, made from the chart unless they exist
    (a release or another test owns them then), and removed again."""
    install = "NotFound" in kubectl("get", "clusterrole", "level5-approver", check=False)
    roles = subprocess.run(
        ["helm", "template", "level5", str(ROOT / "charts" / "level5"), "--kube-version", "1.34.4",
         "--show-only", "templates/rbac-approver.yaml"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if install:
        kubectl("apply", "-f", "-", input=roles)
    yield
    if install:
        kubectl("delete", "-f", "-", "--ignore-not-found", input=roles, check=False)


def user_kubeconfig(directory: Path, namespace: str, user: str) -> str:
    """A kubeconfig for the service account `user` (a token from the API server), as its own file."""
    admin = json.loads(kubectl("config", "view", "--raw", "--minify", "-o", "json"))
    cluster = admin["clusters"][0]["cluster"]
    token = kubectl("create", "token", user, "-n", namespace, "--duration", "1h").strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": "local", "user": user, "namespace": namespace}}],
        "current-context": user,
    }
    path = directory / f"{user}.kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


def binding(namespace: str, user: str, kind: str, role: str) -> dict[str, Any]:
    """A RoleBinding giving the service account `user` the (Cluster)Role `role` in the namespace."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{user}-{role}", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": user, "namespace": namespace}],
    }


def as_user(kubeconfig: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args],
        input=input, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
