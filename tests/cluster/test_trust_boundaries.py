"""Trust boundaries that hold when the review is wrong, on the real cluster, in pods built by the operator's
own manifest code (level5.sandbox.manifests) with the real runner.

1. Evaluation nobody inside the sandbox can forge: every program of the forgery corpus
   (tests/corpora/forgery/) runs as if the review had allowed it and with the runtime policy bypassed (the
   program container's runner is given a bootstrap that runs the program without it), against a failing
   testScript criterion. No attempt may change the verdict or the reported outcome, and the checks must
   see nothing of the program: another uid, no process of it, no file of it in /dev/shm or /tmp, an
   isolated interpreter.
2. The runtime policy in the real image: each denied action, reached directly, through pandas or numpy and
   through reflection, stops the program with its rule; the benign corpus runs without a violation.
3. System calls observed from outside: a program that starts a process and connects somewhere is named by
   the operator's reading of the collector's summary, and that fires the Anomaly trigger.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient

from kube import apply, kubectl, unique_name, wait_pod_done
from level5.api.spec import AgentTaskSpec
from level5.api.status import HistoryEntry, SyscallMonitoring
from level5.api.verdicts import Verdict
from level5.core.config import OperatorConfig
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_UID, SANDBOX_UID
from level5.core.wakeups import Wakeups
from level5.kube.sandboxes import SandboxLauncher
from level5.observability.monitoring import AnomalyKind, detect_anomalies, syscall_record
from level5.observability.syscalls import SyscallMonitorClient
from level5.safety.review.reviewer import review_code
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
from level5.sandbox.outcome import PodOutcome, pod_failure
from level5.sandbox.result import RunResult, parse_pod_log

pytestmark = pytest.mark.cluster

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
FORGERY = CORPORA / "forgery"
ATTEMPTS = sorted(
    p.name.removesuffix(".py.txt") for p in FORGERY.glob("*.py.txt") if p.name != "check_answer.py.txt"
)
Runs = dict[str, tuple[dict[str, Any], RunResult | None]]
KILLERS = {"kill_the_runner"}
"""Attempts that end their own runner: the checks never run, and the run is a failure that says so."""
UNPOLICED = "import runpy, sys\nsys.argv = [sys.argv[-1]]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"
CONFIG = OperatorConfig.from_env()
MONITOR_PORT = os.environ.get("LEVEL5_SYSCALL_MONITOR_PORT", "18090")


def spec(test_script: str | None = None, libraries: tuple[str, ...] = (), timeout: int = 30) -> AgentTaskSpec:
    criteria: list[dict[str, Any]] = [{"name": "exit", "exitCode": 0}]
    if test_script is not None:
        criteria.append({"name": "answer", "testScript": test_script})
    return AgentTaskSpec.model_validate(
        {
            "goal": {"primary": "Trust boundary test.", "successCriteria": criteria},
            "capabilities": {
                "timeoutSeconds": timeout,
                "cpu": "150m",
                "memory": "256Mi",
                "allowedLibraries": list(libraries),
            },
        }
    )


def build(
    namespace: str, name: str, task_spec: AgentTaskSpec, code: str, extra: dict[str, str], unpoliced: bool
) -> list[dict[str, Any]]:
    """The code ConfigMap and pod exactly as the operator builds them; `extra` files are added to the
    program's /code, and `unpoliced` hands the runner a bootstrap without the runtime policy."""
    task = TaskRef(name=name, namespace=namespace, uid=unique_name("uid"))
    pod_name = sandbox_pod_name(task, 1)
    config_map = code_config_map(task, task_spec, pod_name, 1, code, policy_document(task_spec))
    pod = sandbox_pod(task, task_spec, pod_name, 1, CONFIG)
    files = dict(extra)
    if unpoliced:
        files["unpoliced.py"] = UNPOLICED
        pod["spec"]["initContainers"][0]["command"] += ["--policy-runner", "/code/unpoliced.py"]
    config_map["data"].update(files)
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "program-code")
    volume["configMap"]["items"] += [{"key": key, "path": key} for key in files]
    for obj in (config_map, pod):
        del obj["metadata"]["ownerReferences"]  # no AgentTask here; an absent owner would collect them
    return [config_map, pod]


def finished(namespace: str, pod_name: str) -> tuple[dict[str, Any], RunResult | None]:
    """The finished pod and the result document read as the operator reads it (the checks' log only); None
    when the checks never ran."""
    pod = wait_pod_done(namespace, pod_name, timeout=240)
    checks = next(c for c in pod["status"]["containerStatuses"] if c["name"] == CHECKS_CONTAINER)
    if "terminated" not in checks["state"]:
        return pod, None
    return pod, parse_pod_log(kubectl("logs", "-n", namespace, pod_name, "-c", CHECKS_CONTAINER))


@pytest.fixture(scope="module")
def namespace(cluster: None) -> Iterator[str]:
    yield from guarded_namespace("trust")


def guarded_namespace(prefix: str) -> Iterator[str]:
    """A fresh namespace with the sandbox guards, deleted afterwards."""
    name = unique_name(prefix)
    kubectl("create", "namespace", name)
    guards = [deny_all_network_policy, sandbox_resource_quota, sandbox_limit_range]
    apply([guard(name) for guard in guards], name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def forgeries(namespace: str) -> Runs:
    check = (FORGERY / "check_answer.py.txt").read_text()
    programs = {attempt: (FORGERY / f"{attempt}.py.txt").read_text() for attempt in ATTEMPTS}
    # The positive control: the same check passes when the program really writes the answer.
    programs["honest"] = "open('/output/answer.txt', 'w').write('42')\nprint('done')\n"
    runs = {
        attempt: build(namespace, f"forge-{attempt.replace('_', '-')}", spec(check), code, {}, unpoliced=True)
        for attempt, code in programs.items()
    }
    apply([obj for objs in runs.values() for obj in objs], namespace)
    return {attempt: finished(namespace, objs[1]["metadata"]["name"]) for attempt, objs in runs.items()}


def test_the_check_can_pass(forgeries: Runs) -> None:
    pod, result = forgeries["honest"]
    assert pod["status"]["phase"] == "Succeeded" and pod_failure(pod) is None
    assert result is not None and [c.passed for c in result.checks] == [True, True], result


@pytest.mark.parametrize("attempt", sorted(set(ATTEMPTS) - KILLERS))
def test_no_forgery_changes_the_verdict(forgeries: Runs, attempt: str) -> None:
    pod, result = forgeries[attempt]
    assert pod["status"]["phase"] == "Succeeded", pod_failure(pod)
    assert result is not None
    assert_true_outcome(result)


def assert_true_outcome(result: RunResult) -> None:
    """The true outcome of a forgery attempt (also on the warm path): the program exited 0 and its answer is
    not 42, so exactly the testScript fails; and the checks saw nothing of the program."""
    assert result.error is None and result.exit_code == 0 and not result.timed_out, result.error
    assert [c.name for c in result.checks] == ["exit", "answer"]
    assert result.checks[0].passed and not result.checks[1].passed, result.checks[1].reason
    assert "answer '41'" in result.checks[1].reason or "answer ''" in result.checks[1].reason
    # What the checks saw: their own uid, isolated, no process and no file of the program.
    seen = json.loads(result.checks[1].reason.split("SEEN ", 1)[1].splitlines()[0])
    assert seen["uid"] == SANDBOX_UID != PROGRAM_UID and seen["isolated"] == 1
    assert len(seen["pids"]) <= 3, seen["pids"]  # the checks' runner, the test script, nothing of the program
    assert not any("forged" in name for name in seen["shm"] + seen["tmp"]), seen
    assert not any(p.startswith("/output") for p in seen["path"]), seen["path"]


@pytest.mark.parametrize("attempt", sorted(KILLERS))
def test_killing_the_runner_fails_the_run_unchecked(forgeries: Runs, attempt: str) -> None:
    """The program shares its runner's uid, so it can kill it; then the checks never run: its forged answer
    is never looked at, and the operator reports why."""
    pod, result = forgeries[attempt]
    assert pod["status"]["phase"] == "Failed" and result is None
    failure = pod_failure(pod)
    assert failure is not None and failure.startswith("RunnerKilled"), failure


def test_the_program_could_act_while_it_ran(forgeries: Runs) -> None:
    """The attempts really ran unpoliced; what the runner's own protections refused."""
    _, result = forgeries["signals_and_ptrace"]
    assert result is not None
    tried = json.loads(result.stdout.strip().splitlines()[-1])
    assert tried["kill-SIGTERM"] == "sent" and tried["kill-SIGINT"] == "sent"  # sent, ignored by the runner
    assert tried["ptrace-attach"] == -1 and tried["ptrace-errno"] == 1, tried  # EPERM
    assert tried["/proc/1/mem"].startswith("error"), tried
    _, spawned = forgeries["resource_exhaustion"]
    assert spawned is not None and spawned.stdout == "spawned\n"


# -- 2. the runtime policy in the real image ---------------------------------------------------------------

ROUTES: dict[str, dict[str, str]] = {
    "L5-RT-READ": {
        "pandas": "import pandas as pd\npd.read_csv('/etc/passwd', sep=':', header=None)",
        "numpy": "import numpy as np\nnp.loadtxt('/etc/hostname', dtype=str)",
        "reflection": "getattr(__builtins__, 'op' + 'en')('/etc/passwd').read()",
    },
    "L5-RT-WRITE": {
        "pandas": "import pandas as pd\npd.DataFrame({'a': [1]}).to_csv('/tmp/x.csv')",
        "numpy": "import numpy as np\nnp.save('/tmp/x.npy', np.arange(3))",
        "direct": "open('/data-copy.txt', 'w')",
    },
    "L5-RT-PROCESS": {
        "pandas": "import pandas as pd\npd.io.common.os.system('id')",
        "numpy": "import numpy as np\nnp.lib.utils.os.system('id')",
        "pandas-import": "import pandas as pd\n"
        "pd.compat._optional.import_optional_dependency('subprocess').run(['id'])",
        "reflection": "import pandas as pd\ngetattr(pd.io.common, 'o' + 's').execv('/bin/sh', ['sh'])",
    },
    "L5-RT-NETWORK": {
        "pandas": "import pandas as pd\npd.read_csv('http://10.244.0.1:9/x.csv')",
        "numpy": "import numpy as np\nnp.DataSource().open('http://10.244.0.1:9/x.txt')",
    },
    "L5-RT-EXEC": {
        "numpy": "import numpy as np\nnp.vectorize(eval)(['1 + 1'])",
        "pandas": "import pandas as pd\npd.Series(['1 + 1']).apply(eval)",
        "direct": "exec('import os')",
    },
    "L5-RT-DESERIALISE": {
        "pandas": "import pandas as pd\npd.DataFrame({'a': [1]}).to_pickle('/output/p.pkl')\n"
        "pd.read_pickle('/output/p.pkl')",
        "numpy": "import numpy as np\nnp.save('/output/o.npy', np.array([{}], dtype=object))\n"
        "np.load('/output/o.npy', allow_pickle=True)",
    },
    "L5-RT-NATIVE": {
        "numpy": "import numpy as np\nnp.ctypeslib.load_library('libc.so.6', '/lib/x86_64-linux-gnu')",
        "numpy-ctypes": "import numpy as np\nnp.ctypeslib.ctypes.CDLL(None)",
    },
    "L5-RT-IMPORT": {
        "direct": "import subprocess",
        # a stdlib helper importing a denied module on the program's behalf (os.popen imports subprocess)
        "through-numpy-stdlib": "import numpy as np\nnp.lib.utils.os.popen('id')",
        "reflection": "__import__('soc' + 'ket')",
    },
}
ROUTE_CASES = [(rule, route) for rule, routes in ROUTES.items() for route in routes]

POLICED_DRIVER = """
import json, os, subprocess, sys
results = {}
for name in sorted(os.listdir('/code')):
    if not name.startswith(('route-', 'benign-')):
        continue
    read_end, write_end = os.pipe()
    proc = subprocess.run(
        [sys.executable, '-I', '-u', '/opt/level5/policy.py', '--policy', '/code/policy.json',
         '--report-fd', str(write_end), '/code/' + name],
        cwd='/output', pass_fds=(write_end,), capture_output=True, text=True, timeout=60)
    os.close(write_end)
    report = os.read(read_end, 65536).decode()
    os.close(read_end)
    results[name] = {'exit': proc.returncode, 'report': report[:300], 'stderr': proc.stderr[-200:]}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def policed(namespace: str) -> dict[str, dict[str, Any]]:
    """Every route and every benign corpus program under the real policy.py, in one sandbox pod: a driver
    (itself unpoliced) starts the policy's bootstrap for each, with the policy.json the operator wrote."""
    files = {
        f"route-{rule}-{route}.py": code for rule, routes in ROUTES.items() for route, code in routes.items()
    }
    benign = sorted((CORPORA / "benign").glob("*.py.txt"))
    files |= {f"benign-{p.name.removesuffix('.py.txt')}.py": p.read_text() for p in benign}
    task_spec = spec(libraries=("pandas", "numpy"), timeout=600)
    objs = build(namespace, "policy-routes", task_spec, POLICED_DRIVER, files, unpoliced=True)
    for container in (objs[1]["spec"]["initContainers"][0], objs[1]["spec"]["containers"][0]):
        container["resources"] = {
            "requests": {"cpu": "1", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        }
    apply(objs, namespace)
    _, result = finished(namespace, objs[1]["metadata"]["name"])
    assert result is not None and result.error is None, result
    outcomes: dict[str, dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcomes


@pytest.mark.parametrize(("rule", "route"), ROUTE_CASES, ids=[f"{r}-{route}" for r, route in ROUTE_CASES])
def test_each_route_is_stopped_with_its_rule(
    policed: dict[str, dict[str, Any]], rule: str, route: str
) -> None:
    outcome = policed[f"route-{rule}-{route}.py"]
    assert outcome["exit"] == 86, outcome
    assert json.loads(outcome["report"].splitlines()[0])["rule"] == rule, outcome


def test_benign_corpus_runs_without_violations(policed: dict[str, dict[str, Any]]) -> None:
    """The runtime policy stops nothing the review lets through; where it stops a benign script, the review
    stopped that script too (the same tables: `os` and `pathlib` are denied in both)."""
    benign = {name: o for name, o in policed.items() if name.startswith("benign-")}
    assert len(benign) == len(list((CORPORA / "benign").glob("*.py.txt"))) > 30
    violations = {name for name, o in benign.items() if o["report"] or o["exit"] == 86}
    allowed = {
        name
        for name in benign
        if review_code(
            (CORPORA / "benign" / f"{name.removeprefix('benign-').removesuffix('.py')}.py.txt").read_text(),
            allowed_libraries=["pandas", "numpy"],
            max_lines=5000,
        ).verdict
        is Verdict.ALLOW
    }
    assert violations & allowed == set(), {name: benign[name]["report"] for name in violations & allowed}
    assert len(allowed) >= len(benign) - 3


def test_a_violation_reaches_the_result_document(namespace: str) -> None:
    """End to end through both containers: the policy's stop becomes the result's PolicyViolation."""
    code = "import pandas as pd\nprint('reading')\ndf = pd.read_csv('/etc/passwd', sep=':', header=None)\n"
    objs = build(namespace, "policy-e2e", spec(libraries=("pandas",)), code, {}, unpoliced=False)
    apply(objs, namespace)
    pod, result = finished(namespace, objs[1]["metadata"]["name"])
    assert pod["status"]["phase"] == "Succeeded" and result is not None
    assert result.policy_violation is not None and result.policy_violation.rule == "L5-RT-READ"
    assert result.policy_violation.line == 3 and "/etc/passwd" in result.policy_violation.attempted
    assert result.error is not None and result.error.type == "PolicyViolation"
    assert result.exit_code == 86 and result.stdout == "reading\n" and not result.checks[0].passed


# -- 3. system calls observed from outside the sandbox ------------------------------------------------------

MISBEHAVING = """
import os, socket
os.system('/bin/true')
s = socket.socket()
s.settimeout(1)
try:
    s.connect(('10.244.0.1', 9))
except OSError:
    pass
open('/output/answer.txt', 'w').write('41')
print('done')
"""


async def operator_outcome(namespace: str, pod: dict[str, Any]) -> PodOutcome:
    """The pod's outcome exactly as the operator's SandboxLauncher reads it, with the local cluster's
    system-call monitor configured as the operator's cluster tests configure it."""
    await kube_config.load_kube_config(os.environ.get("KUBECONFIG"))
    monitor = SyscallMonitorClient(f"http://{{hostIP}}:{MONITOR_PORT}")
    async with ApiClient() as api:
        launcher = SandboxLauncher(api, CONFIG, Wakeups(), monitor)
        try:
            return await launcher.result(namespace, pod["metadata"]["name"], pod)
        finally:
            await launcher.close()


def test_unexpected_system_calls_become_an_anomaly(namespace: str) -> None:
    """A program that got past the review and the runtime policy (bypassed here) starts a process and tries
    to connect: gVisor's trace points show both, the operator names them, and they fire the Anomaly
    trigger through the AnomalyDetected condition, like any run anomaly."""
    task_spec = spec()
    runs = {
        "misbehaving": build(namespace, "syscalls-bad", task_spec, MISBEHAVING, {}, unpoliced=True),
        "honest": build(namespace, "syscalls-ok", task_spec, "print('ok')\n", {}, unpoliced=False),
    }
    apply([obj for objs in runs.values() for obj in objs], namespace)
    records = {}
    for label, objs in runs.items():
        pod = wait_pod_done(namespace, objs[1]["metadata"]["name"], timeout=240)
        outcome = asyncio.run(operator_outcome(namespace, pod))
        assert outcome.monitoring is SyscallMonitoring.OBSERVED and outcome.run is not None, outcome
        records[label] = syscall_record(outcome.monitoring, outcome.syscalls, outcome.run.isolation_probe)
    assert records["honest"].anomalies == [], records["honest"]
    bad = records["misbehaving"]
    kinds = {a.split(":", 1)[0] for a in bad.anomalies}
    assert {"ProcessStart", "Connect"} <= kinds, bad.anomalies
    assert any("10.244.0.1:9" in a for a in bad.anomalies) and any("/bin/true" in a for a in bad.anomalies)
    entry = HistoryEntry(iteration=1, run_seconds=1.0, exit_code=0, syscalls=bad)
    anomalies = detect_anomalies([entry], task_spec.capabilities)
    assert [a.kind for a in anomalies] == [AnomalyKind.UNEXPECTED_SYSCALLS]
