"""kopf handlers: thin adapters between Kubernetes and the task loop.

One daemon per AgentTask drives task_loop.TaskLoop until the task is terminal; kopf restarts the daemons of
unfinished tasks when the operator restarts, and the loop resumes from the recorded status. A pod-event
handler wakes the daemon waiting on that pod. The kill switches (layer 4) come from watch events too: an
AgentTask event with spec.cancel signals that task's daemon, and the level5-emergency-stop ConfigMap in the
operator's namespace sets the operator-wide stop and kills every sandbox pod the pod watch has seen running.
Run with: kopf run -m level5.handlers --all-namespaces"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import kopf
from kubernetes_asyncio import client, config
from kubernetes_asyncio.config.config_exception import ConfigException
from pydantic import ValidationError

from level5.audit import AuditLog, FileSink, StreamSink, TeeSink
from level5.config import OperatorConfig
from level5.crdgen import GROUP, PLURAL, VERSION
from level5.kill_switch import (
    EMERGENCY_STOP_CONFIG_MAP,
    CancelRequests,
    EmergencyStop,
    SandboxPods,
    stop_requested,
)
from level5.model_client import ModelGateway, ModelUnavailableError, resolve_endpoint
from level5.redaction import Redactor, task_key
from level5.sandbox import PodEvents, SandboxLauncher, is_terminal
from level5.sandbox_manifests import SANDBOX_LABELS, TaskRef
from level5.spec import AgentTaskSpec
from level5.state_machine import with_phase
from level5.status import AgentTaskStatus, Phase
from level5.task_loop import TaskLoop, utcnow
from level5.task_store import KubeStatusSink, read_emergency_stop, read_secret_key


@kopf.on.startup()
async def startup(
    *,
    settings: kopf.OperatorSettings,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """Configure kopf and create the shared clients."""
    # kopf's own bookkeeping goes to annotations: the strict status schema would prune it from status.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.posting.level = logging.WARNING  # the loop posts its own Events per transition
    operator_config = OperatorConfig.from_env()
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]  # the library leaves it untyped
    except ConfigException:
        await config.load_kube_config()
    memo.config = operator_config
    memo.api = client.ApiClient()
    memo.gateway = ModelGateway(operator_config.max_concurrent_model_calls)
    memo.pod_events = PodEvents()
    memo.launcher = SandboxLauncher(memo.api, operator_config, memo.pod_events)
    memo.cancels = CancelRequests()
    memo.sandbox_pods = SandboxPods()
    # Derived from the API before any daemon starts, so a restart during a stop runs nothing.
    memo.emergency = EmergencyStop()
    memo.emergency.set(await read_emergency_stop(memo.api, operator_config.operator_namespace))
    # One chain for all tasks, durable on disk and mirrored to the log for shipping. A path that cannot be
    # created stops the operator: running unaudited is not an option.
    audit_path = Path(operator_config.audit_path)
    audit_path.parent.mkdir(parents=True, exist_ok=True)
    memo.audit = AuditLog(TeeSink(FileSink(audit_path), StreamSink(logging.getLogger("level5.audit"))))
    logger.info(
        "level5 operator started: model %s at %s, runtime class %s, image %s, audit log %s, "
        "emergency stop %s",
        operator_config.model_name,
        operator_config.model_base_url,
        operator_config.runtime_class,
        operator_config.sandbox_image,
        audit_path,
        "ACTIVE" if memo.emergency.active else "off",
    )


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    await memo.gateway.close()
    await memo.api.close()


@kopf.daemon(GROUP, VERSION, PLURAL, cancellation_timeout=5.0)
async def drive_task(body: kopf.Body, meta: kopf.Meta, memo: kopf.Memo, **_: Any) -> None:
    """Run the refine loop of one task until it is terminal."""
    raw = dict(body)
    task = TaskRef(
        name=meta["name"], namespace=meta["namespace"], uid=meta["uid"], generation=meta.get("generation")
    )
    sink = KubeStatusSink(memo.api, task, body)
    status = AgentTaskStatus.model_validate(raw.get("status") or {})
    if status.phase.terminal:
        return
    try:
        spec = AgentTaskSpec.model_validate(raw.get("spec") or {})
    except ValidationError as exc:
        message = f"invalid spec: {exc}"[:4000]
        sink.event("InvalidSpec", message, warning=True)
        await sink.save(with_phase(status, Phase.FAILED, "InvalidSpec", message, utcnow(), task.generation))
        return
    api_key = None
    if spec.model is not None and spec.model.api_key_secret_ref is not None:
        api_key = await read_secret_key(memo.api, task.namespace, spec.model.api_key_secret_ref)
    loop = TaskLoop(
        task,
        spec,
        status,
        gateway=memo.gateway,
        endpoint=resolve_endpoint(spec.model, memo.config, api_key),
        sandbox=memo.launcher,
        sink=sink,
        audit=memo.audit,
        redactor=Redactor(task_key(task.uid, memo.config.redaction_secret.encode())),
        cancel=memo.cancels.event(task.uid),
        emergency=memo.emergency,
    )
    try:
        await loop.run()
    except ModelUnavailableError as exc:
        raise kopf.TemporaryError(f"model unavailable, retrying: {exc}", delay=30) from exc
    finally:
        memo.cancels.forget(task.uid)


def _cancel_pending(spec: kopf.Spec, status: kopf.Status, **_: Any) -> bool:
    return bool(spec.get("cancel")) and status.get("phase") not in {p.value for p in Phase if p.terminal}


@kopf.on.event(GROUP, VERSION, PLURAL, when=_cancel_pending)
async def task_cancel_requested(*, uid: str, memo: kopf.Memo, **_: Any) -> None:
    """spec.cancel seen true on an unfinished task: interrupt its daemon at once (even mid-wait on a pod)."""
    memo.cancels.request(uid)


def _is_emergency_stop(name: str, namespace: str | None, memo: kopf.Memo, **_: Any) -> bool:
    return name == EMERGENCY_STOP_CONFIG_MAP and namespace == memo.config.operator_namespace


@kopf.on.event("", "v1", "configmaps", when=_is_emergency_stop)
async def emergency_stop_changed(
    *,
    type: str | None,
    body: kopf.Body,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """Set or lift the operator-wide emergency stop; when it begins, kill every running sandbox pod."""
    active = type != "DELETED" and stop_requested(body.get("data"))
    if not memo.emergency.set(active):
        return
    logger.warning("emergency stop %s", "ACTIVE: killing every sandbox pod" if active else "lifted")
    if active:
        await asyncio.gather(*(memo.launcher.kill(ns, name) for ns, name in memo.sandbox_pods.alive()))


@kopf.on.event("", "v1", "pods", labels=SANDBOX_LABELS)
async def sandbox_pod_changed(
    *, type: str | None, body: kopf.Body, namespace: str | None, name: str, memo: kopf.Memo, **_: Any
) -> None:
    """Track the pod for the emergency stop (killed while one is active); wake the daemon waiting on it."""
    if namespace is None:
        return
    alive = type != "DELETED" and not is_terminal(dict(body))
    memo.sandbox_pods.observe(namespace, name, alive)
    if alive and memo.emergency.active:
        await memo.launcher.kill(namespace, name)
    memo.pod_events.notify(namespace, name)
