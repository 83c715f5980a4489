"""The warm pool as data: the pool pod's lockdown against the cold pod's, which tasks a pool serves, the names
and the jobs, and the constants the operator shares with sandbox-image/warm.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from level5.api.spec import AgentTaskSpec
from level5.core.config import OperatorConfig, PoolClass
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_CONTAINER, PROGRAM_UID, SANDBOX_UID
from level5.sandbox.manifests import JOB_ENV, PROBE_IN_GATE, TaskRef, sandbox_pod
from level5.sandbox.pool import (
    DONE_PREFIX,
    POD_LIFETIME_SECONDS,
    READY_FILE,
    ColdStartReason,
    checks_job,
    match_pool,
    parse_pool_pod_name,
    pod_is_ready,
    pool_class,
    pool_pod,
    pool_pod_name,
    program_job,
)
from level5.sandbox.syscall_summary import RUN_KEY_FLAG

WARM = Path(__file__).resolve().parents[2] / "sandbox-image" / "warm.py"
CONFIG = OperatorConfig(sandbox_image="img:1")
POOL = PoolClass(name="small", namespace="team", size=2)


def spec(**capabilities: Any) -> AgentTaskSpec:
    return AgentTaskSpec.model_validate(
        {
            "goal": {
                "primary": "x",
                "successCriteria": [{"name": "ok", "outputContains": "ok"}, {"name": "t", "testScript": "1"}],
            },
            "capabilities": capabilities,
        }
    )


def test_the_pool_pod_has_the_cold_pods_lockdown() -> None:
    warm = pool_pod(POOL, 1, 7, "owner-uid", CONFIG)
    cold = sandbox_pod(TaskRef(name="t", namespace="team", uid="u"), spec(), "t-1-abc", 1, CONFIG)
    pod_level = {k: v for k, v in warm["spec"].items() if k not in ("containers", "volumes")}
    cold_level = {
        k: v for k, v in cold["spec"].items() if k not in ("initContainers", "containers", "volumes")
    }
    assert pod_level == {**cold_level, "activeDeadlineSeconds": POD_LIFETIME_SECONDS}
    assert (
        warm["spec"]["automountServiceAccountToken"] is False and warm["spec"]["runtimeClassName"] == "gvisor"
    )
    assert warm["metadata"]["labels"]["level5.dev/sandbox"] == "true"  # the deny-all policy selects it
    program, checks = warm["spec"]["containers"]
    cold_program, cold_checks = cold["spec"]["initContainers"][0], cold["spec"]["containers"][0]
    assert (program["name"], checks["name"]) == (PROGRAM_CONTAINER, CHECKS_CONTAINER)
    assert program["securityContext"] == cold_program["securityContext"]
    assert checks["securityContext"] == cold_checks["securityContext"]
    assert (
        program["securityContext"]["runAsUser"]
        == PROGRAM_UID
        != SANDBOX_UID
        == checks["securityContext"]["runAsUser"]
    )
    assert all(c["stdin"] and c["stdinOnce"] for c in (program, checks))
    assert program["startupProbe"]["exec"]["command"] == ["test", "-e", READY_FILE]
    # The checks see the outputs and the report read-only, and the program never sees /checks.
    mounts = {m["mountPath"]: m for m in checks["volumeMounts"]}
    assert mounts["/output"]["readOnly"] and mounts["/report"]["readOnly"]
    assert "/checks" not in {m["mountPath"] for m in program["volumeMounts"]}
    shared = {m["name"] for m in program["volumeMounts"]} & {m["name"] for m in checks["volumeMounts"]}
    assert shared == {"output", "report"}
    assert warm["metadata"]["ownerReferences"][0] | {"uid": "x"} == {
        "apiVersion": "v1", "kind": "ConfigMap", "name": "level5-pool-small", "uid": "x",
        "controller": True, "blockOwnerDeletion": True,
    }  # fmt: skip


def test_which_tasks_a_pool_serves() -> None:
    assert match_pool([POOL], "team", spec(), CONFIG) == POOL
    assert match_pool([POOL], "other", spec(), CONFIG) is None  # no pool there: cold, nothing to say
    for different in (
        spec(cpu="250m"),
        spec(memory="512Mi"),
        spec(ephemeralStorage="128Mi"),
        spec(files={"referenceData": "sales"}),
        spec(timeoutSeconds=3600),
    ):
        assert match_pool([POOL], "team", different, CONFIG) is ColdStartReason.NO_MATCHING_CLASS
    other_image = POOL.model_copy(update={"image": "img:2"})
    assert match_pool([other_image], "team", spec(), CONFIG) is ColdStartReason.NO_MATCHING_CLASS


def test_classes_are_compared_as_quantities_not_as_written() -> None:
    assert (
        match_pool([POOL], "team", spec(cpu="0.5", memory="268435456", ephemeralStorage="64Mi"), CONFIG)
        == POOL
    )
    one_core = POOL.model_copy(update={"cpu": "1", "memory": "1Gi"})
    assert match_pool([one_core], "team", spec(cpu="1000m", memory="1024Mi"), CONFIG) == one_core
    tenths = POOL.model_copy(update={"cpu": "0.3"})
    assert match_pool([tenths], "team", spec(cpu="300m"), CONFIG) == tenths
    assert pool_class(POOL) == (0.5, 268435456.0, 67108864.0)
    for near in (spec(cpu="0.499"), spec(memory="256M"), spec(cpu="501m")):  # 256M is 256e6 bytes, not 256Mi
        assert match_pool([POOL], "team", near, CONFIG) is ColdStartReason.NO_MATCHING_CLASS


def test_a_pool_quantity_that_does_not_parse_names_the_pool_and_the_fix() -> None:
    broken = POOL.model_copy(update={"memory": "256 MiB"})
    with pytest.raises(ValueError, match=r"pool 'small'.*'256 MiB'.*Kubernetes quantities"):
        pool_class(broken)


def test_names_are_deterministic_per_slot() -> None:
    name = pool_pod_name(POOL, 3, 41)
    assert name == "level5-pool-small-3-41" and parse_pool_pod_name(POOL, name) == (3, 41)
    assert parse_pool_pod_name(POOL, "level5-pool-smaller-3-41") is None
    assert parse_pool_pod_name(POOL, "t-1-abc") is None


def test_jobs_are_one_line_each_and_the_program_never_gets_the_checks() -> None:
    program = program_job("n0nce", "print('ok')\n", '{"timeoutSeconds": 5}')
    checks = checks_job(spec())
    assert program.count(b"\n") == 1 == checks.count(b"\n")
    assert json.loads(program) == {
        "nonce": "n0nce",
        "code": "print('ok')\n",
        "policy": '{"timeoutSeconds": 5}',
    }
    assert "test_1.py" in json.loads(checks)["scripts"] and b"test_1" not in program


def test_readiness_needs_running_ready_and_not_ending() -> None:
    ready: dict[str, Any] = {
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    }
    assert pod_is_ready(ready)
    assert not pod_is_ready({**ready, "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}})
    assert not pod_is_ready(
        {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}}
    )


def test_constants_shared_with_the_warm_runner() -> None:
    text = WARM.read_text()
    assert f'DONE_PREFIX = "{DONE_PREFIX}"' in text
    assert f'JOB_ENV = "{JOB_ENV}"' in text  # a streamed cold pod's containers carry their job in it
    assert f'"{PROBE_IN_GATE}", action="store_true"' in text  # the streamed cold pod's program flag
    assert f'parser.add_argument("{RUN_KEY_FLAG}",' in text  # and the run key it is started with
    assert READY_FILE == "/tmp/level5/isolated" and 'READY_FILE = runner.WORK_DIR / "isolated"' in text


def test_pools_from_the_environment() -> None:
    pools = '[{"name": "small", "namespace": "team", "size": 3, "ephemeralStorage": "32Mi"}]'
    config = OperatorConfig.from_env({"LEVEL5_SANDBOX_POOLS": pools})
    assert config.sandbox_pools == [
        PoolClass(name="small", namespace="team", size=3, ephemeralStorage="32Mi")
    ]
    with pytest.raises(ValueError, match="LEVEL5_SANDBOX_POOLS"):
        OperatorConfig.from_env({"LEVEL5_SANDBOX_POOLS": "[{"})
    with pytest.raises(ValueError, match="name"):
        OperatorConfig.from_env({"LEVEL5_SANDBOX_POOLS": '[{"name": "Bad_Name", "namespace": "team"}]'})
