"""What a finished sandbox pod tells: the runner's result or why there is none (read from the pod's status),
and what the system-call monitor saw. Pure functions and models, shared by the launcher (kube) and
the loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from level5.api.status import SyscallMonitoring, Termination
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_CONTAINER
from level5.sandbox.manifests import RUN_KEY_ANNOTATION
from level5.sandbox.result import RunResult
from level5.sandbox.syscall_summary import SyscallSummary

Pod = dict[str, Any]
QuotaRefusal = tuple[str, str]
"""A ResourceQuota's refusal of a sandbox pod: the quota's name and the API server's message."""
QueueReport = Callable[[QuotaRefusal | None, str], Awaitable[None]]
"""Told the refusal when a launch starts waiting for quota (or the quota that refuses it changes), and None
when it stops waiting (the pod was created, or the wait was abandoned); the text says what last woke the
wait (a ResourceQuota's change, a sandbox pod that ended, the fallback re-check), empty when nothing did."""

SANDBOX_START_FAILED = "SandboxStartFailed"
"""Leads the failure of a pod whose program never started (a waiting reason after which it never will, or
the pod's deadline passed while it still waited): the sandbox's fault, not the program's."""
# Waiting reasons after which a container will never start on its own.
_FATAL_WAITING = {
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
}


class LaunchOutcome(StrEnum):
    """What launch() found or did."""

    CREATED = "Created"
    EXISTS = "Exists"
    VANISHED = "Vanished"


class PodOutcome(BaseModel):
    """What a finished sandbox pod tells: the runner's result, or why there is none, and what the
    system-call monitor saw of the program's container."""

    run: RunResult | None = None
    failure: str | None = None
    monitoring: SyscallMonitoring = SyscallMonitoring.OFF
    syscalls: SyscallSummary | None = None
    job_files: list[str] = []
    """Files the runner itself wrote in the program's container (a streamed pod's code and policy, from its
    job): the monitor expects these writes."""


POD_DELETED = (
    "the sandbox pod was deleted before the program finished, by someone other than the operator: the "
    "program's outcome is unknown, and it is not the program's fault"
)
"""The failure of a run whose pod was deleted from outside (the operator's own kills end the step first)."""


def deleted_mid_run(pod: Pod | None) -> bool:
    """The pod wait() returned was deleted before its result was in: gone, or being deleted."""
    return pod is None or bool(pod.get("metadata", {}).get("deletionTimestamp"))


def is_terminal(pod: Pod) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def _terminated(pod: Pod, statuses: str, container: str) -> dict[str, Any] | None:
    for status in pod.get("status", {}).get(statuses) or []:
        if status.get("name") == container:
            terminated: dict[str, Any] | None = (status.get("state") or {}).get("terminated")
            return terminated
    return None


def container_status(pod: Pod, container: str) -> dict[str, Any] | None:
    """The container's status entry, an init container (ConfigMap-fed pods) or not (streamed pods); None when
    not reported yet."""
    status = pod.get("status", {})
    for entry in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        if entry.get("name") == container:
            return dict(entry)
    return None


def container_state(pod: Pod, container: str, state: str) -> dict[str, Any] | None:
    """The container's state of that kind ("running", "terminated", ...), an init container or not; None when
    it is in another or not reported yet."""
    found: dict[str, Any] | None = ((container_status(pod, container) or {}).get("state") or {}).get(state)
    return found


def is_scheduled(pod: Pod) -> bool:
    """The pod is bound to a node, so its containers may be attached to once they run, or it has ended."""
    return is_terminal(pod) or bool((pod.get("spec") or {}).get("nodeName"))


def may_start_soon(pod: Pod | None, container: str) -> bool:
    """An attach to the container was refused, but may not be for long: the kubelet accepts one as soon as
    the container runs, a status update before the pod's status says so (its relist, up to a second), and
    no status says yet that it runs, ended or never will. False for a pod gone or being deleted."""
    if pod is None or deleted_mid_run(pod) or is_terminal(pod):
        return False
    failure = pod_failure(pod)
    if failure is not None and failure.startswith(SANDBOX_START_FAILED):
        return False
    state = (container_status(pod, container) or {}).get("state") or {}
    return "running" not in state and "terminated" not in state


def has_ended(pod: Pod, container: str) -> bool:
    """The kubelet has reported how the container ended, or the pod's end."""
    return is_terminal(pod) or container_state(pod, container, "terminated") is not None


def program_ended(pod: Pod) -> bool:
    """The kubelet has reported how the program's container ended (or the pod's end): what a streamed run
    that lost its runner waits for, since the stream itself cannot say why (the memory limit, a kill)."""
    return has_ended(pod, PROGRAM_CONTAINER)


def runner_finished(pod: Pod | None) -> bool:
    """The program's runner of a streamed pod ended by itself, exit code 0: nothing of the program is alive
    and the runner's report is written, as its DONE line says (a runner that ran its container's fallback
    job has no nonce to print one). The report says what happened: the program ran, or it never started (a
    runner that got no job at all reports that error, and the checks fail on it). The program cannot forge
    this: the kubelet reports it, and the runner, PID 1 of the container, exits 0 only that way (killed, it
    ends by a signal)."""
    state = None if pod is None else container_state(pod, PROGRAM_CONTAINER, "terminated")
    return state is not None and state.get("exitCode") == 0


def program_reported(pod: Pod) -> bool:
    """The kubelet has reported the program's container by its id (what the system-call monitor's summary is
    looked up by), or the pod has ended."""
    return is_terminal(pod) or bool((container_status(pod, PROGRAM_CONTAINER) or {}).get("containerID"))


def run_key_of(pod: Pod) -> str | None:
    """A streamed pod's run key (manifests.RUN_KEY_ANNOTATION), by which the system-call monitor names its
    program's container; None for another pod."""
    key = ((pod.get("metadata") or {}).get("annotations") or {}).get(RUN_KEY_ANNOTATION)
    return str(key) if key else None


def monitor_can_find(pod: Pod) -> bool:
    """The system-call monitor's summary of the program can be asked for: the pod's node is known, and the
    kubelet has reported the program's container id or the pod carries a run key (or the pod has ended)."""
    if is_terminal(pod):
        return True
    return bool((pod.get("status") or {}).get("hostIP")) and (
        program_reported(pod) or run_key_of(pod) is not None
    )


def report_awaited(pod: Pod | None, lost_runner: bool, monitored: bool) -> Callable[[Pod], bool] | None:
    """What a streamed run waits for the kubelet to report once its stream is done, if anything. The stream
    ends as soon as the runner dies, a status update before the kubelet says why (OOMKilled, an exit code): a
    run that lost its runner waits for the program container's end, so the failure names its cause, not its
    effect (another container's failure may be reported first: a program that fills the sandbox's memory at
    once can keep the checks container from starting). A run that ended well may be over before the kubelet
    has reported the program container at all (it is attached to as soon as it runs); the system-call
    monitor's summary is looked up by that container's id, or by the pod's run key: a `monitored` run of a
    pod without a key waits for the id (up to a second: the kubelet's relist)."""
    if pod is None or is_terminal(pod):
        return None
    if lost_runner:
        if program_ended(pod) or (pod_failure(pod) or "").startswith(SANDBOX_START_FAILED):
            return None  # it says why already
        return program_ended
    if monitored and not monitor_can_find(pod):
        return monitor_can_find
    return None


def is_finished(pod: Pod) -> bool:
    """Nothing more will happen in the pod that the result depends on: the checks container has terminated
    (its log holds the result document), the program's container ended without its runner's report (the
    checks never start then), or the pod's phase is final. The kubelet flips the phase only after it has torn
    the sandbox down, about a second later, so waiting for that would only add latency: both containers
    have ended by then, and the checks start only after the program's container has ended."""
    if is_terminal(pod):
        return True
    if _terminated(pod, "containerStatuses", CHECKS_CONTAINER) is not None:
        return True
    program = _terminated(pod, "initContainerStatuses", PROGRAM_CONTAINER)
    return program is not None and program.get("exitCode", 0) != 0


def _program_not_started(pod: Pod) -> str | None:
    """Why the program's container has not started (its waiting reason and message, or that it has no status
    yet), or None when it started: it runs, or it ended after a start."""
    container = container_status(pod, PROGRAM_CONTAINER)
    if container is not None:
        state = container.get("state") or {}
        if state.get("running") or (state.get("terminated") or {}).get("startedAt"):
            return None
        waiting = state.get("waiting") or {}
        return ": ".join(p for p in (waiting.get("reason"), waiting.get("message")) if p) or "not started"
    return "the program's container was never created"


def pod_failure(pod: Pod) -> str | None:
    """A clear reason when the pod itself failed (OOMKilled, DeadlineExceeded, Evicted, cannot start)."""
    status = pod.get("status", {})
    reason, message = status.get("reason"), status.get("message", "")
    if reason == Termination.DEADLINE_EXCEEDED:
        deadline = pod["spec"].get("activeDeadlineSeconds")
        waited = _program_not_started(pod)
        if waited is not None:
            # Measured 2026-12-01 (make bench-agent): with the sandbox image missing from the node, every pod
            # waited on its image until the deadline; told "ran longer than 90s", the model "optimised"
            # correct programs that had never run.
            return (
                f"{SANDBOX_START_FAILED}: the program never started: the sandbox was still starting it when "
                f"its {deadline}s deadline passed ({waited})"
            )
        return f"{Termination.DEADLINE_EXCEEDED}: the sandbox ran longer than {deadline}s"
    if reason == Termination.EVICTED:
        return f"{Termination.EVICTED}: {message}"
    # The program's container first: it ends before the checks' one starts.
    # The kubelet lists container statuses by name, so "checks" comes before "program" in a streamed pod.
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    for container in sorted(statuses, key=lambda entry: entry.get("name") != PROGRAM_CONTAINER):
        state = container.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated and terminated.get("reason") == Termination.OOM_KILLED:
            specs = [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]
            killed = next((c for c in specs if c.get("name") == container.get("name")), specs[0])
            limit = killed["resources"]["limits"]["memory"]
            return f"{Termination.OOM_KILLED}: the program used more than the memory limit of {limit}"
        if terminated and terminated.get("exitCode", 0) != 0:
            if container.get("name") == PROGRAM_CONTAINER:
                # The runner there always exits 0 after its report; only the program (same uid) can end it.
                code = terminated.get("exitCode")
                return (
                    f"RunnerKilled: the program's container ended with exit code {code} before its runner "
                    "reported (the program killed or stopped its runner); nothing was checked"
                )
            return f"the runner exited {terminated.get('exitCode')} ({terminated.get('reason', 'Error')})"
        if waiting and waiting.get("reason") in _FATAL_WAITING:
            return f"{SANDBOX_START_FAILED}: {waiting['reason']}: {waiting.get('message', '')}"
    if reason:
        return f"{reason}: {message}"
    return None
