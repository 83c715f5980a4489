"""The warm pool as data: the pre-started pool pod, its owner, which task class a pool serves, and the two
jobs handed to a claimed pod over its containers' stdin (sandbox-image/warm.py reads them).

A pool pod has the same lockdown as a cold one (level5.sandbox.manifests.locked_pod_spec: gVisor, no token,
non-root, read-only root, every capability dropped, deny-all NetworkPolicy by its labels, an active
deadline for the namespace's quota) and the same two trust domains, but both containers start at once and
wait: `program` (uid 65533, PID 1 of its PID namespace) until its isolation probe went unanswered, which its
startup probe turns into the pod's Ready, then for its one job; `checks` (uid 65532) for its one job. Each
container has `stdinOnce`, so a pod serves exactly one iteration; it is deleted afterwards, never returned.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from level5.api.spec import AgentTaskSpec, Language, quantity_value
from level5.core.config import OperatorConfig, PoolClass
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_CONTAINER, PROGRAM_UID, SANDBOX_UID, TMP_DIR
from level5.sandbox.manifests import (
    CHECKS_CPU_REQUEST,
    CHECKS_MOUNTS,
    PROGRAM_MOUNTS,
    SANDBOX_LABELS,
    STARTUP_GRACE_SECONDS,
    Manifest,
    checks_document,
    job_volumes,
    locked_pod_spec,
    run_timeout,
    streamed_container,
)

READY_FILE = f"{TMP_DIR}/level5/isolated"
"""Must equal warm.READY_FILE: created once the pod's network is known to be cut."""
DONE_PREFIX = "=====LEVEL5-WARM-DONE====="
"""Must equal warm.DONE_PREFIX: the program's runner prints it with the job's nonce when its report is in."""
FALLBACK_JOB_BYTES = 100_000
"""The largest job a container carries in its environment: Linux refuses an environment string over 128 KiB
when the container's process starts."""
POOL_LABEL = "level5.dev/pool"
SLOT_LABEL = "level5.dev/pool-slot"
POD_LIFETIME_SECONDS = 3600
"""activeDeadlineSeconds of a pool pod (the namespace's quota counts only pods with one): an unclaimed pod
is replaced after an hour. A pod is claimed only while its remaining life covers the task's run."""
CLAIMED = "Claimed"
"""The launch record's outcome for an iteration given a claimed pool pod (a cold one's is a LaunchOutcome)."""
WARM_EVENT = "SandboxWarm"
"""Event reason: the iteration ran in a claimed pool pod."""
FALLBACK_EVENT = "WarmPoolFallback"
"""Event reason: a pool serves the namespace but this iteration starts a cold pod (see ColdStartReason)."""
INTERRUPTED_WARM_RUN = "WarmRunInterrupted"
"""Failure of a warm iteration whose claim was lost with an operator restart: its pod is deleted unused."""


class ColdStartReason(StrEnum):
    """Why an iteration in a namespace with a pool started a cold pod; also a metric label."""

    NO_MATCHING_CLASS = "NoMatchingPoolClass"
    """The task's resources, reference data or image differ from every pool class of its namespace."""
    POOL_EMPTY = "PoolEmpty"
    """The matching pool had no Ready pod (all claimed, or still starting)."""


class WarmClaim(BaseModel):
    """A pool pod taken for one iteration."""

    pool: str
    pod_name: str


def pool_owner_name(pool: PoolClass) -> str:
    """The ConfigMap that owns a pool's pods (it records the class): deleting it deletes the pool."""
    return f"level5-pool-{pool.name}"


def pool_owner(pool: PoolClass) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": pool_owner_name(pool),
            "namespace": pool.namespace,
            "labels": {"app.kubernetes.io/managed-by": "level5", POOL_LABEL: pool.name},
        },
        "data": {"class.json": pool.model_dump_json(by_alias=True)},
    }


def pool_pod_name(pool: PoolClass, slot: int, sequence: int) -> str:
    """`level5-pool-<pool>-<slot>-<sequence>`: the slot's successor is the next sequence, so a refill that is
    retried finds its pod instead of making a second one."""
    return f"{pool_owner_name(pool)}-{slot}-{sequence}"


def parse_pool_pod_name(pool: PoolClass, name: str) -> tuple[int, int] | None:
    """(slot, sequence) of one of the pool's pod names, or None."""
    prefix = f"{pool_owner_name(pool)}-"
    parts = name.removeprefix(prefix).split("-") if name.startswith(prefix) else []
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def pool_image(pool: PoolClass, config: OperatorConfig) -> str:
    return pool.image or config.sandbox_image


def pool_pod(pool: PoolClass, slot: int, sequence: int, owner_uid: str, config: OperatorConfig) -> Manifest:
    """One pre-started, single-use pod of the pool."""
    limits = {"cpu": pool.cpu, "memory": pool.memory, "ephemeral-storage": pool.ephemeral_storage}
    image = pool_image(pool, config)
    program = streamed_container(PROGRAM_CONTAINER, PROGRAM_UID, image, limits, limits, PROGRAM_MOUNTS)
    # Ready only once the runner's isolation probe went unanswered; a startup probe stops probing then.
    program["startupProbe"] = {
        "exec": {"command": ["test", "-e", READY_FILE]},
        "periodSeconds": 1,
        "failureThreshold": 60,
    }
    checks = streamed_container(
        CHECKS_CONTAINER, SANDBOX_UID, image, {**limits, "cpu": CHECKS_CPU_REQUEST}, limits, CHECKS_MOUNTS
    )
    volumes = job_volumes(pool.ephemeral_storage)
    pod_spec = locked_pod_spec(POD_LIFETIME_SECONDS, config, volumes)
    pod_spec["containers"] = [program, checks]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pool_pod_name(pool, slot, sequence),
            "namespace": pool.namespace,
            "labels": {**SANDBOX_LABELS, POOL_LABEL: pool.name, SLOT_LABEL: str(slot)},
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": pool_owner_name(pool),
                    "uid": owner_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": pod_spec,
    }


def match_pool(
    pools: list[PoolClass], namespace: str, spec: AgentTaskSpec, config: OperatorConfig
) -> PoolClass | ColdStartReason | None:
    """The pool that may run this task's iterations; a reason when its namespace has pools but none fits;
    None when the namespace has no pool (cold, and nothing to say about it)."""
    here = [p for p in pools if p.namespace == namespace]
    if not here:
        return None
    caps = spec.capabilities
    files = caps.files
    wanted = _amounts((caps.cpu, caps.memory, caps.ephemeral_storage))
    for pool in here:
        if (
            pool_class(pool) == wanted
            # Pool pods run the Python image's runner; JavaScript tasks start cold in their own image.
            and caps.language is Language.PYTHON
            and files.reference_data is None
            and files.reference_data_claim is None
            and pool_image(pool, config) == config.sandbox_image
            and run_timeout(spec) + STARTUP_GRACE_SECONDS < POD_LIFETIME_SECONDS
        ):
            return pool
    return ColdStartReason.NO_MATCHING_CLASS


def pool_class(pool: PoolClass) -> tuple[float, ...]:
    """The pool's cpu, memory and ephemeral storage as the amounts they stand for, so that a task asking for
    "0.5" CPU or "268435456" bytes fits a pool of "500m" or "256Mi". A value that is not a Kubernetes
    quantity is a configuration error, raised with the pool and the field (the operator checks every pool
    at start-up)."""
    try:
        return _amounts((pool.cpu, pool.memory, pool.ephemeral_storage))
    except ValueError as exc:
        raise ValueError(
            f"LEVEL5_SANDBOX_POOLS: pool {pool.name!r}: {exc}; cpu, memory and ephemeralStorage take "
            'Kubernetes quantities such as "500m", "1", "256Mi"'
        ) from exc


def _amounts(quantities: tuple[str, ...]) -> tuple[float, ...]:
    # Rounded to a millionth of a unit: exact for every quantity the schema accepts, where float
    # arithmetic alone may differ in the last bit ("0.3" and "300m").
    return tuple(round(quantity_value(q), 6) for q in quantities)


def program_job(nonce: str | None, code: str, policy: str) -> bytes:
    """The program container's one job: a line of JSON (without a nonce: the fallback of fallback_jobs)."""
    job = (
        {"code": code, "policy": policy}
        if nonce is None
        else {"nonce": nonce, "code": code, "policy": policy}
    )
    return (json.dumps(job) + "\n").encode()


def checks_job(spec: AgentTaskSpec) -> bytes:
    """The checks container's one job: checks.json and its test scripts (the program never sees them)."""
    checks, scripts = checks_document(spec)
    return (json.dumps({"checks": checks, "scripts": scripts}) + "\n").encode()


def fallback_jobs(spec: AgentTaskSpec, code: str, policy: str) -> dict[str, str]:
    """A streamed cold pod's jobs as its containers carry them (JOB_ENV), by container: what each runs when an
    operator stopped between attaching and sending leaves its stdin closed with no job (see warm.JOB_ENV). The
    program's has no nonce. A job over FALLBACK_JOB_BYTES has none (the iteration then fails in that moment,
    as it did before)."""
    jobs = {PROGRAM_CONTAINER: program_job(None, code, policy), CHECKS_CONTAINER: checks_job(spec)}
    return {name: job.decode().rstrip("\n") for name, job in jobs.items() if len(job) <= FALLBACK_JOB_BYTES}


def done_line(nonce: str) -> str:
    return f"{DONE_PREFIX} {nonce}"


def pod_is_ready(pod: dict[str, Any]) -> bool:
    """Ready (the program container's isolation probe passed and both containers run), not ending."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
