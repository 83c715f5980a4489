"""WarmPool: keeps each configured pool (level5.sandbox.pool) filled with Ready single-use pods, hands one to
an iteration, runs that iteration over attach streams, and deletes the pod afterwards (never returned).

The pods' state comes from the operator's sandbox-pod watch (observe()); a pod is claimable once Ready, that
is, once its program container's isolation probe went unanswered. A claim takes the pod out of the pool in
memory (one operator owns the pool) and starts its successor at once, under the slot's next deterministic
name. At start-up the operator deletes the pods a previous incarnation left (one of them may have been
claimed) and fills the pools anew.

The run: the operator attaches to both containers' stdin and stdout (the `pods/attach` subresource, through
kubernetes_asyncio's WsApiClient), sends the program its job with a fresh nonce, waits for the runner's DONE
line carrying that nonce (the program is then ended and reaped, and its report written), and only then sends
the checks their job and reads the result document on the checks' stream. A stream that ends without the
true DONE line means the runner was killed or the connection lost: no check runs, and the run fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Iterable
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
        # Attach streams being opened for claimed pods, from the claim until the run takes them.
        self._streams: dict[tuple[str, str], asyncio.Future[Streams]] = {}

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
            self._refill(key, name)
            if pod is not None:
                self._spawn(self._delete(namespace, name))
        elif pod_is_ready(pod):
            self._ready[key][name] = pod

    def claim(self, pool: PoolClass, spec: AgentTaskSpec) -> str | None:
        """Take a Ready pod of the pool for one iteration (its successor starts at once), or None."""
        key = (pool.namespace, pool.name)
        ready = self._ready[key]
        needed = run_timeout(spec) + STARTUP_GRACE_SECONDS
        while ready:
            name, pod = next(iter(ready.items()))
            del ready[name]
            self._live[key].discard(name)  # out of the pool for good: used once, then deleted
            self._refill(key, name)
            started = (pod.get("status") or {}).get("startTime")
            age = (datetime.now(UTC) - datetime.fromisoformat(started)).total_seconds() if started else 0.0
            if age + needed < POD_LIFETIME_SECONDS:
                self._streams[pool.namespace, name] = asyncio.ensure_future(self._open(pool.namespace, name))
                return name
            self.release(pool.namespace, name)  # too close to its deadline: replaced, never used
        return None

    def release(self, namespace: str, name: str) -> None:
        """A claimed pod has served (or failed) its one iteration: delete it, in the background."""
        opening = self._streams.pop((namespace, name), None)
        if opening is not None:
            self._spawn(_discard(opening))
        self._spawn(self._delete(namespace, name))

    async def _delete(self, namespace: str, name: str) -> None:
        await unless_missing(self._core.delete_namespaced_pod(name, namespace, grace_period_seconds=0))

    async def close(self) -> None:
        await self._ws_api.close()

    async def run(self, namespace: str, name: str, spec: AgentTaskSpec, code: str) -> PodOutcome:
        """Run one iteration in a claimed pod over its attach streams; the pod is deleted afterwards."""
        nonce = secrets.token_hex(16)
        timeout = run_timeout(spec) + STARTUP_GRACE_SECONDS
        monitoring = (
            SyscallMonitoring.UNAVAILABLE if self._config.syscall_monitor_url else SyscallMonitoring.OFF
        )
        opening = self._streams.pop((namespace, name), None) or asyncio.ensure_future(
            self._open(namespace, name)
        )
        streams: Streams | None = None
        try:
            async with asyncio.timeout(timeout):
                streams = await opening
                program, checks = streams
                await program.send_bytes(
                    bytes([STDIN_CHANNEL]) + program_job(nonce, code, policy_document(spec))
                )
                await _read_until(program, lambda text: done_line(nonce) in text.split("\n"))
                await checks.send_bytes(bytes([STDIN_CHANNEL]) + checks_job(spec))
                text = await _read_until(checks, _has_result)
            return PodOutcome(run=parse_pod_log(text), monitoring=monitoring)
        except (WarmRunError, RunResultError, TimeoutError, OSError, ClientError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            return PodOutcome(failure=f"the warm sandbox gave no result: {reason}", monitoring=monitoring)
        finally:
            await _close(streams)
            self.release(namespace, name)

    async def _open(self, namespace: str, name: str) -> Streams:
        """Both containers' attach streams, connected side by side (each is a websocket handshake through the
        API server and the kubelet). Opened as soon as the pod is claimed, so the handshakes overlap the
        operator's own steps between the claim and the run."""
        opened = await asyncio.gather(
            self._attach(namespace, name, PROGRAM_CONTAINER),
            self._attach(namespace, name, CHECKS_CONTAINER),
            return_exceptions=True,
        )
        failed = next((r for r in opened if isinstance(r, BaseException)), None)
        if failed is not None:
            await _close(r for r in opened if isinstance(r, ClientWebSocketResponse))
            raise failed
        program, checks = opened
        assert isinstance(program, ClientWebSocketResponse) and isinstance(checks, ClientWebSocketResponse)
        return program, checks

    async def _attach(self, namespace: str, name: str, container: str) -> ClientWebSocketResponse:
        # The client returns the connection's context manager; awaiting it makes the connection.
        connection: Any = await self._ws_core.connect_get_namespaced_pod_attach(
            name, namespace, container=container, stdin=True, stdout=True, stderr=False, tty=False,
            _preload_content=False,
        )  # fmt: skip
        ws: ClientWebSocketResponse = await connection
        return ws


Streams = tuple[ClientWebSocketResponse, ClientWebSocketResponse]


async def _close(streams: Iterable[ClientWebSocketResponse] | None) -> None:
    for ws in streams or ():
        with contextlib.suppress(Exception):
            await ws.close()


async def _discard(opening: asyncio.Future[Streams]) -> None:
    """Streams opened for a claim that never ran (the pod is being deleted): closed, errors ignored."""
    opening.cancel()
    with contextlib.suppress(BaseException):
        await _close(await opening)


def _has_result(text: str) -> bool:
    """The checks' stream holds the marker line and the complete document line after it."""
    at = text.rfind(f"\n{RESULT_MARKER}\n")
    return at >= 0 and text.endswith("\n") and len(text) > at + len(RESULT_MARKER) + 3


async def _read_until(ws: ClientWebSocketResponse, done: Any) -> str:
    """The container's stdout until done(text) holds; WarmRunError when the stream ends first."""
    text = ""
    async for message in ws:
        if message.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
            break
        data = message.data if isinstance(message.data, bytes) else message.data.encode()
        if len(data) > 1 and data[0] == STDOUT_CHANNEL:
            text += data[1:].decode("utf-8", errors="replace")
            if len(text) > MAX_RESULT_BYTES:
                raise WarmRunError("the sandbox wrote more than a result document")
            if done(text):
                return text
    with contextlib.suppress(Exception):
        await ws.close()
    raise WarmRunError("the sandbox's stream ended before its report (the runner was killed or the pod went)")
