"""SandboxLauncher: the one interface through which the operator creates, watches, reads and kills sandbox
pods (cold ones; warm pool claims and runs). Waiting is event-driven: the kopf pod-event handler calls
Wakeups.notify() and waiters wake up; a slow re-read only guards against a missed event."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import kopf
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.stream import WsApiClient

from level5.api.spec import AgentTaskSpec
from level5.api.status import SyscallMonitoring
from level5.core.config import OperatorConfig
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_CONTAINER
from level5.core.wakeups import Wakeups
from level5.kube.errors import created, quota_refusal, unless_missing
from level5.kube.pool import WarmPool, WarmRunError
from level5.kube.streamed import StreamedRun
from level5.observability.syscalls import SyscallMonitorClient
from level5.safety.runtime_policy import policy_document
from level5.sandbox.capacity import QuotaState, capacity_freed
from level5.sandbox.manifests import (
    PROGRAM_FILES,
    STARTUP_GRACE_SECONDS,
    STREAMED_JOB_FILES,
    TaskRef,
    code_config_map,
    deny_all_network_policy,
    is_streamed,
    result_config_map,
    run_timeout,
    sandbox_limit_range,
    sandbox_pod,
    sandbox_resource_quota,
    streamed_pod,
    streams_cold,
)
from level5.sandbox.outcome import (
    SANDBOX_START_FAILED,
    LaunchOutcome,
    Pod,
    PodOutcome,
    QueueReport,
    QuotaRefusal,
    container_status,
    deleted_mid_run,
    has_ended,
    is_finished,
    is_scheduled,
    is_terminal,
    pod_failure,
    report_awaited,
    run_key_of,
)
from level5.sandbox.pool import INTERRUPTED_WARM_RUN, ColdStartReason, WarmClaim, fallback_jobs, match_pool
from level5.sandbox.result import MAX_RESULT_BYTES, RunResultError, parse_pod_log
from level5.sandbox.syscall_summary import SyscallSummary

RECHECK_SECONDS = 60.0
"""Safety re-read of a pod in case a watch event was missed; events normally wake waiters first."""
QUEUE_SETTLE_SECONDS = 1.0
"""After a wake-up whose retry was refused, the head of a queue tries once more this soon: the API server's
quota admission reads its own cache of the quota, which may not yet hold the change the watch reported."""
CAPACITY = "level5/capacity"
"""Wake-up key (with the namespace) for 'a sandbox pod there ended or went': never a namespace's name."""


# The kubelet's status updates come at least once per relist (1 s by default); a few of them.
PROGRAM_END_REPORT_SECONDS = 10.0


def _hard_limit(spec: AgentTaskSpec) -> float:
    """How long the operator waits for a sandbox pod's run at most: its own run and twice the start grace."""
    return run_timeout(spec) + 2 * STARTUP_GRACE_SECONDS


def _run_can_start(pod: Pod) -> bool:
    """A cold pod whose run the operator can go on with: finished, or streamed and bound to a node (its
    containers are attached to as soon as they run, see level5.kube.streamed)."""
    return is_finished(pod) or (is_streamed(pod) and is_scheduled(pod))


class SandboxLauncher:
    """Creates and observes sandbox pods and their code ConfigMaps."""

    def __init__(
        self,
        api: client.ApiClient,
        config: OperatorConfig,
        events: Wakeups,
        monitor: SyscallMonitorClient | None = None,
        pool: WarmPool | None = None,
        ws_api: WsApiClient | None = None,
    ) -> None:
        self._api = api
        # Cold iterations of Python tasks run in streamed pods over attach streams (this websocket client);
        # without one, every cold pod is the ConfigMap-fed one.
        self._streamed = (
            None if ws_api is None else StreamedRun(client.CoreV1Api(api), client.CoreV1Api(ws_api))
        )
        self._monitor = monitor
        self._pool = pool
        # Pool pods this process claimed and has not run yet: only these may run (once); a claim recorded by
        # an operator that has since restarted is never run, its pod is deleted.
        self._claims: set[tuple[str, str]] = set()
        self._core = client.CoreV1Api(api)
        self._net = client.NetworkingV1Api(api)
        self._config = config
        self._events = events
        self._guarded: dict[str, asyncio.Task[None]] = {}
        # Per namespace, the tasks waiting for quota, first come first served (asyncio.Lock is FIFO).
        self._queues: dict[str, asyncio.Lock] = {}
        self._waiting: Counter[str] = Counter()
        self._last_refusal: dict[str, QuotaRefusal] = {}
        # What last freed capacity in a namespace with waiting launches (told in the dequeue Event), and the
        # last seen state of every ResourceQuota, to tell a raised limit or a drop in usage (observe_quota).
        self._freed_by: dict[str, str] = {}
        self._quotas: dict[tuple[str, str], QuotaState] = {}
        # The latest state of each pod a wait() is watching, from the pod watch (observe()): a wake-up then
        # needs no GET. Only waited-on pods are kept, so this stays as small as the number of running waits.
        self._watched: dict[QuotaRefusal, Pod | None] = {}

    async def close(self) -> None:
        if self._monitor is not None:
            await self._monitor.close()

    async def _create(self, create: Any, namespace: str, body: dict[str, Any]) -> bool:
        """Create an object; False when it already exists (every side effect here is idempotent)."""
        return await created(create(namespace, body))

    async def ensure_namespace_guards(self, namespace: str) -> None:
        """Deny-all NetworkPolicy, ResourceQuota and LimitRange for sandbox pods, created if missing. Tasks
        that launch at once in a new namespace share one creation (no storm of POSTs and conflicts); a
        failed one is tried again by the next launch."""
        guarding = self._guarded.get(namespace)
        if guarding is None or (guarding.done() and guarding.exception() is not None):
            guarding = asyncio.ensure_future(self._create_guards(namespace))
            self._guarded[namespace] = guarding
        await asyncio.shield(guarding)

    async def _create_guards(self, namespace: str) -> None:
        await self._create(
            self._net.create_namespaced_network_policy, namespace, deny_all_network_policy(namespace)
        )
        await self._create(
            self._core.create_namespaced_resource_quota, namespace, sandbox_resource_quota(namespace)
        )
        await self._create(
            self._core.create_namespaced_limit_range, namespace, sandbox_limit_range(namespace)
        )

    async def store_code(
        self, task: TaskRef, spec: AgentTaskSpec, pod_name: str, iteration: int, code: str
    ) -> str:
        """Write the iteration's code ConfigMap and return its name. One that exists with other code is left
        by an attempt of this iteration whose status never recorded it (the operator stopped before that
        write landed; a pod is launched only after a status naming the code is written): it is replaced, so
        the pod never runs code other than what was reviewed."""
        manifest = code_config_map(task, spec, pod_name, iteration, code, policy_document(spec))
        name = str(manifest["metadata"]["name"])
        if await self._create(self._core.create_namespaced_config_map, task.namespace, manifest):
            return name
        if await self.read_code(task.namespace, name) != code:
            await unless_missing(self._core.delete_namespaced_config_map(name, task.namespace))
            if not await self._create(self._core.create_namespaced_config_map, task.namespace, manifest):
                raise kopf.TemporaryError(f"code ConfigMap {name} is being replaced", delay=1)
        return name

    async def read_code(self, namespace: str, config_map: str) -> str | None:
        found = await unless_missing(self._core.read_namespaced_config_map(config_map, namespace))
        data = {} if found is None else (found.data or {})
        return next((data[name] for name in PROGRAM_FILES.values() if name in data), None)

    async def read_pod(self, namespace: str, name: str) -> Pod | None:
        pod = await unless_missing(self._core.read_namespaced_pod(name, namespace))
        if pod is None:
            return None
        serialized: Pod = self._api.sanitize_for_serialization(pod)
        return serialized

    async def _pod_ever_existed(self, namespace: str, name: str) -> bool:
        """Events outlive a deleted pod (about an hour): the scheduler records one for every pod it places."""
        events = await self._core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.kind=Pod,involvedObject.name={name}", limit=1
        )
        return bool(events.items)

    async def launch(
        self,
        task: TaskRef,
        spec: AgentTaskSpec,
        pod_name: str,
        iteration: int,
        code: str | None,
        resuming: bool,
        queued: QueueReport | None = None,
    ) -> LaunchOutcome:
        """Create the pod for `code` (as stored in its ConfigMap; None when that is missing) unless it
        exists. When resuming an interrupted launch, a missing pod is created only if it can never have
        existed (no events for it) and its code ConfigMap is there; otherwise it is VANISHED and must not run
        again. When a ResourceQuota refuses the pod, the launch waits in the namespace's queue (see
        _create_pod) and `queued` is told."""
        if resuming:
            if await self.read_pod(task.namespace, pod_name) is not None:
                return LaunchOutcome.EXISTS
            if code is None or await self._pod_ever_existed(task.namespace, pod_name):
                return LaunchOutcome.VANISHED
        if code is None:
            raise ValueError(f"no code stored for pod {pod_name}")
        if self._streamed is not None and streams_cold(spec, task.namespace, self._config):
            nonce, run_key = secrets.token_hex(16), secrets.token_hex(8)
            fallback = fallback_jobs(spec, code, policy_document(spec))
            manifest = streamed_pod(task, spec, pod_name, iteration, self._config, nonce, run_key, fallback)
        else:
            manifest = sandbox_pod(task, spec, pod_name, iteration, self._config)
        created = await self._create_pod(task.namespace, manifest, queued)
        return LaunchOutcome.CREATED if created else LaunchOutcome.EXISTS

    async def _create_pod(self, namespace: str, manifest: dict[str, Any], queued: QueueReport | None) -> bool:
        """Create a sandbox pod; when a ResourceQuota refuses it, wait for capacity instead of failing. The
        waiting launches of a namespace form one queue, first come first served: only its head retries, when
        a ResourceQuota there is raised or its usage drops (the quota watch), when a sandbox pod there ends or
        is deleted (the pod watch), or after the config's queue_recheck_seconds (a fallback for a missed
        event); a new launch joins the queue's end while anyone waits. Only the head waits on the wake-up,
        so a wake-up costs one retry however many launches wait. Cancellation (cancel, emergency stop,
        pause) leaves the queue at once."""
        queue = self._queues.setdefault(namespace, asyncio.Lock())
        refusal: QuotaRefusal | None = None
        if queue.locked():
            refusal = self._last_refusal.get(namespace)
        else:
            try:
                return await self._create(self._core.create_namespaced_pod, namespace, manifest)
            except ApiException as exc:
                refusal = quota_refusal(exc)
                if refusal is None:
                    raise
        reported, freed_by = None, ""
        self._waiting[namespace] += 1
        try:
            if refusal is not None and queued is not None:
                await queued(refusal, "")
                reported = refusal
            async with queue:
                try:
                    settle = False
                    while True:
                        capacity = self._events.arm(CAPACITY, namespace)
                        try:
                            return await self._create(self._core.create_namespaced_pod, namespace, manifest)
                        except ApiException as exc:
                            refusal = quota_refusal(exc)
                            if refusal is None:
                                raise
                        self._last_refusal[namespace] = refusal
                        if queued is not None and (reported is None or reported[0] != refusal[0]):
                            await queued(refusal, "")
                            reported = refusal
                        timeout = QUEUE_SETTLE_SECONDS if settle else self._config.queue_recheck_seconds
                        try:
                            await asyncio.wait_for(capacity.wait(), timeout=timeout)
                            freed_by, settle = self._freed_by.pop(namespace, ""), True
                        except TimeoutError:
                            if not settle:
                                freed_by = f"no event for {timeout:g} s: the fallback re-check"
                            settle = False
                finally:
                    self._events.forget(CAPACITY, namespace)
        finally:
            self._waiting[namespace] -= 1
            if not self._waiting[namespace]:
                del self._waiting[namespace]
                self._last_refusal.pop(namespace, None)
                self._freed_by.pop(namespace, None)
            if reported is not None and queued is not None:
                await queued(None, freed_by)

    def waiting(self) -> dict[str, int]:
        """Namespaces with launches waiting for quota, and how many wait there."""
        return dict(self._waiting)

    def observe(self, namespace: str, name: str, pod: Pod | None) -> None:
        """A sandbox pod's watch event (None: deleted). Kept only while a wait() watches that pod; a pod that
        ended or went frees quota, so the head of the namespace's queue tries again."""
        if (namespace, name) in self._watched:
            self._watched[namespace, name] = pod
        if pod is None or is_terminal(pod):
            self._capacity_freed(namespace, f"sandbox pod {name} {'was deleted' if pod is None else 'ended'}")

    def observe_quota(self, namespace: str, name: str, quota: dict[str, Any] | None) -> None:
        """A ResourceQuota's watch event (None: deleted). A raised limit or a drop in usage wakes the head of
        the namespace's queue; the quota controller recounts usage after a pod ends, so this is also the
        moment a freed slot becomes admissible."""
        key = (namespace, name)
        before = self._quotas.get(key)
        after = None if quota is None else QuotaState.of(quota)
        if after is None:
            self._quotas.pop(key, None)
        else:
            self._quotas[key] = after
        freed = capacity_freed(name, before, after)
        if freed is not None:
            self._capacity_freed(namespace, freed)

    def _capacity_freed(self, namespace: str, why: str) -> None:
        if namespace in self._waiting:
            self._freed_by[namespace] = why
            self._events.notify(CAPACITY, namespace)

    async def wait(
        self, namespace: str, name: str, spec: AgentTaskSpec, until: Callable[[Pod], bool] = is_finished
    ) -> Pod | None:
        """Wait until the pod has finished (its result is in: see is_finished), or whatever `until` says; or
        it is gone, or cannot start; return its last state. The state comes from the pod watch; the API is
        read at the start and on the slow re-check only."""
        loop = asyncio.get_running_loop()
        hard_deadline = loop.time() + _hard_limit(spec)
        key = (namespace, name)
        self._watched[key] = None
        fresh = True
        try:
            while True:
                event = self._events.arm(namespace, name)
                seen = self._watched.get(key)
                pod = await self.read_pod(namespace, name) if fresh or seen is None else seen
                fresh = False
                if pod is None or until(pod):
                    return pod
                failure = pod_failure(pod)
                remaining = hard_deadline - loop.time()
                if (failure and failure.startswith(SANDBOX_START_FAILED)) or remaining <= 0:
                    await self.kill(namespace, name)
                    return pod
                try:
                    await asyncio.wait_for(event.wait(), timeout=min(remaining, RECHECK_SECONDS))
                except TimeoutError:
                    fresh = True
        finally:
            self._events.forget(namespace, name)
            self._watched.pop(key, None)

    async def result(self, namespace: str, name: str, pod: Pod | None) -> PodOutcome:
        """The result document from the checks container's log (never the program's), or the reason there is
        none."""
        if pod is None:
            return PodOutcome(failure="the sandbox pod disappeared before its result was read")
        failure = pod_failure(pod)
        monitoring, syscalls = await self._syscalls(pod)
        try:
            log = await self._core.read_namespaced_pod_log(
                name, namespace, container=CHECKS_CONTAINER, tail_lines=3, limit_bytes=MAX_RESULT_BYTES
            )
            run = parse_pod_log(str(log))
            return PodOutcome(run=run, failure=failure, monitoring=monitoring, syscalls=syscalls)
        except (ApiException, RunResultError) as exc:
            reason = exc.reason if isinstance(exc, ApiException) else str(exc)
            failure = failure or f"no result from the sandbox: {reason}"
            return PodOutcome(failure=failure, monitoring=monitoring, syscalls=syscalls)

    async def _syscalls(self, pod: Pod) -> tuple[SyscallMonitoring, SyscallSummary | None]:
        """The monitor's summary of the program's container, from the collector on the pod's node."""
        if self._monitor is None:
            return SyscallMonitoring.OFF, None
        status = pod.get("status", {})
        container_id = (container_status(pod, PROGRAM_CONTAINER) or {}).get("containerID")
        run_key = run_key_of(pod)
        host_ip = status.get("hostIP")
        if not host_ip:
            return SyscallMonitoring.UNAVAILABLE, None
        if container_id:
            summary = await self._monitor.summary(host_ip, container_id)
        elif run_key is not None:
            summary = await self._monitor.run_summary(host_ip, run_key)
        else:
            return SyscallMonitoring.UNAVAILABLE, None
        return (SyscallMonitoring.OBSERVED if summary else SyscallMonitoring.UNAVAILABLE), summary

    async def run_cold(
        self, namespace: str, name: str, spec: AgentTaskSpec, code: str
    ) -> tuple[Pod | None, PodOutcome]:
        """Run a cold iteration's pod to its result and return the pod's last state with its outcome. A
        streamed pod is handed its code and checks over attach streams once both its containers have started
        (level5.kube.streamed); a ConfigMap-fed one is waited for. A streamed run that gives no result ends
        the pod at once (its program may still run)."""
        loop = asyncio.get_running_loop()
        hard_deadline = loop.time() + _hard_limit(spec)
        pod = await self.wait(namespace, name, spec, _run_can_start)
        if (
            self._streamed is None
            or pod is None
            or deleted_mid_run(pod)
            or is_finished(pod)  # the checks' log holds the result, or the pod ended (pod_failure says why)
            or not (is_streamed(pod) and is_scheduled(pod))  # wait() gave up on it: never bound, killed
        ):
            return pod, await self.result(namespace, name, pod)
        failure = None
        run = None
        key = (namespace, name)
        self._watched[key] = pod  # observe() keeps it current (None once deleted) while the run attaches

        async def ended(container: str) -> Pod | None:
            last = await self.wait(namespace, name, spec, partial(has_ended, container=container))
            self._watched[key] = last  # wait() stops watching it when it returns; the run goes on watching
            return last

        try:
            async with asyncio.timeout(max(0.0, hard_deadline - loop.time())):
                run = await self._streamed.run(pod, spec, code, lambda: self._watched.get(key), ended)
        except (WarmRunError, RunResultError, TimeoutError) as exc:
            failure = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        finally:
            self._watched.pop(key, None)
        last = await self.read_pod(namespace, name)  # before any kill: a deletion seen now came from outside
        until = report_awaited(last, failure is not None and run is None, self._monitor is not None)
        if last is not None and until is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PROGRAM_END_REPORT_SECONDS):
                    last = await self.wait(namespace, name, spec, until) or last
        if failure is not None:
            await self.kill(namespace, name)
            failure = (last and pod_failure(last)) or f"no result from the sandbox: {failure}"
        monitoring, syscalls = await self._syscalls(last or pod)
        outcome = PodOutcome(
            run=run,
            failure=failure,
            monitoring=monitoring,
            syscalls=syscalls,
            job_files=list(STREAMED_JOB_FILES),
        )
        return last, outcome

    async def claim_warm(self, task: TaskRef, spec: AgentTaskSpec) -> WarmClaim | ColdStartReason | None:
        """A Ready pod of the pool matching the task; why not, when its namespace has pools; None without."""
        if self._pool is None:
            return None
        pool = match_pool(self._pool.pools, task.namespace, spec, self._config)
        if pool is None or isinstance(pool, ColdStartReason):
            return pool
        name = await self._pool.claim(pool, spec)
        if name is None:
            return ColdStartReason.POOL_EMPTY
        self._claims.add((task.namespace, name))
        return WarmClaim(pool=pool.name, pod_name=name)

    async def run_warm(self, task: TaskRef, spec: AgentTaskSpec, pod_name: str, code: str) -> PodOutcome:
        """Run the iteration in the pool pod this process claimed for it; a claim it does not hold (made
        before a restart) is never run: the pod is deleted and the run fails."""
        key = (task.namespace, pod_name)
        if self._pool is None or key not in self._claims:
            await self.kill(task.namespace, pod_name)
            return PodOutcome(
                failure=f"{INTERRUPTED_WARM_RUN}: the operator restarted after claiming the pod"
            )
        self._claims.discard(key)
        return await self._pool.run(task.namespace, pod_name, spec, code)

    async def kill(self, namespace: str, name: str) -> None:
        if self._pool is not None and (namespace, name) in self._claims:
            self._claims.discard((namespace, name))
            self._pool.release(namespace, name)  # a claimed pool pod killed before its run: never run now
        await unless_missing(self._core.delete_namespaced_pod(name, namespace, grace_period_seconds=0))

    async def store_result(self, task: TaskRef, data: dict[str, str]) -> str:
        """Create the task's result ConfigMap, for results too large for status. An existing one is kept:
        it can only come from an interrupted earlier attempt at writing the same final result."""
        body = result_config_map(task, data)
        await self._create(self._core.create_namespaced_config_map, task.namespace, body)
        return str(body["metadata"]["name"])
