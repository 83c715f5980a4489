"""kopf handlers: thin adapters between Kubernetes and the task loop.

One daemon per AgentTask drives task_loop.TaskLoop until the task is terminal; kopf restarts the daemons of
unfinished tasks when the operator restarts, and the loop resumes from the recorded status. A pod-event
handler wakes the daemon waiting on that pod. Run with: kopf run -m level5.handlers --all-namespaces"""

from __future__ import annotations

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
from level5.model_client import ModelGateway, ModelUnavailableError, resolve_endpoint
from level5.redaction import Redactor, task_key
from level5.sandbox import PodEvents, SandboxLauncher
from level5.sandbox_manifests import SANDBOX_LABELS, TaskRef
from level5.spec import AgentTaskSpec
from level5.state_machine import with_phase
from level5.status import AgentTaskStatus, Phase
from level5.task_loop import TaskLoop, utcnow
from level5.task_store import KubeStatusSink, read_secret_key


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
    # One chain for all tasks, durable on disk and mirrored to the log for shipping. A path that cannot be
    # created stops the operator: running unaudited is not an option.
    audit_path = Path(operator_config.audit_path)
    audit_path.parent.mkdir(parents=True, exist_ok=True)
    memo.audit = AuditLog(TeeSink(FileSink(audit_path), StreamSink(logging.getLogger("level5.audit"))))
    logger.info(
        "level5 operator started: model %s at %s, runtime class %s, image %s, audit log %s",
        operator_config.model_name,
        operator_config.model_base_url,
        operator_config.runtime_class,
        operator_config.sandbox_image,
        audit_path,
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
    )
    try:
        await loop.run()
    except ModelUnavailableError as exc:
        raise kopf.TemporaryError(f"model unavailable, retrying: {exc}", delay=30) from exc


@kopf.on.event("", "v1", "pods", labels=SANDBOX_LABELS)
async def sandbox_pod_changed(*, namespace: str | None, name: str, memo: kopf.Memo, **_: Any) -> None:
    """Wake the task daemon waiting on this pod."""
    if namespace is not None:
        memo.pod_events.notify(namespace, name)
