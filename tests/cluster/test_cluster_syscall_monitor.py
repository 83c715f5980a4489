"""System-call monitoring on the local cluster's real gVisor: runsc's trace session (pod-init config, remote
sink) reports to the collector that cluster/up.sh runs on the host, and the operator's client reads the
summary of a sandbox container by the id in its pod status."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from kube import apply, kubectl, python_pod, unavailable, wait_pod_done
from level5.observability.syscalls import SyscallMonitorClient, monitor_base_url, syscall_anomalies
from level5.sandbox.syscall_summary import SyscallSummary

pytestmark = pytest.mark.cluster

MONITOR_URL = os.environ.get("LEVEL5_SYSCALL_MONITOR_URL", "http://{hostIP}:18090")
SPAWN_AND_CONNECT = """\
import socket, subprocess
subprocess.run(["/bin/echo", "child", "process"], check=False)
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("10.244.0.1", 9))
except OSError as exc:
    print("connect:", exc)
print("done")
"""
ROOTS = {"read_roots": ("/data", "/code"), "write_roots": ("/output",)}


async def _healthz(url: str) -> bool:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            response = await session.get(f"{url}/healthz")
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


@pytest.fixture(scope="module")
def monitored(cluster: None) -> None:
    """The node's collector must answer (cluster/up.sh starts it); like the cluster itself, a missing one is
    an error in CI and a skip locally."""
    url = monitor_base_url(MONITOR_URL, "10.244.0.1")
    if not asyncio.run(_healthz(url)):
        unavailable(
            f"syscall monitor not reachable at {url}; cluster/up.sh starts it (logs/syscall-monitor.log)"
        )


@pytest.fixture
def mon_namespace(monitored: None) -> Iterator[str]:
    name = f"mon-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


async def fetch_summary(host_ip: str, container_id: str) -> SyscallSummary | None:
    async with SyscallMonitorClient(MONITOR_URL, 10) as client:
        return await client.summary(host_ip, container_id)


def summary_of(pod: dict[str, Any], statuses: str = "containerStatuses") -> SyscallSummary:
    """The collector's summary of the pod's first (init) container, found by the id in the pod status."""
    status = pod["status"]
    container_id = status[statuses][0]["containerID"]
    assert container_id.startswith("containerd://")
    summary = asyncio.run(fetch_summary(status["hostIP"], container_id))
    assert summary is not None, f"the collector has nothing for {container_id}"
    assert summary.container_id == container_id.removeprefix("containerd://")
    return summary


def assert_quiet(summary: SyscallSummary) -> None:
    assert summary.container_started and summary.open_count > 0 and summary.dropped == 0
    assert (summary.exec_count, summary.exec_attempts, summary.forks) == (0, 0, 0)
    assert (summary.connect_count, summary.socket_count) == (0, 0)
    assert syscall_anomalies(summary, expected_execs=0, **ROOTS) == []


def test_a_process_start_and_a_connect_show_up_and_print_ok_shows_neither(mon_namespace: str) -> None:
    # The program in an init container and a quiet main container, as one pod: one gVisor sandbox whose
    # containers are told apart by their ids; and a plain print('ok') pod.
    spawn = python_pod("spawn", "print('ok')")
    program = {
        **spawn["spec"]["containers"][0],
        "name": "program",
        "command": ["python3", "-c", SPAWN_AND_CONNECT],
    }
    spawn["spec"]["initContainers"] = [program]
    apply(spawn, mon_namespace)
    apply(python_pod("quiet", "print('ok')"), mon_namespace)
    spawned, quiet = wait_pod_done(mon_namespace, "spawn"), wait_pod_done(mon_namespace, "quiet")
    assert spawned["status"]["phase"] == quiet["status"]["phase"] == "Succeeded"
    assert "child process" in kubectl("logs", "-n", mon_namespace, "spawn", "-c", "program")

    noisy = summary_of(spawned, "initContainerStatuses")
    assert noisy.container_started and noisy.dropped == 0
    assert ("/usr/bin/echo", ["/bin/echo", "child", "process"]) in [(e.path, e.argv) for e in noisy.execs]
    assert noisy.forks >= 1
    assert "10.244.0.1:9" in [c.address for c in noisy.connects]
    assert ("AF_INET", "SOCK_STREAM") in [(s.domain, s.type) for s in noisy.sockets]
    kinds = {a.split(":")[0] for a in syscall_anomalies(noisy, expected_execs=0, **ROOTS)}
    assert {"ProcessStart", "Connect", "Socket"} <= kinds

    assert_quiet(summary_of(spawned))  # the same sandbox's main container
    assert_quiet(summary_of(quiet))


def test_an_unknown_container_has_no_summary(monitored: None) -> None:
    assert asyncio.run(fetch_summary("10.244.0.1", "containerd://" + "0" * 64)) is None
