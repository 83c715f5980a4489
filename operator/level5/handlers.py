"""kopf handlers: thin adapters between Kubernetes and the task loop.

One daemon per AgentTask drives task_loop.TaskLoop until the task is terminal; kopf restarts the daemons of
unfinished tasks when the operator restarts, and the loop resumes from the recorded status. A pod-event
handler wakes the daemon waiting on that pod. The kill switches (layer 4) come from watch events too: an
AgentTask event with spec.cancel signals that task's daemon, and the level5-emergency-stop ConfigMap in the
operator's namespace sets the operator-wide stop and kills every sandbox pod the pod watch has seen running.
Run with: kopf run -m level5.handlers --all-namespaces"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import kopf
from kubernetes_asyncio import client, config
from kubernetes_asyncio.config.config_exception import ConfigException
from kubernetes_asyncio.stream import WsApiClient
from pydantic import ValidationError

from level5.api.approval import (
    APPROVAL_LABEL_TASK_UID,
    ApprovalObject,
    ApprovalSpec,
    ApprovalState,
    ApprovalStatus,
)
from level5.api.crdgen import APPROVAL_PLURAL, GROUP, PLURAL, VERSION
from level5.api.spec import AgentTaskSpec
from level5.api.status import AgentTaskStatus, Phase
from level5.core.collector import pace_collector
from level5.core.config import OperatorConfig
from level5.core.kill_switch import (
    EMERGENCY_STOP_CONFIG_MAP,
    CancelRequests,
    EmergencyStop,
    SandboxPods,
    stop_requested,
)
from level5.core.wakeups import Wakeups
from level5.kube.approvals import KubeApprovals
from level5.kube.clients import without_env_lookups
from level5.kube.diffbase import LeanDiffBaseStorage
from level5.kube.pool import WarmPool
from level5.kube.sandboxes import SandboxLauncher
from level5.kube.tasks import KubeStatusSink, read_emergency_stop, read_secret_key
from level5.loop.context import LoopServices, utcnow
from level5.loop.journal import INVALID_SPEC, Journal
from level5.loop.task_loop import TaskLoop
from level5.model.classifier import InjectionClassifier
from level5.model.client import ModelGateway, resolve_endpoint
from level5.observability.loop_stalls import watch_loop_stalls
from level5.observability.metrics import Metrics
from level5.observability.syscalls import SyscallMonitorClient
from level5.people.admission import (
    CREATED_BY,
    AdmissionDenied,
    check_approval_create,
    check_approval_update,
    check_task_update,
    creator_annotation,
    decision_stamp,
)
from level5.safety.audit import AuditLog, AuditWriteError, FileSink, StreamSink, TeeSink
from level5.safety.injection import SecondOpinion
from level5.safety.opinions import second_opinion
from level5.safety.redaction import Redactor, find_spans, task_key
from level5.safety.workers import DetectorPool
from level5.sandbox.manifests import SANDBOX_LABELS, TaskRef
from level5.sandbox.outcome import is_terminal

OPERATOR_INSTANCE = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"
"""This operator process, as it names itself in status.driver of the tasks it drives (fencing)."""
AUDIT_RECHECK_SECONDS = 300
"""How often a task held by a refused audit log looks again (the refusal itself lasts until a restart)."""
AUDIT_WRITE_RETRY_SECONDS = 10
"""How soon a task whose audit record could not be written (disk full, read-only) tries its step again."""
FINALIZER = f"{GROUP}/finalizer"
"""kopf's finalizer on every AgentTask (a daemon's task needs one: kopf stops the daemon before deletion)."""
FINALIZER_WAIT_SECONDS = 2.0
"""How long a new task's daemon waits for kopf's finalizer write before it claims the task anyway."""


@dataclass(frozen=True)
class Services:
    """Everything the handlers share, made once at startup and passed to each task's loop: kopf keeps it in
    its memo, and services_of() gives it back typed."""

    config: OperatorConfig
    metrics: Metrics
    api: client.ApiClient
    gateway: ModelGateway
    wakeups: Wakeups
    launcher: SandboxLauncher
    approvals: KubeApprovals
    cancels: CancelRequests
    sandbox_pods: SandboxPods
    emergency: EmergencyStop
    audit: AuditLog
    started: float
    """When the operator started (the event loop's clock)."""
    classifier: InjectionClassifier | None
    """Layer 1's optional second opinion (LEVEL5_INJECTION_CLASSIFIER_URL)."""
    embedded: SecondOpinion | None
    """Layer 1's built-in second opinion (LEVEL5_INJECTION_CLASSIFIER_EMBEDDED), if on."""
    pool: WarmPool | None
    """The warm pools of pre-started sandbox pods (LEVEL5_SANDBOX_POOLS), if any."""
    detectors: DetectorPool | None
    """The processes that share each large output's redaction (LEVEL5_REDACTION_WORKERS), if any."""

    @classmethod
    async def start(cls, config: OperatorConfig) -> Services:
        metrics = Metrics()
        metrics.serve(config.metrics_port)
        api = without_env_lookups(client.ApiClient())
        wakeups = Wakeups()
        pool = None
        # Attach streams to sandbox pods (warm pool pods, streamed cold pods) go through a websocket client.
        ws_api = without_env_lookups(WsApiClient())
        if config.sandbox_pools:
            pool = WarmPool(api, ws_api, config)
            metrics.pool_gauges(pool.configured_size(), pool.ready_count)
        # Derived from the API before any daemon starts, so a restart during a stop runs nothing.
        emergency = EmergencyStop()
        emergency.set(await read_emergency_stop(api, config.operator_namespace))
        metrics.emergency_stop_set(emergency.active)
        # One chain for all tasks, durable on disk and mirrored to the log for shipping. A path that cannot
        # be created stops the operator: running unaudited is not an option.
        audit_path = Path(config.audit_path)
        audit_path.parent.mkdir(parents=True, exist_ok=True)
        audit = AuditLog(
            metrics.audit_sink(
                TeeSink(FileSink(audit_path), StreamSink(logging.getLogger("level5.safety.audit")))
            )
        )
        gateway = ModelGateway(
            config.max_concurrent_model_calls,
            config.max_model_calls_per_endpoint,
            timeout_seconds=config.model_timeout_seconds,
            retries=config.model_retries,
            backoff_seconds=config.model_backoff_seconds,
        )
        gateway.prepare(resolve_endpoint(None, config, None))
        embedded: SecondOpinion | None = None
        if config.injection_classifier_embedded:
            # Read, checked against its pinned sha256 and loaded once (a few tenths of a second, in a thread).
            # A model that cannot be loaded stops the operator, as an unwritable audit path does: it was
            # asked for, and running without it would weaken layer 1 silently.
            try:
                # Imported only when on: onnxruntime, tokenizers and numpy add about 80 MB to the process.
                from level5.model.semantic import EmbeddedClassifier, SemanticScorer

                embedded = EmbeddedClassifier(await asyncio.to_thread(SemanticScorer.packaged))
            except Exception as error:
                raise kopf.PermanentError(
                    f"the embedded injection classifier could not be loaded ({error}); reinstall the "
                    "operator image, or set injectionClassifier.embedded=false "
                    "(LEVEL5_INJECTION_CLASSIFIER_EMBEDDED=false) to run with the rules alone"
                ) from error
        detectors = None
        if config.redaction_workers:
            detectors = DetectorPool(config.redaction_workers)
            # Started now, not in a task's first large output, but without delaying the operator's start.
            detectors.start_in_background()
        return cls(
            config=config,
            metrics=metrics,
            api=api,
            gateway=gateway,
            wakeups=wakeups,
            launcher=SandboxLauncher(
                api,
                config,
                wakeups,
                SyscallMonitorClient(config.syscall_monitor_url) if config.syscall_monitor_url else None,
                pool,
                ws_api,
            ),
            approvals=KubeApprovals(api),
            cancels=CancelRequests(),
            sandbox_pods=SandboxPods(),
            emergency=emergency,
            audit=audit,
            started=asyncio.get_running_loop().time(),
            classifier=InjectionClassifier(
                config.injection_classifier_url,
                config.injection_classifier_model,
                config.injection_classifier_timeout,
            )
            if config.injection_classifier_url
            else None,
            embedded=embedded,
            pool=pool,
            detectors=detectors,
        )

    def redactor(self, task_uid: str) -> Redactor:
        """A task's redactor: its own key, this operator's detector processes (or this process)."""
        key = task_key(task_uid, self.config.redaction_secret.encode())
        return Redactor(key, self.detectors.find if self.detectors is not None else find_spans)

    @property
    def loop(self) -> LoopServices:
        """What every task's loop shares."""
        return LoopServices(
            gateway=self.gateway,
            sandbox=self.launcher,
            audit=self.audit,
            approvals=self.approvals,
            wakeups=self.wakeups,
            metrics=self.metrics,
            emergency=self.emergency,
            second_opinion=second_opinion([o for o in (self.embedded, self.classifier) if o is not None]),
        )

    async def close(self) -> None:
        await self.gateway.close()
        await self.launcher.close()
        if self.classifier is not None:
            await self.classifier.close()
        if self.pool is not None:
            await self.pool.close()
        if self.detectors is not None:
            await asyncio.to_thread(self.detectors.close)
        await self.api.close()
        self.metrics.close()


def services_of(memo: kopf.Memo) -> Services:
    """The operator's Services (set by startup before kopf starts any other handler)."""
    services = memo.get("services")
    if not isinstance(services, Services):
        raise kopf.TemporaryError("the operator is still starting", delay=1)
    return services


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
    # The same annotation as kopf's own storage, built without copying each event's status (kube/diffbase.py).
    settings.persistence.diffbase_storage = LeanDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = FINALIZER
    settings.posting.level = logging.WARNING  # the loop posts its own Events per transition
    operator_config = OperatorConfig.from_env()
    if operator_config.peering_name is not None:
        # One active operator, the others paused (kopf peering): the earliest started has the highest
        # priority, so a standby that starts later never takes over from a live active operator, and kopf
        # pauses every operator when two have the same one. kopf stops a paused operator's daemons.
        settings.peering.standalone = False
        settings.peering.mandatory = True
        settings.peering.clusterwide = True
        settings.peering.name = operator_config.peering_name
        settings.peering.lifetime = operator_config.peering_lifetime_seconds
        settings.peering.priority = -time.time_ns() // 1_000_000
    if operator_config.webhook_cert_dir is not None:
        # The webhook configurations come with the chart (or the test fixture), not from kopf: they carry
        # a namespace selector and the CA of the mounted certificate.
        cert_dir = Path(operator_config.webhook_cert_dir)
        settings.admission.server = kopf.WebhookServer(
            addr=operator_config.webhook_addr,
            port=operator_config.webhook_port,
            certfile=str(cert_dir / "tls.crt"),
            pkeyfile=str(cert_dir / "tls.key"),
        )
        settings.admission.managed = None
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]  # the library leaves it untyped
    except ConfigException:
        await config.load_kube_config()
    services = await Services.start(operator_config)
    memo.services = services
    memo.stall_watch = asyncio.ensure_future(watch_loop_stalls())
    # Full collections walk every object on the event loop (seconds with 1,000 tasks): paced instead.
    memo.collector = asyncio.ensure_future(pace_collector(services.metrics.tasks_known))
    if services.pool is not None:
        for pool in services.pool.pools:
            await services.launcher.ensure_namespace_guards(pool.namespace)
        await services.pool.start()
    logger.info(
        "level5 operator started: model %s at %s, runtime class %s, image %s, audit log %s, "
        "emergency stop %s, injection second opinions: embedded classifier %s, endpoint %s",
        operator_config.model_name,
        operator_config.model_base_url,
        operator_config.runtime_class,
        operator_config.sandbox_image,
        operator_config.audit_path,
        "ACTIVE" if services.emergency.active else "off",
        "on" if services.embedded is not None else "off",
        operator_config.injection_classifier_url or "none",
    )


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    for background in (memo.get("stall_watch"), memo.get("collector")):
        if isinstance(background, asyncio.Task):
            background.cancel()
    await services_of(memo).close()


@kopf.daemon(GROUP, VERSION, PLURAL, cancellation_timeout=5.0)
async def drive_task(body: kopf.Body, meta: kopf.Meta, memo: kopf.Memo, **_: Any) -> None:
    """Run the refine loop of one task until it is terminal."""
    services = services_of(memo)
    if services.config.peering_name is not None:
        # Operators that start together each see no peer in their first peering check and resume: for up to
        # one keep-alive lifetime two may be active before the lower one pauses (and kopf cancels its
        # daemons). A daemon therefore takes no step in that window; one cancelled while waiting did nothing.
        settle = services.started + services.config.peering_lifetime_seconds
        await asyncio.sleep(max(0.0, settle - asyncio.get_running_loop().time()))
    await _finalizer_written(services.wakeups, meta)
    raw, read_at = dict(body), str(meta["resourceVersion"])  # the status and the version it was read at
    task = TaskRef(
        name=meta["name"], namespace=meta["namespace"], uid=meta["uid"], generation=meta.get("generation")
    )
    sink = KubeStatusSink(services.api, task, body, OPERATOR_INSTANCE)
    status = AgentTaskStatus.model_validate(raw.get("status") or {})
    services.metrics.task_phase(task.uid, status.phase)
    if status.phase.terminal:
        return
    # Fencing: from the first status write on (the claim), this instance's writes fail once another claims
    # the task.
    sink.claim(read_at, raw.get("status") or {})
    checkpoint = (status.audit.seq, status.audit.hash) if status.audit is not None else None
    refusal = await services.audit.check(checkpoint)
    journal = Journal(task, status, sink, services.audit, services.metrics, utcnow)
    await journal.audit_refused(refusal)
    if refusal is not None:
        # Nothing may run unaudited, and a new chain would hide what was lost: the task waits, visibly.
        services.metrics.audit_refusing()
        raise kopf.TemporaryError(f"audit log refused: {refusal}", delay=AUDIT_RECHECK_SECONDS)
    status = journal.status
    try:
        spec = AgentTaskSpec.model_validate(raw.get("spec") or {})
    except ValidationError as exc:
        # Through the loop's fail path: audited, counted and posted like any other end.
        journal = Journal(task, status, sink, services.audit, services.metrics, utcnow)
        await journal.fail(INVALID_SPEC, f"invalid spec: {exc}"[:4000])
        return
    api_key = None
    if spec.model is not None and spec.model.api_key_secret_ref is not None:
        api_key = await read_secret_key(services.api, task.namespace, spec.model.api_key_secret_ref)
    loop = TaskLoop(
        task,
        spec,
        status,
        services.loop,
        endpoint=resolve_endpoint(spec.model, services.config, api_key),
        sink=sink,
        redactor=services.redactor(task.uid),
        cancel=services.cancels.event(task.uid),
        spec_view=lambda: _live_spec(body, spec),
        creator=(meta.get("annotations") or {}).get(CREATED_BY),
    )
    try:
        await loop.run()
    except AuditWriteError as exc:  # nothing is counted done unaudited: the step is taken up again later
        raise kopf.TemporaryError(str(exc), delay=AUDIT_WRITE_RETRY_SECONDS) from exc
    finally:
        services.cancels.forget(task.uid)


async def _finalizer_written(wakeups: Wakeups, meta: kopf.Meta) -> None:
    """Until kopf's finalizer is on the task (its watch event updates the daemon's body in place). kopf adds
    it to a new task in the same cycle that starts the daemon; a claim sent before that write lands is
    conditional on the version before it and conflicts (a GET and a second status write, every new task)."""
    deadline = asyncio.get_running_loop().time() + FINALIZER_WAIT_SECONDS
    while FINALIZER not in (meta.get("finalizers") or []) and not meta.get("deletionTimestamp"):
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return  # the claim then conflicts and is repeated, as it would without the wait
        changed = wakeups.arm("task", meta["uid"])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), remaining)


def _live_spec(body: kopf.Body, last: AgentTaskSpec) -> AgentTaskSpec:
    """The task's spec as of its latest watch event (kopf keeps a daemon's body current). The admission
    webhook and the schema keep it valid; should it not parse, the last good one stays in force."""
    try:
        return AgentTaskSpec.model_validate(dict(body).get("spec") or {})
    except ValidationError:
        return last


@kopf.on.event(GROUP, VERSION, PLURAL)
async def task_changed(*, type: str | None, uid: str, memo: kopf.Memo, **_: Any) -> None:
    """Wake the task's loop where it waits on its spec (pause, resume, guidance); forget deleted tasks."""
    services = services_of(memo)
    services.wakeups.notify("task", uid)
    if type == "DELETED":
        services.metrics.task_forgotten(uid)


@kopf.on.event(GROUP, VERSION, APPROVAL_PLURAL)
async def approval_changed(
    *, type: str | None, body: kopf.Body, labels: kopf.Labels, memo: kopf.Memo, **_: Any
) -> None:
    """Wake the owning task's loop; record decisions on non-blocking audit items (level C)."""
    services = services_of(memo)
    task_uid = labels.get(APPROVAL_LABEL_TASK_UID)
    if task_uid is None or type == "DELETED":
        return
    services.wakeups.notify("approval", task_uid)
    approval = ApprovalObject.from_object(dict(body))
    if (
        approval.spec.blocking
        or approval.spec.decision is None
        or approval.status.state is not ApprovalState.REVIEW
    ):
        return
    namespace = body.meta["namespace"]
    await services.audit.append(
        "review-decision",
        f"{namespace}/{approval.spec.task_name}",
        approval.spec.iteration,
        {
            "step": f"{task_uid}/{approval.spec.iteration}/review-decision",
            "approval": approval.name,
            "decision": approval.spec.decision.value,
            "decided_by": approval.spec.decided_by,
            "reason": approval.spec.reason,
        },
    )
    await services.approvals.set_state(
        namespace, approval.name, ApprovalState.APPLIED, f"reviewed: {approval.spec.decision.value}", utcnow()
    )


ADMISSION = OperatorConfig.from_env().webhook_cert_dir is not None
"""Whether the admission handlers are registered: only with a webhook certificate (LEVEL5_WEBHOOK_CERT_DIR).
kopf refuses to start with admission handlers and no server for them; without the webhook the operator runs
all the same: the schema still validates, but creators are not stamped and Approvals cannot be decided (the
loop accepts only decisions the webhook stamped)."""


_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def _admission(decorator: Callable[[_Handler], _Handler]) -> Callable[[_Handler], _Handler]:
    """`decorator` (a kopf admission decorator) when the webhook is served, else one registering nothing."""
    return decorator if ADMISSION else (lambda handler: handler)


def _username(userinfo: kopf.UserInfo) -> str:
    return str(userinfo.get("username") or "")


def _admit(check: Any, *args: Any) -> Any:
    """Run an admission rule; a broken rule becomes the API server's 403 with the rule's message."""
    try:
        return check(*args)
    except AdmissionDenied as exc:
        raise kopf.AdmissionError(str(exc), code=403) from exc
    except ValidationError as exc:
        raise kopf.AdmissionError(f"invalid object: {exc}"[:2000], code=422) from exc


@_admission(kopf.on.mutate(GROUP, VERSION, PLURAL, id="mutate-agenttask", operations=["CREATE"]))
def stamp_task_creator(*, body: kopf.Body, userinfo: kopf.UserInfo, patch: kopf.Patch, **kwargs: Any) -> None:
    """Record who created the task, from the API server's authenticated user."""
    # kopf runs the handler its URL names whatever the operation, so the operation is checked here.
    if kwargs.get("operation") != "CREATE":
        return
    stamp = _admit(creator_annotation, _username(userinfo), body.meta.annotations)
    patch.setdefault("metadata", {}).setdefault("annotations", {}).update(stamp)


@_admission(kopf.on.validate(GROUP, VERSION, PLURAL, id="validate-agenttask", operations=["UPDATE"]))
def validate_task_update(*, body: kopf.Body, **kwargs: Any) -> None:
    """Keep the creator; while the task runs, only tighten its limits."""
    old, new = kwargs.get("old"), body
    if old is None or kwargs.get("operation") != "UPDATE":
        return
    phase = (dict(old).get("status") or {}).get("phase")
    running = phase not in (None, Phase.PENDING.value) and not Phase(phase).terminal
    _admit(
        check_task_update,
        old.meta.annotations,
        new.meta.annotations,
        AgentTaskSpec.model_validate(dict(old).get("spec") or {}),
        AgentTaskSpec.model_validate(dict(new).get("spec") or {}),
        running,
    )


def _approval_spec(body: kopf.Body | None) -> ApprovalSpec:
    return ApprovalSpec.model_validate(dict(body or {}).get("spec") or {})


@_admission(kopf.on.mutate(GROUP, VERSION, APPROVAL_PLURAL, id="mutate-approval"))
def stamp_decision(*, body: kopf.Body, userinfo: kopf.UserInfo, patch: kopf.Patch, **kwargs: Any) -> None:
    """New Approvals carry no decision; a decision is stamped with who made it and when."""
    # old and operation are passed to admission handlers, though kopf's WebhookFn protocol omits them.
    operation, old, new = kwargs.get("operation"), kwargs.get("old"), body
    if operation == "CREATE":
        _admit(check_approval_create, _approval_spec(new))
        return
    if operation != "UPDATE":
        return
    stamp = _admit(decision_stamp, _approval_spec(old), _approval_spec(new), _username(userinfo), utcnow())
    if stamp:
        patch.setdefault("spec", {}).update(stamp)


@_admission(kopf.on.validate(GROUP, VERSION, APPROVAL_PLURAL, id="validate-approval", operations=["UPDATE"]))
def validate_decision(*, body: kopf.Body, userinfo: kopf.UserInfo, memo: kopf.Memo, **kwargs: Any) -> None:
    """Decisions are final, made while open, not by the task's creator, and fit the Approval."""
    old, new = kwargs.get("old"), body
    if old is None or kwargs.get("operation") != "UPDATE":
        return
    _admit(
        check_approval_update,
        _approval_spec(old),
        ApprovalStatus.model_validate(dict(old or {}).get("status") or {}),
        _approval_spec(new),
        _username(userinfo),
        services_of(memo).config.allow_self_approval,
    )


def _cancel_pending(spec: kopf.Spec, status: kopf.Status, **_: Any) -> bool:
    return bool(spec.get("cancel")) and status.get("phase") not in {p.value for p in Phase if p.terminal}


@kopf.on.event(GROUP, VERSION, PLURAL, when=_cancel_pending)
async def task_cancel_requested(*, uid: str, memo: kopf.Memo, **_: Any) -> None:
    """spec.cancel seen true on an unfinished task: interrupt its daemon at once (even mid-wait on a pod)."""
    services_of(memo).cancels.request(uid)


def _is_emergency_stop(name: str, namespace: str | None, memo: kopf.Memo, **_: Any) -> bool:
    return name == EMERGENCY_STOP_CONFIG_MAP and namespace == services_of(memo).config.operator_namespace


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
    services = services_of(memo)
    active = type != "DELETED" and stop_requested(body.get("data"))
    if not services.emergency.set(active):
        return
    services.metrics.emergency_stop_set(active)
    logger.warning("emergency stop %s", "ACTIVE: killing every sandbox pod" if active else "lifted")
    if active:
        await asyncio.gather(
            *(services.launcher.kill(ns, name) for ns, name in services.sandbox_pods.alive())
        )


@kopf.on.event("", "v1", "resourcequotas")
async def resource_quota_changed(
    *, type: str | None, body: kopf.Body, namespace: str | None, name: str, memo: kopf.Memo, **_: Any
) -> None:
    """Wake the tasks waiting for quota in the namespace when one of its quotas is raised or its usage
    drops."""
    if namespace is not None:
        services_of(memo).launcher.observe_quota(namespace, name, None if type == "DELETED" else dict(body))


@kopf.on.event("", "v1", "pods", labels=SANDBOX_LABELS)
async def sandbox_pod_changed(
    *, type: str | None, body: kopf.Body, namespace: str | None, name: str, memo: kopf.Memo, **_: Any
) -> None:
    """Track the pod for the emergency stop (killed while one is active); wake the daemon waiting on it."""
    services = services_of(memo)
    if namespace is None:
        return
    # An unclaimed warm pool pod holds no code: the emergency stop leaves it (killing it only refills it).
    idle = services.pool is not None and services.pool.holds(namespace, name)
    alive = type != "DELETED" and not is_terminal(dict(body)) and not idle
    services.sandbox_pods.observe(namespace, name, alive)
    services.launcher.observe(namespace, name, None if type == "DELETED" else dict(body))
    if services.pool is not None:
        services.pool.observe(namespace, name, None if type == "DELETED" else dict(body))
    if alive and services.emergency.active:
        await services.launcher.kill(namespace, name)
    services.wakeups.notify(namespace, name)
