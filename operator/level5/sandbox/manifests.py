"""Kubernetes manifests of the sandbox: the per-iteration pod and code ConfigMap, and the per-namespace
guards (deny-all NetworkPolicy, ResourceQuota, LimitRange). Pure functions returning plain dicts, so every
lockdown field is unit-tested without a cluster.

The pod has two trust domains (see sandbox-image/runner.py): the program runs in the init container
`program` as PROGRAM_UID, and the checks run in the main container `checks` as SANDBOX_UID, which starts only
after the program's container has ended. They share the output and report directories, which the checks
mount read-only, and nothing else: each has its own /tmp and /dev/shm, and each sees only its own files of
the code ConfigMap (the program never sees the test scripts)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from level5.api.crdgen import GROUP, KIND, VERSION
from level5.api.spec import AgentTaskSpec, Language
from level5.core.config import OperatorConfig
from level5.core.layout import (
    CHECKS_CONTAINER,
    CHECKS_DIR,
    CODE_DIR,
    DATA_DIR,
    NODE_LAUNCHER_PATH,
    OUTPUT_DIR,
    PROGRAM_CONTAINER,
    PROGRAM_UID,
    REPORT_DIR,
    RUNNER_DIR,
    RUNNER_PATH,
    SANDBOX_UID,
    SHM_DIR,
    TMP_DIR,
)
from level5.sandbox.syscall_summary import RUN_KEY_FLAG

Manifest = dict[str, Any]

REPORT_SIZE = "2Mi"
"""The program's report: two capped 64 KiB streams and a small JSON document."""
NETWORK_POLICY_NAME = "level5-sandbox-deny-all"
QUOTA_NAME = "level5-sandbox-quota"
LIMIT_RANGE_NAME = "level5-sandbox-limits"
STARTUP_GRACE_SECONDS = 60
"""Time allowed for scheduling and container start on top of the runs themselves."""
SANDBOX_LABELS = {"app.kubernetes.io/managed-by": "level5", "level5.dev/sandbox": "true"}
PROGRAM_FILES = {Language.PYTHON: "main.py", Language.JAVASCRIPT: "main.js"}
"""The program's file name in the code ConfigMap and in /code, by language."""
SCRIPT_SUFFIXES = {Language.PYTHON: "py", Language.JAVASCRIPT: "js"}
"""File name suffix of a test script, by its language (the runner picks the interpreter by it)."""
WARM_RUNNER_PATH = f"{RUNNER_DIR}/warm.py"
"""sandbox-image/warm.py: the runner of a streamed pod (a pool pod, or a cold pod fed over attach streams)."""
JOB_ENV = "LEVEL5_JOB"
"""Must equal warm.JOB_ENV: a streamed cold pod's container carries its job in this environment variable too
(level5.sandbox.pool.fallback_jobs), for when its stdin closes before the job got through."""
PROBE_IN_GATE = "--probe-in-gate"
"""warm.py's flag for a streamed cold pod's program: probe the network's isolation while the job arrives (the
program's gate waits for it) instead of before (a pool pod's, gating its readiness)."""
CHECKS_CPU_REQUEST = "50m"
"""A streamed pod's checks container waits while the program runs; it reserves little CPU (its limit is the
program's)."""
NONCE_ANNOTATION = "level5.dev/run-nonce"
"""A streamed cold pod's nonce: the program's runner prints it with its DONE line once the program is ended
and reaped. Kept on the pod (the program has no API access, no token, no network) so that an operator that
restarted mid-run still tells the runner's true DONE line from a forged one."""
RUN_KEY_ANNOTATION = "level5.dev/run-key"
"""A streamed cold pod's run key (random, not secret): its program container is started with it
(syscall_summary.RUN_KEY_FLAG), so the system-call monitor's summary is found by it as soon as the run is
over, without waiting for the kubelet to report the container's id."""
STREAMED_JOB_FILES = (f"{CODE_DIR}/main.py", f"{CODE_DIR}/policy.json")
"""What warm.py writes in the program's container from its job: the system-call monitor expects these writes
of a streamed run (a ConfigMap-fed cold pod mounts them read-only instead)."""


def sandbox_image(spec: AgentTaskSpec, config: OperatorConfig) -> str:
    """The image that runs the task's language."""
    images = {Language.PYTHON: config.sandbox_image, Language.JAVASCRIPT: config.sandbox_image_javascript}
    return images[spec.capabilities.language]


class TaskRef(BaseModel):
    """Identity of an AgentTask object."""

    name: str
    namespace: str
    uid: str
    generation: int | None = None


def sandbox_pod_name(task: TaskRef, iteration: int) -> str:
    """`<task>-<iteration>-<hash of uid>`, at most 63 characters. Iterations only count up and the uid
    differs for a re-created task, so a name is never reused."""
    suffix = f"-{iteration}-{hashlib.sha256(task.uid.encode()).hexdigest()[:6]}"
    return task.name[: 63 - len(suffix)].rstrip("-.") + suffix


def code_config_map_name(pod_name: str) -> str:
    return f"{pod_name}-code"


def result_config_map_name(task: TaskRef) -> str:
    return f"{task.name}-result"


def owner_reference(task: TaskRef) -> Manifest:
    """Makes the task own the object: deleting the task deletes it."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": task.name,
        "uid": task.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _labels(task: TaskRef, iteration: int | None = None) -> dict[str, str]:
    labels = {**SANDBOX_LABELS, "level5.dev/task": task.name[:63]}
    if iteration is not None:
        labels["level5.dev/iteration"] = str(iteration)
    return labels


def run_timeout(spec: AgentTaskSpec) -> int:
    """Longest the runner may take: the program plus each test script, each with timeoutSeconds."""
    scripts = sum(c.test_script is not None for c in spec.goal.success_criteria)
    return spec.capabilities.timeout_seconds * (1 + scripts)


def checks_document(spec: AgentTaskSpec) -> tuple[str, dict[str, str]]:
    """checks.json for the runner and the test script files it refers to (file name -> source)."""
    checks: list[dict[str, Any]] = []
    scripts: dict[str, str] = {}
    for i, criterion in enumerate(spec.goal.success_criteria):
        if criterion.judge is not None:
            continue  # judged by the model in the operator, not in the sandbox
        check: dict[str, Any] = {"name": criterion.name, "kind": criterion.kind}
        if criterion.test_script is not None:
            name = f"test_{i}.{SCRIPT_SUFFIXES[criterion.test_script_language]}"
            scripts[name] = criterion.test_script
            check["path"] = f"{CHECKS_DIR}/{name}"
        else:
            check["value"] = next(
                v
                for v in (criterion.exit_code, criterion.output_contains, criterion.output_matches)
                if v is not None
            )
        checks.append(check)
    document = {
        "outputDir": OUTPUT_DIR,
        "timeoutSeconds": spec.capabilities.timeout_seconds,
        "checks": checks,
    }
    return json.dumps(document, indent=1), scripts


def code_config_map(
    task: TaskRef, spec: AgentTaskSpec, pod_name: str, iteration: int, code: str, policy: str
) -> Manifest:
    """The immutable ConfigMap of one iteration: main.py (main.js) and policy.json (the runtime policy,
    level5.safety.runtime_policy) for the program, checks.json and the test scripts for the checks (each
    container mounts only its own keys)."""
    checks, scripts = checks_document(spec)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": code_config_map_name(pod_name),
            "namespace": task.namespace,
            "labels": _labels(task, iteration),
            "annotations": {"level5.dev/code-sha256": hashlib.sha256(code.encode()).hexdigest()},
            "ownerReferences": [owner_reference(task)],
        },
        "immutable": True,
        "data": {
            PROGRAM_FILES[spec.capabilities.language]: code,
            "policy.json": policy,
            "checks.json": checks,
            **scripts,
        },
    }


def container_security(uid: int) -> Manifest:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _config_map_volume(name: str, config_map: str, keys: list[str]) -> Manifest:
    items = [{"key": key, "path": key} for key in keys]
    return {"name": name, "configMap": {"name": config_map, "defaultMode": 0o444, "items": items}}


def locked_pod_spec(deadline_seconds: int, config: OperatorConfig, volumes: list[Manifest]) -> Manifest:
    """The pod-level lockdown every sandbox pod shares, cold or warm (the containers are the caller's)."""
    pod_spec: Manifest = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": deadline_seconds,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "hostNetwork": False,
        "hostPID": False,
        "hostIPC": False,
        "shareProcessNamespace": False,
        "terminationGracePeriodSeconds": 5,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": SANDBOX_UID,
            "runAsGroup": SANDBOX_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumes": volumes,
    }
    if config.runtime_class:
        pod_spec["runtimeClassName"] = config.runtime_class
    return pod_spec


def scratch_volumes(size: str) -> list[Manifest]:
    """The shared outputs and report, and each container's own /tmp and /dev/shm."""
    scratch = {"sizeLimit": size}
    return [
        {"name": "output", "emptyDir": scratch},
        {"name": "report", "emptyDir": {"sizeLimit": REPORT_SIZE}},
        {"name": "program-tmp", "emptyDir": scratch},
        {"name": "program-shm", "emptyDir": scratch},
        {"name": "checks-tmp", "emptyDir": scratch},
        {"name": "checks-shm", "emptyDir": scratch},
    ]


PROGRAM_MOUNTS: list[Manifest] = [
    {"name": "program-code", "mountPath": CODE_DIR, "readOnly": True},
    {"name": "output", "mountPath": OUTPUT_DIR},
    {"name": "report", "mountPath": REPORT_DIR},
    {"name": "program-tmp", "mountPath": TMP_DIR},
    {"name": "program-shm", "mountPath": SHM_DIR},
]
# The checks see the program's outputs and report read-only, and nothing else of it.
CHECKS_MOUNTS: list[Manifest] = [
    {"name": "checks-code", "mountPath": CHECKS_DIR, "readOnly": True},
    {"name": "output", "mountPath": OUTPUT_DIR, "readOnly": True},
    {"name": "report", "mountPath": REPORT_DIR, "readOnly": True},
    {"name": "checks-tmp", "mountPath": TMP_DIR},
    {"name": "checks-shm", "mountPath": SHM_DIR},
]


def sandbox_pod(
    task: TaskRef, spec: AgentTaskSpec, pod_name: str, iteration: int, config: OperatorConfig
) -> Manifest:
    """The locked-down pod that runs one iteration's code once."""
    caps = spec.capabilities
    resources = {"cpu": caps.cpu, "memory": caps.memory, "ephemeral-storage": caps.ephemeral_storage}
    config_map = code_config_map_name(pod_name)
    _, scripts = checks_document(spec)
    program_file = PROGRAM_FILES[caps.language]
    volumes: list[Manifest] = [
        _config_map_volume("program-code", config_map, [program_file, "policy.json"]),
        _config_map_volume("checks-code", config_map, ["checks.json", *sorted(scripts)]),
        *scratch_volumes(caps.ephemeral_storage),
    ]
    data_volumes, data = reference_data(spec)
    volumes.extend(data_volumes)

    def container(name: str, uid: int, mode_args: list[str], mounts: list[Manifest]) -> Manifest:
        """One of the pod's two containers: the runner in `mode`, as `uid`, with only its own mounts."""
        return {
            "name": name,
            "image": sandbox_image(spec, config),
            "imagePullPolicy": "IfNotPresent",
            "command": ["python3", "-I", RUNNER_PATH, *mode_args, "--report", REPORT_DIR],
            "workingDir": OUTPUT_DIR,
            "resources": {"requests": resources, "limits": resources},
            "securityContext": container_security(uid),
            "volumeMounts": [*mounts, *data],
        }

    program = container(
        PROGRAM_CONTAINER,
        PROGRAM_UID,
        [
            "program",
            "--code",
            f"{CODE_DIR}/{program_file}",
            "--policy",
            f"{CODE_DIR}/policy.json",
            # JavaScript: the launcher starts Node under its permission model instead of policy.py.
            *(["--policy-runner", NODE_LAUNCHER_PATH] if caps.language is Language.JAVASCRIPT else []),
        ],
        PROGRAM_MOUNTS,
    )
    checks = container(
        CHECKS_CONTAINER,
        SANDBOX_UID,
        ["checks", "--checks", f"{CHECKS_DIR}/checks.json"],
        CHECKS_MOUNTS,
    )
    pod_spec = locked_pod_spec(run_timeout(spec) + STARTUP_GRACE_SECONDS, config, volumes)
    pod_spec["initContainers"] = [program]
    pod_spec["containers"] = [checks]
    return _iteration_pod(task, pod_name, iteration, pod_spec, {})


def _iteration_pod(
    task: TaskRef, pod_name: str, iteration: int, pod_spec: Manifest, annotations: dict[str, str]
) -> Manifest:
    """An iteration's pod: its deterministic name, the task's labels (the deny-all policy selects them) and
    the task as its owner."""
    metadata: Manifest = {
        "name": pod_name,
        "namespace": task.namespace,
        "labels": _labels(task, iteration),
        "ownerReferences": [owner_reference(task)],
    }
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def reference_data(spec: AgentTaskSpec) -> tuple[list[Manifest], list[Manifest]]:
    """The task's reference data (a ConfigMap or a claim) as the pod's volume and the read-only /data mount
    both containers get; nothing without."""
    files = spec.capabilities.files
    if files.reference_data is not None:
        source: Manifest = {"configMap": {"name": files.reference_data, "defaultMode": 0o444}}
    elif files.reference_data_claim is not None:
        source = {"persistentVolumeClaim": {"claimName": files.reference_data_claim, "readOnly": True}}
    else:
        return [], []
    return [{"name": "data", **source}], [{"name": "data", "mountPath": DATA_DIR, "readOnly": True}]


def streamed_container(
    name: str, uid: int, image: str, requests: dict[str, str], limits: dict[str, str], mounts: list[Manifest]
) -> Manifest:
    """One container of a streamed pod: warm.py waiting for its one job on stdin (`stdinOnce`: the kubelet
    closes that stdin for good after the first attach), with only its own mounts."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python3", "-I", WARM_RUNNER_PATH, name, "--report", REPORT_DIR],
        "workingDir": OUTPUT_DIR,
        "stdin": True,
        "stdinOnce": True,
        "resources": {"requests": requests, "limits": limits},
        "securityContext": container_security(uid),
        # The warm runner writes its job's files into /code and /checks: each its own emptyDir here.
        "volumeMounts": [{**m, "readOnly": False} if m["name"].endswith("-code") else m for m in mounts],
    }


def job_volumes(size: str) -> list[Manifest]:
    """A streamed pod's volumes: the two job directories (written by warm.py) and the scratch volumes."""
    return [
        {"name": "program-code", "emptyDir": {"sizeLimit": "1Mi"}},
        {"name": "checks-code", "emptyDir": {"sizeLimit": "1Mi"}},
        *scratch_volumes(size),
    ]


def streams_cold(spec: AgentTaskSpec, namespace: str, config: OperatorConfig) -> bool:
    """Whether a cold iteration of this task runs in a streamed pod: a Python task (warm.py is the Python
    image's runner; JavaScript tasks start the ConfigMap-fed pod of their own image) in a namespace where the
    operator may attach to pods (config.streamed_cold_namespaces)."""
    allowed = config.streamed_cold_namespaces
    return spec.capabilities.language is Language.PYTHON and (allowed is None or namespace in allowed)


def streamed_pod(
    task: TaskRef,
    spec: AgentTaskSpec,
    pod_name: str,
    iteration: int,
    config: OperatorConfig,
    nonce: str,
    run_key: str,
    fallback: Mapping[str, str],
) -> Manifest:
    """The cold pod of one iteration, run the warm way: the same lockdown and two domains as sandbox_pod,
    but both containers start at once and each is handed its one job over an attach stream the operator
    opens (code to `program`, then, after the runner's DONE line with `nonce`, the checks to `checks`). The
    program's container is started with `run_key`, by which the system-call monitor names it. Each container
    named in `fallback` carries that job in its environment as well (JOB_ENV)."""
    caps = spec.capabilities
    limits = {"cpu": caps.cpu, "memory": caps.memory, "ephemeral-storage": caps.ephemeral_storage}
    data_volumes, data = reference_data(spec)
    image = sandbox_image(spec, config)
    program = streamed_container(
        PROGRAM_CONTAINER, PROGRAM_UID, image, limits, limits, [*PROGRAM_MOUNTS, *data]
    )
    program["command"] += [PROBE_IN_GATE, RUN_KEY_FLAG, run_key]  # nobody waits for this pod to be Ready
    checks = streamed_container(
        CHECKS_CONTAINER, SANDBOX_UID, image, {**limits, "cpu": CHECKS_CPU_REQUEST}, limits,
        [*CHECKS_MOUNTS, *data],
    )  # fmt: skip
    for container in (program, checks):
        if container["name"] in fallback:
            container["env"] = [{"name": JOB_ENV, "value": fallback[container["name"]]}]
    volumes = [*job_volumes(caps.ephemeral_storage), *data_volumes]
    pod_spec = locked_pod_spec(run_timeout(spec) + STARTUP_GRACE_SECONDS, config, volumes)
    # The kubelet starts a pod's containers one after another in this order, so the checks container runs
    # before the program's does: the operator hands the program its job as soon as its container runs (see
    # level5.kube.streamed), and a program that filled the sandbox's memory before the checks container
    # started would keep it from starting (the run would fail as the checks' StartError, not as OOMKilled).
    pod_spec["containers"] = [checks, program]
    return _iteration_pod(
        task, pod_name, iteration, pod_spec, {NONCE_ANNOTATION: nonce, RUN_KEY_ANNOTATION: run_key}
    )


def is_streamed(pod: dict[str, Any]) -> bool:
    """A streamed pod (both containers at once, fed over attach streams); a ConfigMap-fed cold pod runs its
    program in an init container."""
    return not (pod.get("spec") or {}).get("initContainers")


def result_config_map(task: TaskRef, data: dict[str, str]) -> Manifest:
    """`<task>-result`: the final code and result when they are too large for status."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": result_config_map_name(task),
            "namespace": task.namespace,
            "labels": {"app.kubernetes.io/managed-by": "level5", "level5.dev/task": task.name[:63]},
            "ownerReferences": [owner_reference(task)],
        },
        "data": data,
    }


def deny_all_network_policy(namespace: str) -> Manifest:
    """No ingress and no egress at all for sandbox pods (DNS included)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": NETWORK_POLICY_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "level5"},
        },
        "spec": {
            "podSelector": {"matchLabels": {"level5.dev/sandbox": "true"}},
            "policyTypes": ["Ingress", "Egress"],
        },
    }


def sandbox_resource_quota(namespace: str) -> Manifest:
    """Caps what sandbox pods may use together. Scope Terminating selects pods with activeDeadlineSeconds,
    which every sandbox pod has; that scope takes only pods, cpu and memory (LimitRange bounds storage)."""
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": QUOTA_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "level5"},
        },
        "spec": {
            "scopes": ["Terminating"],
            "hard": {
                "pods": "100",
                "limits.cpu": "32",
                "limits.memory": "64Gi",
            },
        },
    }


def sandbox_limit_range(namespace: str) -> Manifest:
    """Bounds one container, so no single task can ask for a node's worth of resources."""
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {
            "name": LIMIT_RANGE_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "level5"},
        },
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "max": {"cpu": "4", "memory": "8Gi", "ephemeral-storage": "4Gi"},
                }
            ]
        },
    }
