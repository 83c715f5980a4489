"""Fixtures for the operator's cluster tests: the CRD installed, a scripted model server on loopback and the
real operator (`kopf run -m level5.handlers`) as a subprocess watching the test's namespace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kube import get_json, kubectl
from scripted_model import ScriptedModel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def crd(cluster: None) -> None:
    kubectl("apply", "-f", str(ROOT / "crds" / "agenttasks.level5.dev.yaml"))
    kubectl("wait", "--for=condition=Established", "crd/agenttasks.level5.dev", "--timeout=60s")


@pytest.fixture
def model() -> Iterator[ScriptedModel]:
    with ScriptedModel() as server:
        yield server


class OperatorProcess:
    """The operator as a subprocess; start() and kill() may be called repeatedly. Its audit log is
    `audit_path`, next to its log (one per test, so tests never share a hash chain)."""

    def __init__(self, namespace: str, model: ScriptedModel, log: Path) -> None:
        self.namespace, self.model, self.log = namespace, model, log
        self.audit_path = log.parent / "audit.jsonl"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "LEVEL5_MODEL_BASE_URL": self.model.base_url,
            "LEVEL5_MODEL_NAME": "scripted",
            "LEVEL5_MODEL_API_KEY": "test",
            "LEVEL5_AUDIT_PATH": str(self.audit_path),
            # The operator watches only the test's namespace, so its emergency-stop ConfigMap lives there.
            "LEVEL5_OPERATOR_NAMESPACE": self.namespace,
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


@pytest.fixture
def operator(crd: None, namespace: str, model: ScriptedModel, tmp_path: Path) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(namespace, model, tmp_path / "operator.log")
    proc.start()
    yield proc
    proc.stop()
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


def wait_terminal(namespace: str, name: str, timeout: float = 240) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status: dict[str, Any] = get_json("agenttask", name, namespace).get("status") or {}
        return status if status.get("phase") in ("Succeeded", "Failed") else None

    result: dict[str, Any] = wait_for(done, timeout, f"agenttask {name} to finish")
    return result


def task_pods(namespace: str, name: str) -> list[dict[str, Any]]:
    import json

    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-l", f"level5.dev/task={name}", "-o", "json"))
    items: list[dict[str, Any]] = pods["items"]
    return items
