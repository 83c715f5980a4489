"""A standby operator (kopf peering, LEVEL5_PEERING_NAME): of two operators sharing one ClusterKopfPeering
object and one audit log, the one started first drives the tasks and the other waits paused; when the active
one is SIGKILLed mid-run, the standby takes over once the active one's keep-alive lapses, and finishes the
task without running its code twice. Two operators never drive the same task: every audit record (each is
mirrored to the operator's log) before the kill is in the active operator's log, none in the standby's. The
take-over time (kill to kopf resuming the standby) is printed, for the README; it is not asserted."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, OperatorProcess, task_pods, wait_for, wait_terminal
from kube import get_json, kubectl, unique_name
from level5.safety.audit import completeness, verify
from scripted_model import ScriptedModel
from task_manifests import code, task

pytestmark = pytest.mark.cluster

LIFETIME = 10


@pytest.fixture
def peering() -> Iterator[str]:
    kubectl("apply", "-f", str(ROOT / "charts" / "level5" / "crds" / "kopf-peering.yaml"))
    kubectl("wait", "--for=condition=Established", "crd/clusterkopfpeerings.kopf.dev", "--timeout=60s")
    name = unique_name("level5-standby")
    kubectl("create", "-f", "-", input=json.dumps(
        {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": name}}
    ))  # fmt: skip
    yield name
    kubectl("delete", "clusterkopfpeering", name, "--ignore-not-found", check=False)


class Standby(OperatorProcess):
    """A second operator: its webhook server listens on a port of its own, and the webhook configurations
    keep naming the first operator's."""

    active: OperatorProcess

    def webhook_configurations(self) -> list[dict[str, Any]]:
        return self.active.webhook_configurations()


def resumed_at(log: str) -> datetime:
    """When kopf last un-paused this operator (its log's last "Resuming operations" line; the logs are in
    UTC). Operators started together may each resume once before they see each other."""
    line = [line for line in log.splitlines() if "Resuming operations" in line][-1]
    return datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)


def audit_times(log: Path) -> list[datetime]:
    """When each audit record mirrored to this operator's log was written."""
    times = []
    for line in log.read_text(errors="replace").splitlines():
        if "level5.safety.audit" in line and '"hash"' in line:
            times.append(datetime.fromisoformat(json.loads(line[line.index("{") :])["time"]))
    return times


@contextlib.contextmanager
def peers(
    operator: OperatorProcess, namespace: str, model: ScriptedModel, peering: str, tmp_path: Path
) -> Iterator[Standby]:
    """The test's operator restarted as a peer, and a standby started after it (so the first stays active);
    the standby is stopped afterwards."""
    env = {"LEVEL5_PEERING_NAME": peering, "LEVEL5_PEERING_LIFETIME_SECONDS": str(LIFETIME)}
    operator.kill()
    operator.extra_env.update(env)
    operator.start()
    standby = Standby(namespace, model, tmp_path / "standby.log", operator.tls)
    standby.active = operator
    standby.audit_path = operator.audit_path  # one log, as both pods mount one claim
    standby.extra_env.update(env)
    try:
        standby.start()
        yield standby
    finally:
        standby.stop()


def test_the_standby_takes_over_and_two_never_drive_one_task(
    operator: OperatorProcess, namespace: str, model: ScriptedModel, peering: str, tmp_path: Path
) -> None:
    with peers(operator, namespace, model, peering, tmp_path) as standby:
        model.add({"match": "standby-run", "content": code("import time\ntime.sleep(15)\nprint('once')")})
        manifest = task("standby", "Print a line (standby-run).", [{"name": "ok", "exitCode": 0}])
        kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(manifest))
        wait_for(lambda: bool(task_pods(namespace, "standby")), 120, "the active operator to launch the pod")
        killed_at = datetime.now(UTC)
        killed = time.monotonic()
        operator.kill()
        status = wait_terminal(namespace, "standby", 240)
        assert status["phase"] == "Succeeded" and status["iteration"] == 1
        assert len(task_pods(namespace, "standby")) == 1
        before, after = audit_times(operator.log), audit_times(standby.log)
        assert before and all(t <= killed_at for t in before)
        assert after and all(t > killed_at for t in after)  # the standby wrote nothing while the other ran
        lines = operator.audit_path.read_text().splitlines()
        assert verify(lines).ok and completeness(lines).ok, completeness(lines)
        takeover = (resumed_at(standby.log.read_text()) - killed_at).total_seconds()
        ended = time.monotonic() - killed
        print(f"\nstandby take-over: {takeover:.1f} s from SIGKILL to the standby resuming "
              f"(keep-alive lifetime {LIFETIME} s; the task ended {ended:.1f} s after the kill)")  # fmt: skip


def driver_pid(namespace: str, name: str) -> int:
    """The process that last claimed the task (status.driver is host/pid/nonce)."""
    driver = get_json("agenttask", name, namespace)["status"]["driver"]
    return int(driver.split("/")[1])


def test_a_paused_active_operator_is_fenced_when_it_resumes(
    operator: OperatorProcess, namespace: str, model: ScriptedModel, peering: str, tmp_path: Path
) -> None:
    """The active operator SIGSTOPped while its task's pod runs, long enough for the standby to take over
    and finish the task, then SIGCONTed: it resumes mid-step with a stale status (waiting on iteration 1's
    pod) and is still the higher-priority peer, so kopf's peering lets it run. Its first status write is
    refused (the standby claimed the task since), it stops driving the task, writes no audit record, and
    the task stays Succeeded with each iteration run once."""
    with peers(operator, namespace, model, peering, tmp_path) as standby:
        assert operator.proc is not None and standby.proc is not None
        model.add(
            {"match": "fence-marker-1-failed", "content": code("print('second')"), "repeat": True},
            {"match": "(fence-run)",
             "content": code("import time\ntime.sleep(20)\nraise SystemExit('fence-marker-' + '1-failed')"),
             "repeat": True},
        )  # fmt: skip
        manifest = task("fence", "Print a line (fence-run).", [{"name": "ok", "exitCode": 0}])
        kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(manifest))
        wait_for(lambda: bool(task_pods(namespace, "fence")), 120, "the active operator to launch the pod")
        assert driver_pid(namespace, "fence") == operator.proc.pid
        stopped_at = datetime.now(UTC)
        os.killpg(operator.proc.pid, signal.SIGSTOP)
        try:
            status = wait_terminal(namespace, "fence", 240)
            takeover = (resumed_at(standby.log.read_text()) - stopped_at).total_seconds()
        finally:
            os.killpg(operator.proc.pid, signal.SIGCONT)
        assert status["phase"] == "Succeeded" and status["iteration"] == 2, status
        assert driver_pid(namespace, "fence") == standby.proc.pid

        def acted() -> bool:  # fenced, or (unfenced) it went on from its stale status
            recorded = any(t > stopped_at for t in audit_times(operator.log))
            return recorded or "fenced: " in operator.log.read_text()

        wait_for(acted, 120, "the resumed operator to take its next step")
        time.sleep(15)  # its daemon's retry (10 s) finds the task finished: nothing more happens
        assert all(t <= stopped_at for t in audit_times(operator.log))  # nothing recorded after it resumed
        after = get_json("agenttask", "fence", namespace)["status"]
        assert (after["phase"], [h["iteration"] for h in after["history"]]) == ("Succeeded", [1, 2]), after
        assert driver_pid(namespace, "fence") == standby.proc.pid
        assert "fenced: " in operator.log.read_text()
        pods = task_pods(namespace, "fence")
        assert sorted(p["metadata"]["labels"]["level5.dev/iteration"] for p in pods) == ["1", "2"]
        lines = operator.audit_path.read_text().splitlines()
        assert verify(lines).ok and completeness(lines).ok, completeness(lines)
        print(f"\nSIGSTOP take-over: {takeover:.1f} s from SIGSTOP to the standby resuming "
              f"(keep-alive lifetime {LIFETIME} s); the resumed operator was fenced")  # fmt: skip
