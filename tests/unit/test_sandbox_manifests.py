"""Lockdown fields of the sandbox pod and the namespace guards."""

from __future__ import annotations

import json
from typing import Any

from level5.api.spec import AgentTaskSpec
from level5.core.config import OperatorConfig
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_CONTAINER
from level5.observability.syscalls import run_key
from level5.safety.runtime_policy import policy_document
from level5.sandbox.manifests import (
    CHECKS_CPU_REQUEST,
    JOB_ENV,
    NONCE_ANNOTATION,
    PROBE_IN_GATE,
    RUN_KEY_ANNOTATION,
    WARM_RUNNER_PATH,
    TaskRef,
    checks_document,
    code_config_map,
    deny_all_network_policy,
    is_streamed,
    sandbox_pod,
    sandbox_pod_name,
    streamed_pod,
    streams_cold,
)
from level5.sandbox.outcome import (
    container_state,
    is_finished,
    is_scheduled,
    may_start_soon,
    monitor_can_find,
    pod_failure,
    program_ended,
    program_reported,
    report_awaited,
    run_key_of,
)
from level5.sandbox.pool import FALLBACK_JOB_BYTES, checks_job, fallback_jobs

TASK = TaskRef(name="a" * 80, namespace="team", uid="0b6e-uid")
SPEC = AgentTaskSpec.model_validate(
    {
        "goal": {
            "primary": "x",
            "successCriteria": [
                {"name": "exit", "exitCode": 0},
                {"name": "t", "testScript": "print(1)"},
                {"name": "j", "judge": "ok"},
            ],
        },
        "capabilities": {
            "cpu": "250m",
            "memory": "128Mi",
            "ephemeralStorage": "32Mi",
            "timeoutSeconds": 20,
            "files": {"referenceData": "sales"},
        },
    }
)


def test_pod_names_are_bounded_deterministic_and_distinct() -> None:
    name = sandbox_pod_name(TASK, 7)
    assert len(name) <= 63 and name == sandbox_pod_name(TASK, 7)
    assert name != sandbox_pod_name(TASK, 8)
    assert name != sandbox_pod_name(TASK.model_copy(update={"uid": "other"}), 7)
    assert sandbox_pod_name(TaskRef(name="csv", namespace="n", uid="u"), 1).startswith("csv-1-")


def test_pod_is_locked_down() -> None:
    pod = sandbox_pod(TASK, SPEC, "p-1-abc", 1, OperatorConfig())
    spec = pod["spec"]
    assert spec["runtimeClassName"] == "gvisor"
    assert spec["automountServiceAccountToken"] is False and spec["enableServiceLinks"] is False
    assert spec["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] == 20 * 2 + 60
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["shareProcessNamespace"] is False and "fsGroup" not in spec["securityContext"]
    program, checks = spec["initContainers"][0], spec["containers"][0]
    assert (program["name"], checks["name"]) == ("program", "checks")
    for container, uid in ((program, 65533), (checks, 65532)):
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]} and sc["runAsUser"] == uid and sc["runAsGroup"] == uid
        assert (
            container["resources"]["requests"]
            == container["resources"]["limits"]
            == {"cpu": "250m", "memory": "128Mi", "ephemeral-storage": "32Mi"}
        )
        assert (
            container["imagePullPolicy"] == "IfNotPresent"
            and container["image"] == "level5.local/sandbox:dev"
        )
        assert container["command"][:3] == ["python3", "-I", "/opt/level5/runner.py"]
    program_mounts = {m["mountPath"]: m for m in program["volumeMounts"]}
    checks_mounts = {m["mountPath"]: m for m in checks["volumeMounts"]}
    assert program_mounts["/code"]["readOnly"] and program_mounts["/data"]["readOnly"]
    assert not program_mounts["/output"].get("readOnly") and not program_mounts["/report"].get("readOnly")
    # The checks see the program's outputs read-only, and share no other writable directory with it.
    assert checks_mounts["/output"]["readOnly"] and checks_mounts["/report"]["readOnly"]
    shared = {m["name"] for m in program["volumeMounts"]} & {m["name"] for m in checks["volumeMounts"]}
    assert shared == {"output", "report", "data"}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert [i["key"] for i in volumes["program-code"]["configMap"]["items"]] == ["main.py", "policy.json"]
    assert [i["key"] for i in volumes["checks-code"]["configMap"]["items"]] == ["checks.json", "test_1.py"]
    assert (
        volumes["output"]["emptyDir"]["sizeLimit"] == "32Mi"
        and volumes["program-tmp"]["emptyDir"]["sizeLimit"]
    )
    assert volumes["data"]["configMap"]["name"] == "sales"
    labels = pod["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "level5" and labels["level5.dev/sandbox"] == "true"
    owner = pod["metadata"]["ownerReferences"][0]
    assert owner["controller"] and owner["blockOwnerDeletion"] and owner["uid"] == TASK.uid


def test_runtime_class_can_be_unset() -> None:
    pod = sandbox_pod(TASK, SPEC, "p", 1, OperatorConfig(runtime_class=None))
    assert "runtimeClassName" not in pod["spec"]


def test_code_config_map_carries_code_checks_and_scripts() -> None:
    cm = code_config_map(TASK, SPEC, "p-1-abc", 1, "print(1)\n", policy_document(SPEC))
    assert cm["metadata"]["name"] == "p-1-abc-code" and cm["immutable"] is True
    checks = json.loads(cm["data"]["checks.json"])
    assert [c["kind"] for c in checks["checks"]] == ["exitCode", "testScript"]  # judge stays in the operator
    assert cm["data"]["test_1.py"] == "print(1)" and checks["checks"][1]["path"] == "/checks/test_1.py"
    assert checks_document(SPEC)[1] == {"test_1.py": "print(1)"}


def test_network_policy_denies_everything() -> None:
    policy = deny_all_network_policy("team")
    assert policy["metadata"]["name"] == "level5-sandbox-deny-all"
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {"level5.dev/sandbox": "true"}},
        "policyTypes": ["Ingress", "Egress"],
    }


def test_pod_failure_reasons() -> None:
    base = {
        "spec": {"activeDeadlineSeconds": 90, "containers": [{"resources": {"limits": {"memory": "64Mi"}}}]}
    }
    oom = {
        **base,
        "status": {
            "phase": "Failed",
            "containerStatuses": [{"state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}],
        },
    }
    assert (pod_failure(oom) or "").startswith("OOMKilled") and "64Mi" in (pod_failure(oom) or "")
    started = {"name": "program", "state": {"running": {"startedAt": "2026-12-01T02:27:40Z"}}}
    deadline = {
        **base,
        "status": {"phase": "Failed", "reason": "DeadlineExceeded", "initContainerStatuses": [started]},
    }
    assert (pod_failure(deadline) or "").startswith("DeadlineExceeded")
    # Without a started program the deadline is the sandbox's failure (test_agent_bench_failures.py).
    never = {**base, "status": {"phase": "Failed", "reason": "DeadlineExceeded"}}
    assert (pod_failure(never) or "").startswith("SandboxStartFailed")
    evicted = {**base, "status": {"phase": "Failed", "reason": "Evicted", "message": "ephemeral storage"}}
    assert pod_failure(evicted) == "Evicted: ephemeral storage"
    ok = {
        **base,
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [{"state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
        },
    }
    assert pod_failure(ok) is None


def test_a_pod_is_finished_when_its_result_is_in_not_when_its_phase_flips() -> None:
    def pod(
        phase: str, program: dict[str, object] | None, checks: dict[str, object] | None
    ) -> dict[str, object]:
        def status(name: str, state: dict[str, object] | None) -> list[dict[str, object]]:
            return [{"name": name, "state": state or {"waiting": {"reason": "PodInitializing"}}}]

        return {
            "status": {
                "phase": phase,
                "initContainerStatuses": status("program", program),
                "containerStatuses": status("checks", checks),
            }
        }

    done = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    running = {"running": {}}
    assert not is_finished(pod("Pending", running, None))
    assert not is_finished(pod("Pending", done, None))  # the program ended; the checks are to come
    assert not is_finished(pod("Running", done, running))
    # The checks container has ended: its log holds the result, though the phase still says Running.
    assert is_finished(pod("Running", done, done))
    # The program's runner was killed: the checks never start, and the pod fails.
    assert is_finished(pod("Pending", {"terminated": {"exitCode": 137, "reason": "Error"}}, None))
    assert is_finished(pod("Failed", None, None)) and is_finished(pod("Succeeded", done, done))


def test_a_streamed_run_that_lost_its_runner_waits_for_how_the_program_ended() -> None:
    """The stream ends before the kubelet reports why (measured 2026-12-01: a program over its memory limit
    ended the stream, and the container's OOMKilled came a status update later)."""

    def pod(phase: str, program: dict[str, object]) -> dict[str, object]:
        return {
            "spec": {"containers": [{"resources": {"limits": {"memory": "64Mi"}}}]},
            "status": {"phase": phase, "containerStatuses": [{"name": "program", "state": program}]},
        }

    running = pod("Running", {"running": {}})
    assert not program_ended(running) and pod_failure(running) is None
    oom = pod("Running", {"terminated": {"exitCode": 128, "reason": "OOMKilled"}})
    assert program_ended(oom)
    assert (pod_failure(oom) or "").startswith("OOMKilled")
    assert program_ended(pod("Failed", {"waiting": {}}))


def test_the_streamed_cold_pod_has_the_cold_pods_lockdown_and_the_tasks_own_limits() -> None:
    """A cold iteration run the warm way: the ConfigMap-fed pod's pod-level lockdown and deadline, the task's
    own resources, both containers at once on stdinOnce, each with only its own mounts, the nonce on the
    pod, and no startup probe (nothing in the program's container but the runner and the program)."""
    task = TaskRef(name="t", namespace="team", uid="u")
    task_spec = AgentTaskSpec.model_validate(
        {
            "goal": {"primary": "x", "successCriteria": [{"name": "ok", "outputContains": "ok"}]},
            "capabilities": {
                "cpu": "300m",
                "memory": "128Mi",
                "timeoutSeconds": 20,
                "files": {"referenceData": "d"},
            },
        }
    )
    config = OperatorConfig(sandbox_image="img:1")
    cold = sandbox_pod(task, task_spec, "t-1-abc", 1, config)
    fallback = fallback_jobs(task_spec, "print('ok')", policy_document(task_spec))
    streamed = streamed_pod(task, task_spec, "t-1-abc", 1, config, "n0nce", "k3y", fallback)
    assert is_streamed(streamed) and not is_streamed(cold) and streams_cold(task_spec, "team", config)
    assert {k: v for k, v in streamed["spec"].items() if k not in ("containers", "volumes")} == {
        k: v for k, v in cold["spec"].items() if k not in ("initContainers", "containers", "volumes")
    }  # gVisor, no token, non-root, the deadline of the task's run
    assert streamed["metadata"]["labels"] == cold["metadata"]["labels"]  # the deny-all policy selects it
    assert streamed["metadata"]["ownerReferences"] == cold["metadata"]["ownerReferences"]
    assert streamed["metadata"]["annotations"][NONCE_ANNOTATION] == "n0nce"
    assert run_key_of(streamed) == "k3y" and run_key_of(cold) is None
    checks, program = streamed["spec"]["containers"]  # the kubelet starts them in order: the checks first
    assert (checks["name"], program["name"]) == (CHECKS_CONTAINER, PROGRAM_CONTAINER)
    cold_program, cold_checks = cold["spec"]["initContainers"][0], cold["spec"]["containers"][0]
    assert program["securityContext"] == cold_program["securityContext"]
    assert checks["securityContext"] == cold_checks["securityContext"]
    assert program["resources"]["limits"] == checks["resources"]["limits"] == {
        "cpu": "300m", "memory": "128Mi", "ephemeral-storage": "64Mi"
    }  # fmt: skip
    assert checks["resources"]["requests"]["cpu"] == CHECKS_CPU_REQUEST
    assert all(c["stdin"] and c["stdinOnce"] and "startupProbe" not in c for c in (program, checks))
    assert all(c["command"][:3] == ["python3", "-I", WARM_RUNNER_PATH] for c in (program, checks))
    # Each container carries its own job (the program's without the nonce), for a stdin closed before it.
    assert program["env"][0]["name"] == checks["env"][0]["name"] == JOB_ENV
    program_env, checks_env = (json.loads(c["env"][0]["value"]) for c in (program, checks))
    assert program_env == {"code": "print('ok')", "policy": policy_document(task_spec)}
    assert checks_env == json.loads(checks_job(task_spec)) and "n0nce" not in json.dumps(streamed["spec"])
    # Nobody waits for a streamed pod to be Ready: its program probes isolation while the job arrives.
    assert PROBE_IN_GATE in program["command"] and PROBE_IN_GATE not in checks["command"]
    # The system-call monitor names the program's container by the run key it was started with.
    assert run_key(program["command"]) == "k3y" and run_key(checks["command"]) is None
    mounts = {m["mountPath"]: m for m in checks["volumeMounts"]}
    assert mounts["/output"]["readOnly"] and mounts["/report"]["readOnly"] and mounts["/data"]["readOnly"]
    assert "/checks" not in {m["mountPath"] for m in program["volumeMounts"]}
    shared = {m["name"] for m in program["volumeMounts"]} & {m["name"] for m in checks["volumeMounts"]}
    assert shared == {"output", "report", "data"}
    assert {"name": "data", "configMap": {"name": "d", "defaultMode": 0o444}} in streamed["spec"]["volumes"]
    javascript = task_spec.model_copy(
        update={"capabilities": task_spec.capabilities.model_copy(update={"language": "javascript"})}
    )
    assert not streams_cold(javascript, "team", config)  # warm.py is Python's: JavaScript stays ConfigMap-fed
    # Only where the operator may attach (the chart grants pods/attach in the namespaces it lists).
    listed = OperatorConfig.from_env({"LEVEL5_STREAMED_COLD_NAMESPACES": '["team"]'})
    assert streams_cold(task_spec, "team", listed) and not streams_cold(task_spec, "other", listed)


def test_a_streamed_run_attaches_once_bound_and_retries_only_while_a_container_may_start() -> None:
    def pod(
        program: str | None, checks: str | None, phase: str = "Pending", node: str = "n1", **waiting: str
    ) -> dict[str, Any]:
        statuses = [
            {"name": n, "state": {s: waiting if s == "waiting" else {}}}
            for n, s in ((PROGRAM_CONTAINER, program), (CHECKS_CONTAINER, checks))
            if s
        ]
        return {"spec": {"nodeName": node}, "status": {"phase": phase, "containerStatuses": statuses}}

    assert is_scheduled(pod(None, None)) and not is_scheduled(pod(None, None, node=""))
    assert is_scheduled(pod(None, None, "Failed", node=""))  # ended before it was bound: nothing to wait for
    # Refused while the status says nothing yet, or "waiting" to be created: the kubelet may accept it soon.
    assert may_start_soon(pod(None, None), PROGRAM_CONTAINER)
    assert may_start_soon(pod("waiting", None, reason="ContainerCreating"), PROGRAM_CONTAINER)
    assert may_start_soon(pod("running", None), CHECKS_CONTAINER)
    # Refused although it runs or ended, or it never will start, or the pod went: give up, read the log.
    assert not may_start_soon(pod("running", None), PROGRAM_CONTAINER)
    assert not may_start_soon(pod("terminated", "running"), PROGRAM_CONTAINER)
    assert not may_start_soon(pod("waiting", None, reason="ErrImageNeverPull"), PROGRAM_CONTAINER)
    assert not may_start_soon(pod(None, None, "Failed"), PROGRAM_CONTAINER)
    assert not may_start_soon(None, PROGRAM_CONTAINER)
    deleting = pod(None, None)
    deleting["metadata"] = {"deletionTimestamp": "2026-12-01T00:00:00Z"}
    assert not may_start_soon(deleting, PROGRAM_CONTAINER)
    assert container_state(pod("terminated", "running"), PROGRAM_CONTAINER, "terminated") == {}


def test_a_streamed_run_waits_for_the_report_it_needs_and_only_that() -> None:
    def pod(program: dict[str, Any] | None, checks: dict[str, Any] | None = None) -> dict[str, Any]:
        statuses = [
            {"name": n, **s} for n, s in ((PROGRAM_CONTAINER, program), (CHECKS_CONTAINER, checks)) if s
        ]
        return {"spec": {"nodeName": "n1"}, "status": {"phase": "Running", "containerStatuses": statuses}}

    unreported = pod(None)
    running = pod({"containerID": "containerd://abc", "state": {"running": {}}})
    # A run that ended well: only a monitored one waits, and only until the monitor can be asked: the node
    # is known and the program container has an id, or the pod has a run key the monitor knows it by.
    assert report_awaited(unreported, lost_runner=False, monitored=False) is None
    assert report_awaited(unreported, lost_runner=False, monitored=True) is monitor_can_find
    assert report_awaited(running, lost_runner=False, monitored=True) is monitor_can_find  # node unknown
    running["status"]["hostIP"] = "10.0.0.1"
    assert report_awaited(running, lost_runner=False, monitored=True) is None
    keyed = {**pod(None), "metadata": {"annotations": {RUN_KEY_ANNOTATION: "k3y"}}}
    assert report_awaited(keyed, lost_runner=False, monitored=True) is monitor_can_find  # node unknown
    keyed["status"]["hostIP"] = "10.0.0.1"
    assert program_reported(running) and not program_reported(keyed)
    assert report_awaited(keyed, lost_runner=False, monitored=True) is None  # no wait for the kubelet
    # A run that lost its runner waits for the program container's end, even when another container's
    # failure is reported first (a program that fills the memory at once can keep the checks from starting).
    checks_failed = pod(
        {"containerID": "containerd://abc", "state": {"running": {}}},
        {"state": {"terminated": {"exitCode": 128, "reason": "StartError"}}},
    )
    assert report_awaited(checks_failed, lost_runner=True, monitored=False) is program_ended
    oom = pod(
        {"containerID": "containerd://abc", "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}
    )
    assert report_awaited(oom, lost_runner=True, monitored=True) is None
    never = pod({"state": {"waiting": {"reason": "ErrImageNeverPull", "message": "no image"}}})
    assert report_awaited(never, lost_runner=True, monitored=True) is None  # it says why already
    assert report_awaited(None, lost_runner=True, monitored=True) is None


def test_a_job_too_large_for_the_environment_is_carried_by_stdin_alone() -> None:
    """Linux refuses an environment string over 128 KiB when a process starts: a program that large has no
    fallback job (its checks, small, keep theirs)."""
    task_spec = AgentTaskSpec.model_validate(
        {"goal": {"primary": "x", "successCriteria": [{"name": "ok", "outputContains": "ok"}]}}
    )
    small = fallback_jobs(task_spec, "print('ok')\n", "{}")
    large = fallback_jobs(task_spec, "x = 1\n" * (FALLBACK_JOB_BYTES // 6), "{}")
    assert set(small) == {PROGRAM_CONTAINER, CHECKS_CONTAINER} and set(large) == {CHECKS_CONTAINER}
    assert json.loads(small[PROGRAM_CONTAINER]) == {"code": "print('ok')\n", "policy": "{}"}
