"""Fault injection on the real cluster (`make chaos`): the operator SIGKILLed at steps of the state machine
(while the model answers, while the sandbox pod runs, while an Approval is pending), the model endpoint
failing in each way an HTTP service can (timeout, 429 with Retry-After, 500, a body that is not JSON, an empty
choice list, a truncated answer, a closed connection, and one that never recovers), and a sandbox pod deleted
by someone else while its program runs; also the cluster's API server stopped and restarted, and cut off from
the operator by a proxy. Every scenario asserts
that no code ran twice (one pod per iteration, from the pods' Scheduled Events), that no iteration was lost
(the iterations in status are 1..n and each that ran is in the audit trail), that no audit record is missing
(level5.safety.audit.completeness on the chain, which must verify) and that the task ends in its true
outcome. The module prints one table row per scenario at its end."""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tcp_cut import CuttableProxy

from conftest import (
    ROOT,
    OperatorProcess,
    as_user,
    binding,
    program_running,
    status_of,
    task_pods,
    user_kubeconfig,
    wait_for,
    wait_terminal,
)
from kube import KubectlError, kubectl
from level5.safety.audit import completeness, verify
from scripted_model import ScriptedModel
from task_manifests import code, task

pytestmark = pytest.mark.cluster

ROWS: list[dict[str, object]] = []
EXIT0 = {"name": "exits-cleanly", "exitCode": 0}


@pytest.fixture(scope="module", autouse=True)
def table(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the scenarios' table once the module's tests ran (on the terminal, also without -s)."""
    yield
    columns = [
        "scenario",
        "tasks",
        "executions",
        "lost iterations",
        "missing audit records",
        "double executions",
    ]
    lines = [" | ".join(columns), *(" | ".join(str(row[c]) for c in columns) for row in ROWS)]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print("\n" + "\n".join(lines), flush=True)


def create(namespace: str, manifest: dict[str, Any]) -> str:
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    return str(manifest["metadata"]["name"])


def scheduled_pods(namespace: str) -> dict[str, set[str]]:
    """Each sandbox pod name and the UIDs of the pods of that name the scheduler placed: two UIDs for one
    name would be the same iteration's code run twice."""
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    found: dict[str, set[str]] = defaultdict(set)
    for event in events:
        target = event.get("involvedObject") or {}
        if target.get("kind") == "Pod" and event.get("reason") == "Scheduled":
            found[target["name"]].add(target["uid"])
    return found


def record(
    scenario: str, operator: OperatorProcess, namespace: str, outcomes: dict[str, str]
) -> dict[str, object]:
    """Check the scenario's tasks against the invariants, add its table row and return it."""
    lines = operator.audit_path.read_text().splitlines()
    assert verify(lines).ok, verify(lines)
    check = completeness(lines)
    lost = 0
    for name, expected in outcomes.items():
        status = status_of(namespace, name)
        assert status["phase"] == expected, (name, status.get("phase"), status.get("conditions"))
        iterations = [h["iteration"] for h in status.get("history", [])]
        lost += len(set(range(1, len(iterations) + 1)) - set(iterations))
        uid = json.loads(kubectl("get", "agenttask", name, "-n", namespace, "-o", "json"))["metadata"]["uid"]
        ran = {h["iteration"] for h in status.get("history", []) if h.get("podName")}
        audited = {int(step.split("/")[1]) for step in _launched(lines) if step.startswith(f"{uid}/")}
        lost += len(ran - audited)
    pods = scheduled_pods(namespace)
    row: dict[str, object] = {
        "scenario": scenario,
        "tasks": len(outcomes),
        "executions": sum(len(uids) for uids in pods.values()),
        "lost iterations": lost,
        "missing audit records": len(check.missing) + len(check.repeated),
        "double executions": sum(len(uids) - 1 for uids in pods.values()),
    }
    ROWS.append(row)
    assert row["lost iterations"] == row["missing audit records"] == row["double executions"] == 0, (
        row,
        check,
    )
    return row


def _launched(lines: list[str]) -> list[str]:
    steps = []
    for line in lines:
        record = json.loads(line)
        if record["kind"] == "launch":
            steps.append(str(record["data"]["step"]))
    return steps


def restart(operator: OperatorProcess) -> None:
    operator.kill()  # SIGKILL, to the whole process group
    operator.start()


def test_operator_killed_at_each_step(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    # While the model answers (Generating): the answer comes late, the operator dies waiting for it.
    model.add(
        {"match": "chaos-generating", "content": code("print('generated')"), "delay": 6},
        {"match": "chaos-generating", "content": code("print('generated')")},
        {"match": "chaos-running", "content": code("import time\ntime.sleep(15)\nprint('ran once')")},
    )
    generating = create(namespace, task("generating", "Print a line (chaos-generating).", [EXIT0]))
    wait_for(lambda: any("chaos-generating" in p for p in model.prompts()), 120, "the model to be asked")
    restart(operator)
    running = create(namespace, task("running", "Print a line (chaos-running).", [EXIT0]))
    wait_for(lambda: bool(task_pods(namespace, running)), 120, "the sandbox pod")
    restart(operator)
    for name in (generating, running):
        assert wait_terminal(namespace, name)["phase"] == "Succeeded"
    record(
        "operator SIGKILL: Generating, Running",
        operator,
        namespace,
        {generating: "Succeeded", running: "Succeeded"},
    )


def test_operator_killed_while_an_approval_is_pending(
    operator: OperatorProcess, namespace: str, model: ScriptedModel, tmp_path: Path, chart_roles: None
) -> None:
    kubectl("create", "serviceaccount", "alice", "-n", namespace)
    kubectl("apply", "-n", namespace, "-f", "-",
            input=json.dumps(binding(namespace, "alice", "ClusterRole", "level5-approver")))  # fmt: skip
    alice = user_kubeconfig(tmp_path, namespace, "alice")
    model.add({"match": "chaos-approval", "content": code("print('approved')", confidence=0.2)})
    name = create(
        namespace, task("approval", "Print a line (chaos-approval).", [EXIT0], autonomy={"level": "A"})
    )

    def pending() -> str | None:
        found = json.loads(kubectl("get", "approvals", "-n", namespace, "-o", "json"))["items"]
        open_ = [a for a in found if (a.get("status") or {}).get("state") == "Pending"]
        return str(open_[0]["metadata"]["name"]) if open_ else None

    approval = wait_for(pending, 120, "the Approval")
    restart(operator)
    decided = as_user(alice, "patch", "approval", approval, "-n", namespace, "--type", "merge",
                      "-p", '{"spec":{"decision":"Approve"}}')  # fmt: skip
    assert decided.returncode == 0, decided.stderr
    assert wait_terminal(namespace, name)["phase"] == "Succeeded"
    record("operator SIGKILL: AwaitingApproval", operator, namespace, {name: "Succeeded"})


FAULTS: dict[str, dict[str, object]] = {
    "timeout": {"delay": 6},
    "429-retry-after": {"status": 429, "retryAfter": 1},
    "500": {"status": 500},
    "malformed-json": {"fault": "malformed"},
    "empty-choices": {"fault": "empty-choices"},
    "truncated": {"fault": "truncated"},
    "connection-closed": {"fault": "close"},
}


def test_model_endpoint_faults_are_retried_then_the_task_goes_on(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    operator.extra_env.update(
        {
            "LEVEL5_MODEL_TIMEOUT_SECONDS": "3",
            "LEVEL5_MODEL_RETRIES": "2",
            "LEVEL5_MODEL_BACKOFF_SECONDS": "0.5",
        }
    )
    restart(operator)
    for fault, reply in FAULTS.items():
        model.add({"match": f"chaos-{fault}.", **reply})
        model.add({"match": f"chaos-{fault}.", "content": code(f"print('{fault} survived')")})
        create(namespace, task(fault, f"Print a line (chaos-{fault}.).", [EXIT0]))
    model.add({"match": "chaos-down.", "status": 503, "repeat": True})
    down = create(namespace, task("down", "Print a line (chaos-down.).", [EXIT0]))
    outcomes = {fault: "Succeeded" for fault in FAULTS}
    for name in outcomes:
        wait_terminal(namespace, name)
    failed = wait_terminal(namespace, down)
    reason = next(c for c in failed["conditions"] if c["type"] == "Failed")["reason"]
    assert reason == "ModelUnavailable"
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    retried = {e["involvedObject"]["name"] for e in events if e.get("reason") == "ModelRetrying"}
    assert retried == {*FAULTS, down}
    record("model endpoint faults (7 kinds, and one that stays down)", operator, namespace,
           {**outcomes, down: "Failed"})  # fmt: skip


def running_pod(namespace: str, name: str, iteration: int) -> str:
    """The name of the task's sandbox pod of `iteration` once its program runs."""

    def pod() -> str | None:
        for found in task_pods(namespace, name):
            labels = found["metadata"]["labels"]
            if labels.get("level5.dev/iteration") == str(iteration) and program_running(found):
                return str(found["metadata"]["name"])
        return None

    result: str = wait_for(pod, 180, f"the program of {name}'s iteration {iteration}")
    return result


def evict(namespace: str, pod: str) -> None:
    """Evict a pod through the Eviction API (what a node drain does), not a plain delete."""
    meta = {"name": pod, "namespace": namespace}
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": meta}
    kubectl("create", "--raw", f"/api/v1/namespaces/{namespace}/pods/{pod}/eviction", "-f", "-",
            input=json.dumps(eviction))  # fmt: skip


def warnings(namespace: str, name: str, reason: str) -> list[str]:
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    return [
        e.get("message", "")
        for e in events
        if e.get("reason") == reason and (e.get("involvedObject") or {}).get("name") == name
    ]


def test_a_sandbox_pod_deleted_mid_run_is_retried_and_not_counted(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(
        {"match": "chaos-deleted", "content": code("import time\ntime.sleep(60)\nprint('slow')")},
        {"match": "chaos-deleted", "content": code("print('quick')")},
    )
    # One iteration allowed: the task can only succeed if the interrupted one is not counted.
    name = create(
        namespace, task("deleted", "Print a line (chaos-deleted).", [EXIT0], iterations={"maxIterations": 1})
    )
    pod = running_pod(namespace, name, 1)
    kubectl("delete", "pod", pod, "-n", namespace, "--wait=false")
    status = wait_terminal(namespace, name)
    assert status["phase"] == "Succeeded" and status["iteration"] == 2, status
    first = status["history"][0]
    assert "deleted before the program finished" in first["reason"], first
    assert first["termination"] == "PodDeleted" and "143" not in first["reason"]
    assert status["totals"]["interruptedIterations"] == 1
    retry_prompt = [p for p in model.prompts() if "chaos-deleted" in p][-1]
    assert "not the program's fault" in retry_prompt
    told = warnings(namespace, name, "SandboxInterrupted")
    assert any("not counted against maxIterations" in m for m in told), told
    record("sandbox pod deleted mid-run (retried, not counted)", operator, namespace, {name: "Succeeded"})


def test_sandbox_pods_evicted_mid_run_are_retried_within_their_own_budget(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add({"match": "chaos-evicted", "content": code("import time\ntime.sleep(60)\nprint('slow')"),
               "repeat": True})  # fmt: skip
    limits = {"maxIterations": 5, "maxInterruptedIterations": 2}
    name = create(namespace, task("evicted", "Print a line (chaos-evicted).", [EXIT0], iterations=limits))
    evict(namespace, running_pod(namespace, name, 1))
    evict(namespace, running_pod(namespace, name, 2))  # retried, and evicted again: the budget is spent
    status = wait_terminal(namespace, name)
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert (status["phase"], failed["reason"]) == ("Failed", "SandboxInterrupted"), status
    assert "maxInterruptedIterations is 2" in failed["message"]
    assert [h["termination"] for h in status["history"]] == ["PodDeleted", "PodDeleted"]
    scenario = "sandbox pod evicted (Eviction API) mid-run, twice: Failed, SandboxInterrupted"
    record(scenario, operator, namespace, {name: "Failed"})


EMERGENCY_STOP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "level5-emergency-stop"},
    "data": {"stop": "true"},
}


def test_operator_killed_right_after_a_kill_switch_is_set(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    slow = code("import time\ntime.sleep(90)\nprint('slow')")
    model.add(
        {"match": "chaos-cancel.", "content": slow},
        {"match": "chaos-stop.", "content": slow},
        {"match": "chaos-stop.", "content": code("print('after the stop')")},
    )
    cancelled = create(namespace, task("cancel", "Print a line (chaos-cancel.).", [EXIT0]))
    stopped = create(namespace, task("stop", "Print a line (chaos-stop.).", [EXIT0]))
    cancelled_pod = running_pod(namespace, cancelled, 1)
    stopped_pod = running_pod(namespace, stopped, 1)
    # spec.cancel, and the operator SIGKILLed at once (before or while it kills the pod).
    cancel = '{"spec":{"cancel":true}}'
    kubectl("patch", "agenttask", cancelled, "-n", namespace, "--type", "merge", "-p", cancel)
    restart(operator)
    status = wait_terminal(namespace, cancelled)
    assert status["history"][0]["termination"] == "Cancelled", status
    wait_for(lambda: not task_pods(namespace, cancelled), 60, "the cancelled task's pod to go")
    # The emergency stop, and the operator SIGKILLed at once: the next one must find the stop and keep it.
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(EMERGENCY_STOP))
    restart(operator)

    def held() -> bool:
        found = status_of(namespace, stopped)
        stop = [c for c in found.get("conditions", []) if c["type"] == "EmergencyStop"]
        return bool(stop) and stop[0]["status"] == "True" and not task_pods(namespace, stopped)

    wait_for(held, 120, "the task held by the emergency stop, its pod gone")
    assert status_of(namespace, stopped)["history"][0]["termination"] == "EmergencyStop"
    kubectl("delete", "configmap", "level5-emergency-stop", "-n", namespace)
    assert wait_terminal(namespace, stopped)["phase"] == "Succeeded"
    assert {cancelled_pod, stopped_pod} <= set(scheduled_pods(namespace))
    record("operator SIGKILL right after a kill switch (cancel; emergency stop)", operator, namespace,
           {cancelled: "Cancelled", stopped: "Succeeded"})  # fmt: skip


def three_iterations(label: str, seconds: int = 3) -> list[dict[str, object]]:
    """The answers of the task whose goal is three_iterations_goal(label): two programs that fail, then
    one that passes. Each is chosen by the previous iteration's failure (in the prompt's feedback), so a
    question asked again after a kill gets the same answer."""
    marker = f"{label}-marker-"
    return [
        {"match": f"{marker}2-failed", "content": code(f"print('{label} done')"), "repeat": True},
        {"match": f"{marker}1-failed",
         "content": code(f"import time\ntime.sleep(2)\nraise RuntimeError('{marker}' + '2-failed')"),
         "repeat": True},
        {"match": three_iterations_goal(label),
         "content": code(f"import time\ntime.sleep({seconds})\nraise SystemExit('{marker}' + '1-failed')"),
         "repeat": True},
    ]  # fmt: skip


def three_iterations_goal(label: str) -> str:
    return f"Print a line (chaos-{label}.)."


RANDOM_TASKS = 10
RANDOM_KILLS = 5


def test_operator_killed_at_random_moments_across_concurrent_tasks(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    seed = int(os.environ.get("LEVEL5_CHAOS_SEED", time.time()))
    print(f"LEVEL5_CHAOS_SEED={seed}")  # to replay the same kill moments
    rng = random.Random(seed)
    names = []
    for n in range(RANDOM_TASKS):
        model.add(*three_iterations(f"random-{n}"))
        goal = three_iterations_goal(f"random-{n}")
        names.append(create(namespace, task(f"random-{n}", goal, [EXIT0])))
    kills = 0
    while kills < RANDOM_KILLS:
        time.sleep(rng.uniform(2, 12))
        if all(status_of(namespace, n).get("phase") == "Succeeded" for n in names):
            break
        restart(operator)
        kills += 1
    for name in names:
        status = wait_terminal(namespace, name, timeout=600)
        assert status["phase"] == "Succeeded" and status["iteration"] == 3, (name, status)
    assert kills >= 2, "the tasks finished before the operator was killed twice"
    record(f"operator SIGKILL at random moments ({kills} kills), 3-iteration tasks", operator, namespace,
           dict.fromkeys(names, "Succeeded"))  # fmt: skip


API_CUT_SECONDS = 30


def test_the_api_server_unreachable_for_tens_of_seconds(
    operator: OperatorProcess, namespace: str, model: ScriptedModel, tmp_path: Path
) -> None:
    model.add(
        {"match": "chaos-cut-1.", "content": code("import time\ntime.sleep(15)\nprint('through the cut')")},
        {"match": "chaos-cut-2.", "content": code("print('created during the cut')")},
    )
    admin = json.loads(kubectl("config", "view", "--raw", "--minify", "-o", "json"))
    server = admin["clusters"][0]["cluster"]["server"]
    host, port = server.removeprefix("https://").rsplit(":", 1)
    with CuttableProxy(host, int(port)) as proxy:
        admin["clusters"][0]["cluster"]["server"] = proxy.url
        kubeconfig = tmp_path / "through-proxy.kubeconfig"
        kubeconfig.write_text(json.dumps(admin))
        operator.extra_env["KUBECONFIG"] = str(kubeconfig)
        restart(operator)
        first = create(namespace, task("cut-1", "Print a line (chaos-cut-1.).", [EXIT0]))
        running_pod(namespace, first, 1)
        proxy.cut()  # the program ends while the operator cannot see it
        cut_at = time.monotonic()
        second = create(namespace, task("cut-2", "Print a line (chaos-cut-2.).", [EXIT0]))
        time.sleep(max(0.0, API_CUT_SECONDS - (time.monotonic() - cut_at)))
        assert status_of(namespace, second).get("phase") is None  # the operator saw nothing of it
        assert proxy.dropped > 0  # its watches were open and were dropped
        proxy.restore()
        for name in (first, second):
            assert wait_terminal(namespace, name, timeout=300)["phase"] == "Succeeded"
    record(f"API server unreachable for the operator ({API_CUT_SECONDS} s)", operator, namespace,
           {first: "Succeeded", second: "Succeeded"})  # fmt: skip


@contextlib.contextmanager
def api_server_stopped() -> Iterator[None]:
    """The cluster's kube-apiserver process stopped (SIGTERM) for the block, then started again: every
    client (the operator, the kubelet, the controllers) loses it and must reconnect to a new process."""
    script = ROOT / "cluster" / "apiserver.sh"
    subprocess.run(["bash", str(script), "stop"], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["bash", str(script), "start"], check=True, capture_output=True)


def test_the_api_server_stopped_for_tens_of_seconds_and_restarted(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(
        {"match": "chaos-stop-1.", "content": code("import time\ntime.sleep(10)\nprint('through the stop')")},
        {"match": "chaos-stop-2.", "content": code("print('created after the restart')")},
    )
    first = create(namespace, task("stop-1", "Print a line (chaos-stop-1.).", [EXIT0]))
    running_pod(namespace, first, 1)
    with api_server_stopped():  # the program ends while nobody can report it
        with pytest.raises(KubectlError):  # it is really gone
            kubectl("get", "agenttask", first, "-n", namespace, timeout=30)
        time.sleep(API_CUT_SECONDS)
    second = create(namespace, task("stop-2", "Print a line (chaos-stop-2.).", [EXIT0]))
    for name in (first, second):
        assert wait_terminal(namespace, name, timeout=300)["phase"] == "Succeeded"
    record(f"API server stopped ({API_CUT_SECONDS} s) and restarted", operator, namespace,
           {first: "Succeeded", second: "Succeeded"})  # fmt: skip


@contextlib.contextmanager
def small_disk(directory: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted at `directory` (needs root), unmounted afterwards."""
    directory.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(directory)], check=True)
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def fill(directory: Path) -> Path:
    """Fill the file system of `directory` to the last byte."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


def failed_write(namespace: str, name: str, error: str) -> bool:
    return any(error in m for m in warnings(namespace, name, "AuditWriteFailed"))


def audited_iterations(path: Path) -> set[int]:
    """The iterations whose evaluation record is in the log (which must be a valid chain)."""
    lines = path.read_text().splitlines()
    assert verify(lines).ok, verify(lines)  # no record cut in half by the full disk
    return {json.loads(line)["iteration"] for line in lines if json.loads(line)["kind"] == "evaluation"}


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting the small audit disk needs root")
def test_the_audit_disk_full_then_read_only(
    operator: OperatorProcess, namespace: str, model: ScriptedModel, tmp_path: Path
) -> None:
    model.add(*three_iterations("disk", seconds=8))
    with small_disk(tmp_path / "disk") as disk:
        operator.audit_path = disk / "audit.jsonl"
        restart(operator)
        name = create(namespace, task("disk", three_iterations_goal("disk"), [EXIT0]))
        running_pod(namespace, name, 1)
        # Full while the first program runs. A page of the log's file may still have room for a record or
        # two, so the failure comes at the execution record or a later one (at the latest the next prompt).
        filler = fill(disk)
        wait_for(lambda: failed_write(namespace, name, "No space left"), 180, "the full disk's Event")
        stalled = status_of(namespace, name)
        counted = {h["iteration"] for h in stalled.get("history", [])}
        assert counted <= audited_iterations(operator.audit_path), stalled  # nothing counted unaudited
        filler.unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        wait_for(lambda: failed_write(namespace, name, "Read-only"), 120, "the read-only disk's Event")
        assert status_of(namespace, name).get("history", []) == stalled.get("history", [])  # no progress
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        status = wait_terminal(namespace, name)
        assert (status["phase"], status["iteration"]) == ("Succeeded", 3), status
        record("audit disk full, then read-only, then fixed (3-iteration task)", operator, namespace,
               {name: "Succeeded"})  # fmt: skip
