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

from kube import apply, kubectl, pod_logs, python_pod, unavailable, wait_pod_done
from level5.syscall_monitor import (
    SyscallSummary,
    fetch_syscall_summary,
    monitor_base_url,
    syscall_anomalies,
)

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


def summary_of(pod: dict[str, Any]) -> SyscallSummary:
    status = pod["status"]
    container_id = status["containerStatuses"][0]["containerID"]
    assert container_id.startswith("containerd://")
    summary = asyncio.run(
        fetch_syscall_summary(monitor_base_url(MONITOR_URL, status["hostIP"]), container_id, 10)
    )
    assert summary is not None, f"the collector has nothing for {container_id}"
    assert summary.container_id == container_id.removeprefix("containerd://")
    return summary


def test_a_process_start_and_a_connect_show_up_and_print_ok_shows_neither(mon_namespace: str) -> None:
    apply(python_pod("spawn", SPAWN_AND_CONNECT), mon_namespace)
    apply(python_pod("quiet", "print('ok')"), mon_namespace)
    spawn, quiet = wait_pod_done(mon_namespace, "spawn"), wait_pod_done(mon_namespace, "quiet")
    assert spawn["status"]["phase"] == quiet["status"]["phase"] == "Succeeded"
    assert "child process" in pod_logs(mon_namespace, "spawn")

    noisy = summary_of(spawn)
    assert noisy.container_started and noisy.dropped == 0
    assert ("/usr/bin/echo", ["/bin/echo", "child", "process"]) in [(e.path, e.argv) for e in noisy.execs]
    assert noisy.forks >= 1
    assert "10.244.0.1:9" in [c.address for c in noisy.connects]
    assert ("AF_INET", "SOCK_STREAM") in [(s.domain, s.type) for s in noisy.sockets]
    kinds = {a.split(":")[0] for a in syscall_anomalies(noisy, expected_execs=0, **ROOTS)}
    assert {"ProcessStart", "Connect", "Socket"} <= kinds

    clean = summary_of(quiet)
    assert clean.container_started and clean.open_count > 0
    assert (clean.exec_count, clean.exec_attempts, clean.forks) == (0, 0, 0)
    assert (clean.connect_count, clean.socket_count) == (0, 0)
    assert syscall_anomalies(clean, expected_execs=0, **ROOTS) == []


def test_an_unknown_container_has_no_summary(monitored: None) -> None:
    url = monitor_base_url(MONITOR_URL, "10.244.0.1")
    assert asyncio.run(fetch_syscall_summary(url, "containerd://" + "0" * 64, 5)) is None
