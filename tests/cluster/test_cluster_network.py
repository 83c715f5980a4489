"""NetworkPolicy is enforced: a deny-all namespace reaches nothing (TCP, UDP, DNS), an open one does; a
gVisor pod (the sandboxes' runtime, network = "none") reaches nothing even in an open namespace.

A server pod answers TCP, echoes UDP and answers every DNS question; it is also the cluster DNS
(a Service at the kubelet's clusterDNS address), so name resolution is tested end to end.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

import pytest

from kube import apply, get_json, kubectl, pod_logs, python_pod, unique_name, wait_pod_done

pytestmark = pytest.mark.cluster

CLUSTER_DNS_IP = "10.96.0.10"
DNS_ANSWER = "10.1.2.3"

SERVER = textwrap.dedent(
    f"""
    import socket, threading

    def tcp():
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 8080)); s.listen(16)
        while True:
            c, _ = s.accept(); c.sendall(b"pong"); c.close()

    def udp_echo():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5300))
        while True:
            data, peer = s.recvfrom(512); s.sendto(data, peer)

    def dns():
        # Answer every A question with {DNS_ANSWER} (header, question echoed, one answer record).
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5353))
        answer_ip = bytes(int(x) for x in "{DNS_ANSWER}".split("."))
        while True:
            q, peer = s.recvfrom(512)
            end = 12
            while q[end] != 0:
                end += q[end] + 1
            question = q[12:end + 5]
            qtype = q[end + 1:end + 3]
            is_a = qtype == b"\\x00\\x01"
            counts = b"\\x00\\x01" + (b"\\x00\\x01" if is_a else b"\\x00\\x00") + b"\\x00\\x00\\x00\\x00"
            header = q[:2] + b"\\x81\\x80" + counts
            # name pointer to the question, type A, class IN, TTL 60, 4 bytes of address
            rr = b"\\xc0\\x0c\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x3c\\x00\\x04"
            record = rr + answer_ip if is_a else b""
            s.sendto(header + question + record, peer)

    for f in (udp_echo, dns):
        threading.Thread(target=f, daemon=True).start()
    print("serving", flush=True)
    tcp()
    """
)

CLIENT = textwrap.dedent(
    """
    import json, socket, sys, time
    server = sys.argv[1]
    # kube-network-policies learns a pod's IP from the API (containerd 1.6 has no NRI to tell it
    # sooner), so give it a moment before probing.
    time.sleep(3)
    out = {}
    try:
        with socket.create_connection((server, 8080), timeout=3) as c:
            out["tcp"] = c.recv(4).decode()
    except OSError as e:
        out["tcp"] = "error: " + type(e).__name__
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
    try:
        s.sendto(b"ping", (server, 5300)); out["udp"] = s.recvfrom(16)[0].decode()
    except OSError as e:
        out["udp"] = "error: " + type(e).__name__
    try:
        out["dns"] = socket.gethostbyname("probe.level5.test.")
    except OSError as e:
        out["dns"] = "error: " + type(e).__name__
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def server_ip(cluster: None) -> Iterator[str]:
    """A server pod in its own namespace, plus the cluster DNS Service pointing at it."""
    ns = unique_name("netlab")
    kubectl("create", "namespace", ns)
    server = python_pod("server", SERVER, runtime_class=None, labels={"app": "netlab"})
    server["spec"]["containers"][0]["command"] = ["python3", "-u", "-c", SERVER]
    apply(server, ns)
    dns_service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "cluster-dns", "namespace": ns},
        "spec": {
            "clusterIP": CLUSTER_DNS_IP,
            "selector": {"app": "netlab"},
            "ports": [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 5353}],
        },
    }
    apply(dns_service, ns)
    kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/server", "--timeout=120s", timeout=130)
    yield get_json("pod", "server", ns)["status"]["podIP"]
    # Free the fixed cluster DNS address now, not when the namespace finishes terminating.
    kubectl("delete", "service", "-n", ns, "cluster-dns", check=False)
    kubectl("delete", "namespace", ns, "--wait=false", check=False)


def run_client(namespace: str, server_ip: str, runtime: str | None) -> dict[str, str]:
    name = unique_name("client")
    pod = python_pod(name, CLIENT, runtime_class=runtime)
    pod["spec"]["containers"][0]["command"] = ["python3", "-c", CLIENT, server_ip]
    # One short DNS try, so a blocked resolver fails fast instead of retrying for a minute.
    pod["spec"]["dnsConfig"] = {
        "options": [{"name": "timeout", "value": "2"}, {"name": "attempts", "value": "1"}]
    }
    apply(pod, namespace)
    wait_pod_done(namespace, name)
    result: dict[str, str] = json.loads(pod_logs(namespace, name).strip().splitlines()[-1])
    return result


DENY_ALL = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "deny-all"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}


def test_open_namespace_reaches_server_and_dns(namespace: str, server_ip: str) -> None:
    result = run_client(namespace, server_ip, None)
    assert result == {"tcp": "pong", "udp": "ping", "dns": DNS_ANSWER}


def test_gvisor_pods_have_no_network_even_in_an_open_namespace(namespace: str, server_ip: str) -> None:
    """The sandbox runtime's gVisor runs with network = "none": loopback only, whatever the policy says."""
    result = run_client(namespace, server_ip, "gvisor")
    assert all(value.startswith("error") for value in result.values()), result
    interfaces = python_pod("interfaces", "print(open('/proc/net/dev').read())", runtime_class="gvisor")
    apply(interfaces, namespace)
    wait_pod_done(namespace, "interfaces")
    lines = pod_logs(namespace, "interfaces").splitlines()
    listed = [line.split(":")[0].strip() for line in lines if ":" in line]
    assert listed == ["lo"], listed


@pytest.mark.parametrize("runtime", ["gvisor", None], ids=["gvisor", "runc"])
def test_deny_all_namespace_reaches_nothing(namespace: str, server_ip: str, runtime: str | None) -> None:
    apply(DENY_ALL, namespace)
    result = run_client(namespace, server_ip, runtime)
    assert result["tcp"].startswith("error"), result
    assert result["udp"].startswith("error"), result
    assert result["dns"].startswith("error"), result
