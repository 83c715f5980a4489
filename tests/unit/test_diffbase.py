"""The lean diff base gives kopf the same essence as kopf's own storage, from bodies with status and
managedFields, kopf's own annotations, owner references and extra fields."""

from __future__ import annotations

import copy
from typing import Any

import kopf
import pytest

from level5.kube.diffbase import LeanDiffBaseStorage, essential_part

PREFIX = "level5.dev"
KEY = "last-handled-configuration"


def pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "level5-pool-small-0-1",
            "namespace": "team-a",
            "uid": "u-1",
            "resourceVersion": "42",
            "labels": {"level5.dev/sandbox": "true", "level5.dev/pool": "small"},
            "annotations": {
                "level5.dev/last-handled-configuration": '{"spec": {}}\n',
                "level5.dev/drive_task": '{"started": "x"}',
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "team": "a",
            },
            "ownerReferences": [{"kind": "ConfigMap", "name": "level5-pool-small", "uid": "o-1"}],
            "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {"f:phase": {}}}}],
            "finalizers": ["level5.dev/finalizer"],
        },
        "spec": {"containers": [{"name": "program", "image": "x", "stdin": True}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def task() -> dict[str, Any]:
    return {
        "apiVersion": "level5.dev/v1alpha1",
        "kind": "AgentTask",
        "metadata": {"name": "t", "namespace": "team-a", "generation": 3},
        "spec": {"goal": {"primary": "print ok"}, "cancel": False},
        "status": {"phase": "Executing", "history": [{"iteration": 1}], "driver": "me"},
    }


def replica_set() -> dict[str, Any]:
    """kopf keys its annotations differently for a ReplicaSet owned by a Deployment (it reads the owners)."""
    body = pod()
    body["kind"] = "ReplicaSet"
    body["metadata"]["ownerReferences"] = [{"kind": "Deployment", "name": "d", "uid": "d-1"}]
    body["metadata"]["annotations"]["level5.dev/last-handled-configuration-ofDRS"] = "{}"
    return body


@pytest.mark.parametrize("make", [pod, task, replica_set])
@pytest.mark.parametrize("extra", [[], ["status.phase"], ["metadata.name"]])
def test_lean_essence_equals_kopfs(make: Any, extra: list[str]) -> None:
    body = make()
    untouched = copy.deepcopy(body)
    kopfs = kopf.AnnotationsDiffBaseStorage(prefix=PREFIX, key=KEY).build(
        body=kopf.Body(copy.deepcopy(body)), extra_fields=extra
    )
    lean = LeanDiffBaseStorage(prefix=PREFIX, key=KEY).build(body=kopf.Body(body), extra_fields=extra)
    assert lean == kopfs
    assert body == untouched  # the essence is a copy: the body is left as it was
    assert "status" not in lean or extra == ["status.phase"]


def test_essential_part_leaves_status_and_bulky_metadata_out() -> None:
    part = essential_part(pod())
    assert "status" not in part
    assert set(part["metadata"]) == {"labels", "annotations", "ownerReferences"}
    assert part["spec"] == pod()["spec"] and part["kind"] == "Pod"
    assert essential_part({"spec": {}}) == {"spec": {}, "metadata": {}}


def test_the_essence_does_not_follow_later_changes_of_the_body() -> None:
    body = task()
    essence = LeanDiffBaseStorage(prefix=PREFIX, key=KEY).build(body=kopf.Body(body))
    body["spec"]["goal"]["primary"] = "changed later"
    assert essence["spec"]["goal"]["primary"] == "print ok"
