"""Reading and writing AgentTask state in the API: the status subresource (merge patch), Events, the API key
Secret of a task's model, and the operator's emergency-stop ConfigMap."""

from __future__ import annotations

import base64
from typing import Any

import kopf
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from level5.api.crdgen import GROUP, PLURAL, VERSION
from level5.api.spec import SecretKeyRef
from level5.api.status import AgentTaskStatus
from level5.core.kill_switch import EMERGENCY_STOP_CONFIG_MAP, stop_requested
from level5.kube.errors import NOT_FOUND, unless_missing
from level5.sandbox.manifests import TaskRef


class KubeStatusSink:
    """StatusSink writing to the status subresource and posting Events on the task."""

    def __init__(self, api: client.ApiClient, task: TaskRef, body: Any) -> None:
        self._custom = client.CustomObjectsApi(api)
        self._task = task
        self._body = body

    async def save(self, status: AgentTaskStatus) -> None:
        # A JSON merge patch of the whole status: None fields become null and are removed, lists are
        # replaced, so the stored status equals the model.
        patch = {"status": status.model_dump(mode="json", by_alias=True)}
        try:
            await self._custom.patch_namespaced_custom_object_status(
                GROUP,
                VERSION,
                self._task.namespace,
                PLURAL,
                self._task.name,
                patch,
                _content_type="application/merge-patch+json",  # type: ignore[call-arg]  # missing in stubs
            )
        except ApiException as exc:
            if exc.status == NOT_FOUND:
                raise kopf.PermanentError("the AgentTask was deleted") from exc
            raise kopf.TemporaryError(f"status patch failed: {exc.status} {exc.reason}", delay=5) from exc

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
