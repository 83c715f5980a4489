"""The cold iteration run the warm way: a streamed pod (level5.sandbox.manifests.streamed_pod) created for one
iteration, its two containers started at once, each handed its one job over an attach stream as a pool pod is
(level5.kube.pool), the result read back on the checks' stream.

Each container is attached to as soon as the kubelet accepts it: an attach refused while the pod's status
does not yet say the container runs (sandbox.outcome.may_start_soon) is tried again shortly, since the
kubelet accepts one once the runtime runs the container, a status update (up to its one-second relist)
before the status says so. Waiting for that status cost about a second of every cold iteration.

The protocol is the pool's: the program's job with the pod's nonce; the runner's DONE line with that nonce
(the program ended and every process of it reaped, its report written); only then the checks' job, and the
result document on the checks' stream. Unlike a pool pod it survives an operator restart: the nonce is kept on
the pod, and what the containers printed stays in their logs, so a resumed run reads where the last one got
to and never runs anything twice:
- the checks container has ended: its log holds the result (the checks ran, or got no job and failed);
- the program's container still runs: its stream is attached and its job sent. Each container has
  `stdinOnce`, so a stdin an earlier operator attached is closed for good: the job goes nowhere, and the
  runner either runs the job it got before (its DONE line carries the same nonce) or ends without one;
- the DONE line is looked for on the stream, then in the program container's log (it may have been printed
  before this attach); without it the run fails and no check runs;
- the checks' stream is attached only after the DONE line (so a restart before it leaves their stdin unused)
  and their job sent; a result the checks printed before this attach is read from their log.

An operator stopped after attaching to a container and before its job got through leaves that stdin closed
with no job. Each container carries its job in its environment as well (level5.sandbox.pool.fallback_jobs)
and runs that instead, so the iteration is not lost: the program's runner has no nonce then and prints no DONE
line, so the program's run is over when the kubelet reports its container ended with the runner's exit code 0
(sandbox.outcome.runner_finished); checks running the job they carry print their result to their log once
they end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import ClientError, ClientWebSocketResponse
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from level5.api.spec import AgentTaskSpec
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_CONTAINER
from level5.kube.pool import Stream, WarmRunError, attach, has_result
from level5.safety.runtime_policy import policy_document
from level5.sandbox.manifests import NONCE_ANNOTATION
from level5.sandbox.outcome import Pod, container_state, may_start_soon, runner_finished
from level5.sandbox.pool import checks_job, done_line, program_job
from level5.sandbox.result import MAX_RESULT_BYTES, RunResult, parse_pod_log

ATTACH_ERRORS = (ClientError, ApiException, OSError)
"""An attach refused (the container has ended) or broken: what it would have shown is read from the log."""


LOG_TAIL_LINES = 3
"""Both the DONE line and the result document (its marker line and the document's line) end their log."""
ATTACH_RETRY_SECONDS = (0.05, 0.1, 0.2)
"""Pauses between attaches refused before a container runs (the last one repeats): a container of a fresh pod
runs about half a second after the pod is bound, so a few tries, each one API request."""


class StreamedRun:
    """Runs one iteration in its streamed cold pod over the pod's attach streams."""

    def __init__(self, core: client.CoreV1Api, ws_core: client.CoreV1Api) -> None:
        self._core = core
        self._ws_core = ws_core

    async def run(
        self,
        pod: Pod,
        spec: AgentTaskSpec,
        code: str,
        latest: Callable[[], Pod | None],
        ended: Callable[[str], Awaitable[Pod | None]],
    ) -> RunResult:
        """The checks' result of this pod's one run (the pod is bound to a node; `latest` gives its state as
        last watched, None once deleted; `ended(container)` waits for the pod watch to report that container's
        end and gives the pod's state then); WarmRunError (or RunResultError) when there is none. The caller
        bounds the time and ends the pod on failure."""
        metadata = pod["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        nonce = str((metadata.get("annotations") or {}).get(NONCE_ANNOTATION, ""))
        if not nonce:
            raise WarmRunError("the streamed pod carries no nonce")
        done = done_line(nonce)
        if container_state(pod, CHECKS_CONTAINER, "terminated") is not None:
            return parse_pod_log(await self._log(namespace, name, CHECKS_CONTAINER))
        text = ""
        if container_state(pod, PROGRAM_CONTAINER, "terminated") is None:
            job = program_job(nonce, code, policy_document(spec))
            text = await self._exchange(
                namespace, name, PROGRAM_CONTAINER, job, lambda t: done in t.split("\n"), latest
            )
        if done not in text.split("\n"):
            text = await self._log(namespace, name, PROGRAM_CONTAINER)
        if done not in text.split("\n") and not runner_finished(await ended(PROGRAM_CONTAINER)):
            raise WarmRunError(
                "the program's runner ended without its report (the program killed or stopped it, or it "
                "never got its job); nothing was checked"
            )
        text = await self._exchange(namespace, name, CHECKS_CONTAINER, checks_job(spec), has_result, latest)
        if not has_result(text):
            text = await self._log(namespace, name, CHECKS_CONTAINER)
        if not has_result(text):  # they may be running the job they carry: their stdin closed without it
            await ended(CHECKS_CONTAINER)
            text = await self._log(namespace, name, CHECKS_CONTAINER)
        return parse_pod_log(text)

    async def _exchange(
        self,
        namespace: str,
        name: str,
        container: str,
        job: bytes,
        done: Callable[[str], bool],
        latest: Callable[[], Pod | None],
    ) -> str:
        """Attach to the container, send its job, and return what it wrote until `done(text)` or its end; ""
        when it could not be attached (it has ended)."""
        ws = await self._attach(namespace, name, container, latest)
        if ws is None:
            return ""
        stream = Stream(ws, lambda: None)
        try:
            with contextlib.suppress(*ATTACH_ERRORS):
                await stream.send(job)
            with contextlib.suppress(WarmRunError):
                await stream.until(done)
            return stream.text
        finally:
            await stream.close()

    async def _attach(
        self, namespace: str, name: str, container: str, latest: Callable[[], Pod | None]
    ) -> ClientWebSocketResponse | None:
        """The container's attach stream as soon as the kubelet accepts it; None when it is refused and the
        container cannot be about to start (it runs or ended: what it wrote is in its log)."""
        pauses = iter(ATTACH_RETRY_SECONDS)
        pause = 0.0
        while True:
            try:
                return await attach(self._ws_core, namespace, name, container)
            except ATTACH_ERRORS:
                if not may_start_soon(latest(), container):
                    return None
            pause = next(pauses, pause)
            await asyncio.sleep(pause)

    async def _log(self, namespace: str, name: str, container: str) -> str:
        with contextlib.suppress(ApiException):
            return str(
                await self._core.read_namespaced_pod_log(
                    name,
                    namespace,
                    container=container,
                    tail_lines=LOG_TAIL_LINES,
                    limit_bytes=MAX_RESULT_BYTES,
                )
            )
        return ""
