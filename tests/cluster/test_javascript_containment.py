"""The JavaScript escape corpus (tests/corpora/javascript/escapes, both halves) run in a real gVisor sandbox
pod of the JavaScript image, built by level5.sandbox.manifests as the operator builds it, whatever the review
says about each payload: Node's permission model and node_preload.js stop what they cover (reported with
the runtime rule ids), and the pod contains the rest. The program container runs js_escape_driver.py, which
starts every payload the way the runner does (node_launch.py) and then probes the network."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from js_corpus import payloads
from kube import apply, kubectl, unique_name, wait_pod_done
from level5.api.spec import AgentTaskSpec
from level5.core.config import OperatorConfig
from level5.core.layout import PROGRAM_CONTAINER
from level5.safety.runtime_policy import policy_document
from level5.sandbox.manifests import (
    TaskRef,
    code_config_map,
    deny_all_network_policy,
    sandbox_limit_range,
    sandbox_pod,
    sandbox_pod_name,
    sandbox_resource_quota,
)

pytestmark = pytest.mark.cluster
HERE = Path(__file__).resolve().parent
SPEC = AgentTaskSpec.model_validate(
    {
        "goal": {"primary": "Run the escape corpus.", "successCriteria": [{"name": "ran", "exitCode": 0}]},
        "capabilities": {"language": "javascript", "allowedLibraries": ["lodash", "moment"],
                         "timeoutSeconds": 600, "cpu": "500m", "memory": "384Mi"},
    }
)  # fmt: skip
# Families whose every payload attempts an action the runtime policy or the pod must refuse: none may end
# cleanly.
REFUSED_FAMILIES = {"module_loading", "code_from_strings", "native_and_processes", "network_and_files"}
ESCAPE_EVIDENCE = ("uid=", "root:x:", "eyJhbGciOi", "meta-data")


def run_corpus(namespace: str) -> dict[str, Any]:
    corpus = [p for half in ("tuning", "heldout") for p in payloads("escapes", half)]
    task = TaskRef(name="js-escapes", namespace=namespace, uid=unique_name("uid"))
    name = sandbox_pod_name(task, 1)
    config_map = code_config_map(task, SPEC, name, 1, "// driver run instead\n", policy_document(SPEC))
    config_map["data"]["driver.py"] = (HERE / "js_escape_driver.py").read_text()
    config_map["data"]["payloads.json"] = json.dumps(corpus)
    pod = sandbox_pod(task, SPEC, name, 1, OperatorConfig.from_env())
    program = pod["spec"]["initContainers"][0]
    program["command"] = ["python3", "-I", "/code/driver.py"]
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "program-code")
    volume["configMap"]["items"] += [{"key": key, "path": key} for key in ("driver.py", "payloads.json")]
    for obj in (config_map, pod):
        del obj["metadata"]["ownerReferences"]  # no AgentTask owns them here
    apply([config_map, pod], namespace)
    wait_pod_done(namespace, name, timeout=900)
    log = kubectl("logs", "-n", namespace, name, "-c", PROGRAM_CONTAINER).rstrip("\n").splitlines()
    document: dict[str, Any] = json.loads(log[-1])
    assert len(document["results"]) == len(corpus)
    return document


def test_javascript_escapes_are_contained_in_a_sandbox_pod(cluster: None) -> None:
    assert "sandbox-js" in OperatorConfig.from_env().sandbox_image_javascript or os.environ.get(
        "LEVEL5_SANDBOX_IMAGE_JAVASCRIPT"
    )
    namespace = unique_name("js-escapes")
    kubectl("create", "namespace", namespace)
    try:
        guards = [deny_all_network_policy, sandbox_resource_quota, sandbox_limit_range]
        apply([guard(namespace) for guard in guards], namespace)
        document = run_corpus(namespace)
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")
    results = document["results"]
    assert not document["apiAnswers"], "the API server answered a sandbox pod"
    for result in results:
        seen = result["stdout"] + result["stderr"]
        assert not any(mark in seen for mark in ESCAPE_EVIDENCE), result
        # A timeout is containment too: fetch() is in neither the review nor Node 20's permission model, and
        # its packets are dropped by the deny-all policy until the time limit.
        if result["family"] in REFUSED_FAMILIES:
            assert result["exit"] != 0, result
    stopped = [r for r in results if r["rule"]]
    # Most refusals are the runtime policy's own, reported with its rule ids like Python's.
    assert {r["rule"] for r in stopped} >= {"L5-RT-IMPORT", "L5-RT-EXEC", "L5-RT-READ", "L5-RT-SIGNAL"}
    assert all(r["exit"] == 86 for r in stopped)
    assert next(r for r in results if r["title"] == "process.binding")["rule"] == "L5-RT-NATIVE"
    summary = {f"{r['family']}/{r['title']}": r["rule"] or r["exit"] for r in results}
    print(json.dumps(summary, indent=1))
