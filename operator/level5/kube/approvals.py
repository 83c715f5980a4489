"""Approvals in the API: create one idempotently (owned by its task, labelled for batch review), read it,
and record what the operator did with it (status subresource plus the state label)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from level5.api.approval import (
    APPROVAL_LABEL_STATE,
    APPROVAL_LABEL_TASK,
    APPROVAL_LABEL_TASK_UID,
    ApprovalObject,
    ApprovalSpec,
    ApprovalState,
    ApprovalStatus,
    task_label,
)
from level5.api.crdgen import APPROVAL_KIND, APPROVAL_PLURAL, GROUP, VERSION
from level5.kube.errors import NOT_FOUND, created, unless_missing
from level5.sandbox.manifests import TaskRef, owner_reference


def approval_manifest(task: TaskRef, name: str, spec: ApprovalSpec) -> dict[str, Any]:
    """The Approval object the operator creates (no decision: the webhook refuses one at creation)."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": APPROVAL_KIND,
        "metadata": {
            "name": name,
            "namespace": task.namespace,
            "labels": {
                APPROVAL_LABEL_TASK: task_label(task.name),
                APPROVAL_LABEL_TASK_UID: task.uid,
                APPROVAL_LABEL_STATE: ApprovalState.PENDING.value.lower(),
            },
            "ownerReferences": [owner_reference(task)],
        },
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


class KubeApprovals:
    """The Approvals of tasks, through the custom objects API."""

    def __init__(self, api: client.ApiClient) -> None:
        self._custom = client.CustomObjectsApi(api)

    async def ensure(
        self, task: TaskRef, name: str, spec: ApprovalSpec, state: ApprovalState, now: datetime
    ) -> ApprovalObject:
        """The Approval `name`, created with `spec` and `state` unless it exists already."""
        manifest = approval_manifest(task, name, spec)
        if await created(
            self._custom.create_namespaced_custom_object(
                GROUP, VERSION, task.namespace, APPROVAL_PLURAL, manifest
            )
        ):
            await self.set_state(task.namespace, name, state, "waiting for a decision", None)
        found = await self.read(task.namespace, name)
        if found is None:  # deleted right after creation: make it again on the next pass
            raise ApiException(status=NOT_FOUND, reason=f"Approval {name} vanished")
        return found

    async def read(self, namespace: str, name: str) -> ApprovalObject | None:
        raw = await unless_missing(
            self._custom.get_namespaced_custom_object(GROUP, VERSION, namespace, APPROVAL_PLURAL, name)
        )
        return None if raw is None else ApprovalObject.from_object(raw)

    async def set_state(
        self, namespace: str, name: str, state: ApprovalState, message: str, applied_at: datetime | None
    ) -> None:
        """Record the state in status and in the state label (for `kubectl get approvals -l`)."""
        status = ApprovalStatus(state=state, message=message[:4096], applied_at=applied_at)
        await self._custom.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            APPROVAL_PLURAL,
            name,
            {"status": status.model_dump(mode="json", by_alias=True)},
            _content_type="application/merge-patch+json",  # type: ignore[call-arg]  # missing in stubs
        )
        await self._custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            APPROVAL_PLURAL,
            name,
            {"metadata": {"labels": {APPROVAL_LABEL_STATE: state.value.lower()}}},
            _content_type="application/merge-patch+json",  # type: ignore[call-arg]  # missing in stubs
        )
