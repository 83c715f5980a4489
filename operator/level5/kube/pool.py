"""WarmPool: keeps each configured pool (level5.sandbox.pool) filled with Ready single-use pods, hands one to
an iteration, runs that iteration over attach streams, and deletes the pod afterwards (never returned).

The pods' state comes from the operator's sandbox-pod watch (observe()). Once a pod is Ready (its program
container's isolation probe went unanswered), the pool attaches to both containers' stdin and stdout (the
`pods/attach` subresource, through kubernetes_asyncio's WsApiClient) and holds the two streams: the pod is
claimable once they are open, so a claim costs no handshake. What the containers write is read as it comes,
so a stream that ends while its pod waits takes the pod out of the pool (it is deleted and replaced). Each
container has `stdinOnce`: these streams are the only ones that can ever hand it a job. A claim takes the pod
out of the pool in memory (one operator owns the pool) and starts its successor at once, under the slot's
next deterministic name. At start-up the operator deletes the pods a previous incarnation left (one of them
may have been claimed) and fills the pools anew.

The run: the operator sends the program its job with a fresh nonce over the held stream, waits for the
runner's DONE line carrying that nonce (the program is then ended and reaped, and its report written), and
only then sends the checks their job and reads the result document on the checks' stream. A stream that ends
without the true DONE line means the runner was killed or the connection lost: no check runs, and the run
fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientError, ClientWebSocketResponse, WSMsgType
from kubernetes_asyncio import client
from kubernetes_asyncio.stream import WsApiClient
from kubernetes_asyncio.stream.ws_client import STDIN_CHANNEL, STDOUT_CHANNEL

from level5.api.spec import AgentTaskSpec
from level5.api.status import SyscallMonitoring
from level5.core.config import OperatorConfig, PoolClass
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_CONTAINER
from level5.kube.errors import created, unless_missing
from level5.safety.runtime_policy import policy_document
from level5.sandbox.manifests import STARTUP_GRACE_SECONDS, run_timeout
from level5.sandbox.outcome import PodOutcome, is_terminal
from level5.sandbox.pool import (
    POD_LIFETIME_SECONDS,
    POOL_LABEL,
    checks_job,
    done_line,
    parse_pool_pod_name,
    pod_is_ready,
    pool_class,
    pool_owner,
    pool_owner_name,
    pool_pod,
    program_job,
)
from level5.sandbox.result import MAX_RESULT_BYTES, RESULT_MARKER, RunResultError, parse_pod_log

log = logging.getLogger(__name__)

STREAM_ENDED = "the attach stream of warm pool pod %s/%s ended; replacing the pod"
"""Logged (WARNING) when an unclaimed pod's held stream ends (the cluster test looks for it)."""

CLAIM_WAIT_SECONDS = 1.0
"""How long a claim that finds no Ready pod waits for one whose streams are being opened (a Ready pod joins
its pool only once both are open: a websocket handshake each, 15 to 30 ms, over 100 ms under load). Starting
a cold pod instead costs more than a second."""

TAIL_SECONDS = 1.0
"""A claimed pod's successor is created this long after the claim, and a pod that served its run is deleted
this long after its result: both are work for the API server and the node (starting or tearing down a gVisor
sandbox), which a short iteration's last steps (its audit records and final status write) would otherwise
wait behind on a small node. A pod whose run failed is deleted at once (its program may still run)."""


class WarmRunError(RuntimeError):
    """The warm run gave no result (runner killed, stream lost, time out); the pod is deleted all the same."""


class WarmPool:
    """The configured pools of Ready pods, their claims and refills."""

    def __init__(self, api: client.ApiClient, ws_api: WsApiClient, config: OperatorConfig) -> None:
        self._core = client.CoreV1Api(api)
        self._ws_api = ws_api
        self._ws_core = client.CoreV1Api(ws_api)
        self._config = config
        self._pools = {(p.namespace, p.name): p for p in config.sandbox_pools}
        for pool in config.sandbox_pools:
            pool_class(pool)  # a malformed quantity stops the operator at start-up, naming the pool
        self._owner_uid: dict[tuple[str, str], str] = {}
        # Per pool, its Ready unclaimed pods (name -> pod), oldest first; and every live pod of it by name.
        self._ready: dict[tuple[str, str], dict[str, dict[str, Any]]] = {k: {} for k in self._pools}
        self._live: dict[tuple[str, str], set[str]] = {k: set() for k in self._pools}
        self._background: set[asyncio.Task[None]] = set()
        # The attach streams of Ready pods (held from readiness until the claimed pod's run takes them), and
        # the pods whose streams are being opened.
        self._streams: dict[tuple[str, str], Streams] = {}
        self._attaching: set[tuple[str, str]] = set()
        # Per pool, set (and replaced) whenever one of its pods' attach ends, either way: claims wait on it.
        self._attached: dict[tuple[str, str], asyncio.Event] = {k: asyncio.Event() for k in self._pools}
        # Claimed pods whose successor is yet to be created, and served pods yet to be deleted (TAIL_SECONDS).
        self._refills: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._retiring: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._closing = False

    @property
    def pools(self) -> list[PoolClass]:
        return list(self._pools.values())

    def holds(self, namespace: str, name: str) -> bool:
        """Whether this is an unclaimed pod of a pool (it has never been handed any code)."""
        return any(namespace == k[0] and name in live for k, live in self._live.items())

    def ready_count(self) -> int:
        return sum(len(r) for r in self._ready.values())

    def configured_size(self) -> int:
        return sum(p.size for p in self._pools.values())

    async def start(self) -> None:
        """Create each pool's owner, delete what a previous operator left, and start every slot's pod."""
        for key, pool in self._pools.items():
            create_owner: Any = self._core.create_namespaced_config_map  # takes a plain manifest too
            await created(create_owner(pool.namespace, pool_owner(pool)))
            owner = await self._core.read_namespaced_config_map(pool_owner_name(pool), pool.namespace)
            self._owner_uid[key] = owner.metadata.uid
            left = await self._core.list_namespaced_pod(
                pool.namespace, label_selector=f"{POOL_LABEL}={pool.name}"
            )
            for pod in left.items:
                await unless_missing(
                    self._core.delete_namespaced_pod(
                        pod.metadata.name, pool.namespace, grace_period_seconds=0
                    )
                )
            first = int(time.time())  # a new incarnation never reuses a name of the one before
            for slot in range(pool.size):
                self._spawn(self._create(key, slot, first))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _create(self, key: tuple[str, str], slot: int, sequence: int) -> None:
        pool = self._pools[key]
        manifest = pool_pod(pool, slot, sequence, self._owner_uid[key], self._config)
        self._live[key].add(manifest["metadata"]["name"])
        try:
            create: Any = self._core.create_namespaced_pod  # takes a plain manifest too
            await created(create(pool.namespace, manifest))
        except Exception:
            self._live[key].discard(manifest["metadata"]["name"])
            log.exception("could not start warm pool pod %s/%s", pool.namespace, manifest["metadata"]["name"])

    def _refill(self, key: tuple[str, str], name: str) -> None:
        parsed = parse_pool_pod_name(self._pools[key], name)
        if parsed is not None:
            self._spawn(self._create(key, parsed[0], parsed[1] + 1))

    def observe(self, namespace: str, name: str, pod: dict[str, Any] | None) -> None:
        """A sandbox pod's watch event (None: deleted). Ready pods of a pool join it; a pool pod that failed
        or went before it was claimed is replaced. A claimed pod left its pool when it was claimed (and was
        replaced then), so its events change nothing here."""
        labels = ((pod or {}).get("metadata") or {}).get("labels") or {}
        key = (namespace, labels.get(POOL_LABEL, ""))
        if pod is None:
            key = next((k for k in self._live if k[0] == namespace and name in self._live[k]), key)
        if key not in self._pools or name not in self._live[key]:
            return
        if pod is None or is_terminal(pod) or pod.get("metadata", {}).get("deletionTimestamp"):
            self._ready[key].pop(name, None)
            self._live[key].discard(name)
            self._drop_streams(namespace, name)
            self._refill(key, name)
            if pod is not None:
                self._spawn(self._delete(namespace, name))
        elif pod_is_ready(pod) and name not in self._ready[key] and (namespace, name) not in self._attaching:
            self._attaching.add((namespace, name))
            self._spawn(self._attach_ready(key, name, pod))

    async def _attach_ready(self, key: tuple[str, str], name: str, pod: dict[str, Any]) -> None:
        """Open a Ready pod's streams and hold them; the pod joins its pool once they are open. A pod whose
        streams could not be opened may have had its stdin attached: it is deleted (and replaced). Either
        way the claims waiting for this pool look again."""
        namespace = key[0]
        try:
            streams = await self._open(namespace, name, lambda: self._lost(key, name))
        except Exception:
            log.exception("could not attach to warm pool pod %s/%s; replacing it", namespace, name)
            if name in self._live[key]:
                self._spawn(self._delete(namespace, name))
            streams = None
        self._attaching.discard((namespace, name))
        if streams is not None and name in self._live[key] and not self._closing:
            self._streams[namespace, name] = streams
            self._ready[key][name] = pod
        elif streams is not None:  # went (or the operator stops) meanwhile
            self._spawn(streams.close())
        self._attached.pop(key).set()
        self._attached[key] = asyncio.Event()

    def _lost(self, key: tuple[str, str], name: str) -> None:
        """A held stream ended. An unclaimed pod can no longer be handed a job: out of the pool, deleted (and
        replaced when its deletion is seen). A claimed pod's run sees the end itself."""
        if self._closing or self._ready[key].pop(name, None) is None:
            return
        log.warning(STREAM_ENDED, key[0], name)
        self._drop_streams(key[0], name)
        self._spawn(self._delete(key[0], name))

    def _drop_streams(self, namespace: str, name: str) -> None:
        streams = self._streams.pop((namespace, name), None)
        if streams is not None:
            self._spawn(streams.close())

    async def claim(self, pool: PoolClass, spec: AgentTaskSpec) -> str | None:
        """Take a Ready pod of the pool for one iteration, or None; its successor starts TAIL_SECONDS on. With
        none Ready but one being attached, wait for it (up to CLAIM_WAIT_SECONDS)."""
        key = (pool.namespace, pool.name)
        deadline = asyncio.get_running_loop().time() + CLAIM_WAIT_SECONDS
        while True:
            name = self._take(key, spec)
            if name is not None or not any((pool.namespace, n) in self._attaching for n in self._live[key]):
                return name
            try:
                async with asyncio.timeout_at(deadline):
                    await self._attached[key].wait()
            except TimeoutError:
                return self._take(key, spec)

    def _take(self, key: tuple[str, str], spec: AgentTaskSpec) -> str | None:
        """The oldest Ready pod of the pool with time left for the run, taken out of it for good."""
        ready = self._ready[key]
        needed = run_timeout(spec) + STARTUP_GRACE_SECONDS
        while ready:
            name, pod = next(iter(ready.items()))
            del ready[name]
            self._live[key].discard(name)  # out of the pool for good: used once, then deleted
            self._refills[key[0], name] = asyncio.get_running_loop().call_later(
                TAIL_SECONDS, self._start_successor, key, name
            )
            started = (pod.get("status") or {}).get("startTime")
            age = (datetime.now(UTC) - datetime.fromisoformat(started)).total_seconds() if started else 0.0
            if age + needed < POD_LIFETIME_SECONDS:
                return name
            self._start_successor(key, name)
            self.release(key[0], name)  # too close to its deadline: replaced, never used
        return None

    def release(self, namespace: str, name: str, served: bool = False) -> None:
        """A claimed pod has served (or failed) its one iteration: delete it, in the background (a pod that
        served, TAIL_SECONDS later: both its containers have ended)."""
        self._drop_streams(namespace, name)
        if served:
            self._retiring[namespace, name] = asyncio.get_running_loop().call_later(
                TAIL_SECONDS, self._retire, namespace, name
            )
        else:
            self._spawn(self._delete(namespace, name))

    def _start_successor(self, key: tuple[str, str], name: str) -> None:
        """Create the claimed pod's successor (once)."""
        timer = self._refills.pop((key[0], name), None)
        if timer is not None:
            timer.cancel()
            self._refill(key, name)

    def _retire(self, namespace: str, name: str) -> None:
        """Delete a pod that served its run (once)."""
        timer = self._retiring.pop((namespace, name), None)
        if timer is not None:
            timer.cancel()
            self._spawn(self._delete(namespace, name))

    async def _delete(self, namespace: str, name: str) -> None:
        await unless_missing(self._core.delete_namespaced_pod(name, namespace, grace_period_seconds=0))

    async def close(self) -> None:
        self._closing = True
        for timer in self._refills.values():
            timer.cancel()  # no successor: the operator stops
        for namespace, name in list(self._retiring):
            self._retire(namespace, name)  # a used pod is deleted now
        await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.gather(*(streams.close() for streams in self._streams.values()))
        self._streams.clear()
        await self._ws_api.close()

    async def run(self, namespace: str, name: str, spec: AgentTaskSpec, code: str) -> PodOutcome:
        """Run one iteration in a claimed pod over its attach streams; the pod is deleted afterwards."""
        nonce = secrets.token_hex(16)
        timeout = run_timeout(spec) + STARTUP_GRACE_SECONDS
        monitoring = (
            SyscallMonitoring.UNAVAILABLE if self._config.syscall_monitor_url else SyscallMonitoring.OFF
        )
        streams = self._streams.pop((namespace, name), None)
        served = False  # the checks' result is in: both containers are done with their one job
        try:
            async with asyncio.timeout(timeout):
                if streams is None:  # a pod that was never in this pool's hands (the trust tests run these)
                    streams = await self._open(namespace, name, lambda: None)
                await streams.program.send(program_job(nonce, code, policy_document(spec)))
                await streams.program.until(lambda text: done_line(nonce) in text.split("\n"))
                await streams.checks.send(checks_job(spec))
                text = await streams.checks.until(has_result)
                served = True
            return PodOutcome(run=parse_pod_log(text), monitoring=monitoring)
        except (WarmRunError, RunResultError, TimeoutError, OSError, ClientError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            return PodOutcome(failure=f"the warm sandbox gave no result: {reason}", monitoring=monitoring)
        finally:
            if streams is not None:
                # Closed in the background: a websocket's closing handshake took 3 to 15 ms of a warm
                # iteration, and nothing waits on it (the pod is used once and deleted).
                self._spawn(streams.close())
            self.release(namespace, name, served)

    async def _open(self, namespace: str, name: str, ended: Callable[[], None]) -> Streams:
        """Both containers' attach streams, connected side by side (each is a websocket handshake through the
        API server and the kubelet); `ended` is called when either ends."""
        opened = await asyncio.gather(
            attach(self._ws_core, namespace, name, PROGRAM_CONTAINER),
            attach(self._ws_core, namespace, name, CHECKS_CONTAINER),
            return_exceptions=True,
        )
        failed = next((r for r in opened if isinstance(r, BaseException)), None)
        if failed is not None:
            for ws in opened:
                if isinstance(ws, ClientWebSocketResponse):
                    with contextlib.suppress(Exception):
                        await ws.close()
            raise failed
        program, checks = opened
        assert isinstance(program, ClientWebSocketResponse) and isinstance(checks, ClientWebSocketResponse)
        return Streams(Stream(program, ended), Stream(checks, ended))


async def attach(
    ws_core: client.CoreV1Api, namespace: str, name: str, container: str
) -> ClientWebSocketResponse:
    """A websocket on one container's attach subresource (stdin and stdout), through the API server."""
    # The client returns the connection's context manager; awaiting it makes the connection.
    connection: Any = await ws_core.connect_get_namespaced_pod_attach(
        name, namespace, container=container, stdin=True, stdout=True, stderr=False, tty=False,
        _preload_content=False,
    )  # fmt: skip
    ws: ClientWebSocketResponse = await connection
    return ws


class Stream:
    """One container's attach stream: its stdout read as it comes (an end is seen even while the pod waits in
    its pool), its stdin written to."""

    def __init__(self, ws: ClientWebSocketResponse, ended: Callable[[], None]) -> None:
        self._ws = ws
        self.text = ""
        self.ended = False
        self._changed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read(ended))

    async def _read(self, ended: Callable[[], None]) -> None:
        try:
            async for message in self._ws:
                if message.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                    break
                data = message.data if isinstance(message.data, bytes) else message.data.encode()
                if len(data) > 1 and data[0] == STDOUT_CHANNEL:
                    self.text += data[1:].decode("utf-8", errors="replace")
                    self._changed.set()
                    if len(self.text) > MAX_RESULT_BYTES:
                        break
        except (OSError, ClientError, TimeoutError):
            pass  # the stream ended all the same
        finally:
            self.ended = True
            self._changed.set()
            ended()

    async def send(self, data: bytes) -> None:
        await self._ws.send_bytes(bytes([STDIN_CHANNEL]) + data)

    async def until(self, done: Callable[[str], bool]) -> str:
        """The container's stdout once done(text) holds; WarmRunError when the stream ends first."""
        while True:
            if done(self.text):
                return self.text
            if len(self.text) > MAX_RESULT_BYTES:
                raise WarmRunError("the sandbox wrote more than a result document")
            if self.ended:
                raise WarmRunError(
                    "the sandbox's stream ended before its report (the runner was killed or the pod went)"
                )
            self._changed.clear()
            await self._changed.wait()

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader
        with contextlib.suppress(Exception):
            await self._ws.close()


class Streams:
    """A pool pod's two streams: the program's and the checks'."""

    def __init__(self, program: Stream, checks: Stream) -> None:
        self.program, self.checks = program, checks

    async def close(self) -> None:
        await asyncio.gather(self.program.close(), self.checks.close())


def has_result(text: str) -> bool:
    """The checks' stream holds the marker line and the complete document line after it."""
    at = text.rfind(f"\n{RESULT_MARKER}\n")
    return at >= 0 and text.endswith("\n") and len(text) > at + len(RESULT_MARKER) + 3
