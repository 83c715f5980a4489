"""Reading and writing AgentTask state in the API: the status subresource (merge patch), Events, the API key
Secret of a task's model, and the operator's emergency-stop ConfigMap."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import kopf
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from level5.api.crdgen import GROUP, PLURAL, VERSION
from level5.api.spec import SecretKeyRef
from level5.api.status import AgentTaskStatus
from level5.core.kill_switch import EMERGENCY_STOP_CONFIG_MAP, stop_requested
from level5.kube.errors import CONFLICT, NOT_FOUND, unless_missing
from level5.sandbox.manifests import TaskRef

FENCED_RETRY_SECONDS = 10
"""How soon a daemon whose task another operator instance claimed looks again (by then kopf's peering has
paused one of the two)."""
CONFLICT_RETRIES = 5


class KubeStatusSink:
    """StatusSink writing to the status subresource and posting Events on the task, fenced: the daemon claims
    the task (status.driver = this operator instance) with a write conditional on the resourceVersion its
    status was read at, and every later write is conditional on the version the previous one produced. When
    another instance has written the status in between (a standby took over while this one was paused or cut
    off), the write fails with 409 Conflict, this instance sees another driver and stops driving the task:
    nothing it does from a stale status is recorded, and no step that needs a status write first (a pod
    launch) is taken. Conflicts with writes that are not another driver's (spec edits, kopf's own
    annotations) are retried with the new version."""

    def __init__(self, api: client.ApiClient, task: TaskRef, body: Any, driver: str) -> None:
        self._custom = client.CustomObjectsApi(api)
        self._task = task
        self._body = body
        self._driver = driver
        self._version: str | None = None
        self._claimed_from: dict[str, Any] | None = None  # the status read, while the claim is unwritten

    def claim(self, read_at: str, status_read: dict[str, Any]) -> None:
        """Take the task over from whichever instance drove it, unless its status changed since it was read
        (`status_read`, at resourceVersion `read_at`): then kopf restarts the daemon on the fresh object. The
        claim is the first status write itself (every status write carries `driver`), conditional on
        `read_at`; the Journal writes the status before the task's first audit record, so nothing is recorded
        before the claim holds, and a task's first step costs one status write, not two. A conflict with a
        change of metadata alone (kopf's own annotations and finalizer, written as a new task is first
        handled) leaves that status as read, and the write is repeated on the new version."""
        self._version, self._claimed_from = read_at, status_read

    def _unchanged(self, current: dict[str, Any]) -> None:
        if (current.get("status") or {}) != self._claimed_from:
            message = "the task's status changed while it was claimed; reading it again"
            raise kopf.TemporaryError(message, delay=1)

    async def save(self, status: AgentTaskStatus) -> None:
        # A JSON merge patch of the whole status: None fields become null and are removed, lists are
        # replaced, so the stored status equals the model.
        fields = status.model_copy(update={"driver": self._driver}).model_dump(mode="json", by_alias=True)
        claiming = self._claimed_from is not None
        await self._write(fields, self._version, self._unchanged if claiming else self._still_driving)
        self._claimed_from = None

    def _still_driving(self, current: dict[str, Any]) -> None:
        driver = (current.get("status") or {}).get("driver")
        if driver not in (None, self._driver):  # None: nobody claimed it (an older operator's task)
            raise kopf.TemporaryError(
                f"fenced: {driver} drives this task now; this instance ({self._driver}) stops driving "
                "it and writes nothing from its stale status",
                delay=FENCED_RETRY_SECONDS,
            )

    async def _write(
        self, fields: dict[str, Any], version: str | None, harmless: Callable[[dict[str, Any]], None]
    ) -> None:
        """Patch status fields conditionally on `version`; on a conflict read the task, let `harmless` raise
        when the conflicting write matters, and otherwise repeat the patch on the task's new version."""
        for _ in range(CONFLICT_RETRIES):
            try:
                self._version = await self._patch(fields, version)
                return
            except ApiException as exc:
                if exc.status != CONFLICT:
                    raise self._failed(exc) from exc
            try:
                current = await self._custom.get_namespaced_custom_object(
                    GROUP, VERSION, self._task.namespace, PLURAL, self._task.name
                )
            except ApiException as exc:
                raise self._failed(exc) from exc
            harmless(current)
            version = current["metadata"]["resourceVersion"]
        raise kopf.TemporaryError("status patch kept conflicting with other writes", delay=5)

    async def _patch(self, fields: dict[str, Any], version: str | None) -> str:
        """Merge-patch status fields, conditional on `version` when given; the new resourceVersion."""
        patch: dict[str, Any] = {"status": fields}
        if version is not None:
            patch["metadata"] = {"resourceVersion": version}
        result = await self._custom.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            self._task.namespace,
            PLURAL,
            self._task.name,
            patch,
            _content_type="application/merge-patch+json",  # type: ignore[call-arg]  # missing in stubs
        )
        return str(result["metadata"]["resourceVersion"])

    @staticmethod
    def _failed(exc: ApiException) -> kopf.TemporaryError | kopf.PermanentError:
        if exc.status == NOT_FOUND:
            return kopf.PermanentError("the AgentTask was deleted")
        return kopf.TemporaryError(f"status patch failed: {exc.status} {exc.reason}", delay=5)

    def event(self, reason: str, message: str, warning: bool = False) -> None:
        kopf.event(self._body, type="Warning" if warning else "Normal", reason=reason, message=message[:1024])


async def read_secret_key(api: client.ApiClient, namespace: str, ref: SecretKeyRef) -> str:
    """The value of one key of a Secret; a missing Secret is retried (it may be created later)."""
    try:
        secret = await client.CoreV1Api(api).read_namespaced_secret(ref.name, namespace)
    except ApiException as exc:
        raise kopf.TemporaryError(
            f"cannot read Secret {ref.name}: {exc.status} {exc.reason}", delay=30
        ) from exc
    value = (secret.data or {}).get(ref.key)
    if value is None:
        raise kopf.TemporaryError(f"Secret {ref.name} has no key {ref.key}", delay=30)
    return base64.b64decode(value).decode().strip()


async def read_emergency_stop(api: client.ApiClient, namespace: str) -> bool:
    """Whether the level5-emergency-stop ConfigMap in the operator's namespace asks for the stop. Any error
    but a missing ConfigMap propagates: an operator that cannot tell must not start running code."""
    found = await unless_missing(
        client.CoreV1Api(api).read_namespaced_config_map(EMERGENCY_STOP_CONFIG_MAP, namespace)
    )
    return found is not None and stop_requested(found.data)
