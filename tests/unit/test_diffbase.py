"""The slim diff-base storage builds exactly kopf's essence of an AgentTask (so the stored annotation and
every comparison stay the same), without copying the status and managedFields first."""

from __future__ import annotations

import json
from typing import Any

import kopf
import pytest

from level5.api.crdgen import GROUP
from level5.kube.diffbase import SlimDiffBaseStorage

KEY = "last-handled-configuration"


def task_body() -> dict[str, Any]:
    """An AgentTask as the watch delivers it: managed fields, kopf's annotations, a status with history."""
    spec = {"goal": {"primary": "print ok"}, "autonomy": {"level": "A"}, "iterations": {"maxIterations": 2}}
    return {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "AgentTask",
        "metadata": {
            "name": "t",
            "namespace": "ns",
            "uid": "u-1",
            "resourceVersion": "42",
            "generation": 3,
            "labels": {"team": "a"},
            "annotations": {
                f"{GROUP}/{KEY}": json.dumps({"spec": spec}),
                f"{GROUP}/drive_task": "{}",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "level5.dev/created-by": "alice",
                "note": "kept",
            },
            "finalizers": [f"{GROUP}/finalizer"],
            "ownerReferences": [{"kind": "Deployment", "name": "x", "uid": "o", "apiVersion": "apps/v1"}],
            "managedFields": [
                {
                    "manager": "kopf",
                    "apiVersion": "v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {}},
                }
            ],
        },
        "spec": spec,
        "status": {
            "phase": "AwaitingApproval",
            "history": [{"iteration": i, "code": "x" * 50} for i in range(5)],
        },
    }


@pytest.mark.parametrize("extra", [None, ["status.phase"]])
def test_the_essence_is_kopfs_own(extra: list[str] | None) -> None:
    body = kopf.Body(task_body())
    ours = SlimDiffBaseStorage(prefix=GROUP, key=KEY).build(body=body, extra_fields=extra)
    kopfs = kopf.AnnotationsDiffBaseStorage(prefix=GROUP, key=KEY).build(body=body, extra_fields=extra)
    assert ours == kopfs
    assert "status" not in ours or extra


def test_the_essence_is_a_copy() -> None:
    raw = task_body()
    essence = SlimDiffBaseStorage(prefix=GROUP, key=KEY).build(body=kopf.Body(raw))
    raw["spec"]["goal"]["primary"] = "changed later"
    raw["metadata"]["labels"]["team"] = "b"
    assert essence["spec"]["goal"]["primary"] == "print ok"
    assert essence["metadata"]["labels"] == {"team": "a"}
