"""Runs inside an escape-containment sandbox pod as the generated program (/code/main.py, started by the real
runner). Standard library only.

1. Records what /tmp and /output hold before anything ran (they must be fresh in every pod).
2. Runs every payload of the one corpus file in /code (payloads split at lines starting with `# ===`), each in
   a forked child with its own session, stdio on /dev/null, cwd /output, an address-space cap and a short
   wall-clock limit; results are ignored beyond counting.
3. Writes a marker into /tmp and /output (a later pod must not see it).
4. Probes containment and prints one JSON document on stdout.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

PAYLOAD_SECONDS = 1.5
ADDRESS_SPACE = 320 * 1024 * 1024
CONNECT_SECONDS = 2.0
ROOT_WRITES = ("/usr/level5-probe", "/etc/level5-probe", "/var/tmp/level5-probe", "/level5-probe")


def listing(path: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(path):
        found += [os.path.relpath(os.path.join(root, n), path) for n in dirs + files]
    return sorted(found)


def payloads(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("# ==="):
            out.append((line[5:].strip(), ""))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line)
    return out


def run_payload(name: str, source: str) -> str:
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.chdir("/output")
            resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
            os.environ.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
            exec(compile(source, name, "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        except BaseException:
            os._exit(1)
        os._exit(0)
    deadline = time.monotonic() + PAYLOAD_SECONDS
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return f"exit {os.waitstatus_to_exitcode(status)}"
        time.sleep(0.02)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "timeout"


def attempt(fn: Callable[[], object]) -> str:
    try:
        fn()
    except OSError as exc:
        return f"error {errno.errorcode.get(exc.errno or 0, exc.errno)} {type(exc).__name__}"
    except Exception as exc:
        return f"error {type(exc).__name__}"
    return "ok"


def connect(host: str, port: int) -> str:
    def go() -> None:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
            pass

    result = attempt(go)
    return "connected" if result == "ok" else result


def stat_path(path: str) -> str:
    return attempt(lambda: os.stat(path))


def write_file(path: str) -> str:
    def go() -> None:
        with open(path, "w") as handle:
            handle.write("x")

    return attempt(go)


def read_text(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        return f"error {errno.errorcode.get(exc.errno or 0, exc.errno)}"


def environ_of_pid1() -> dict[str, str]:
    try:
        raw = Path("/proc/1/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def probe(targets: dict[str, object], marker: str) -> dict[str, object]:
    time.sleep(3)  # the policy enforcer learns the pod's IP from the API server, so give it a moment
    env1 = environ_of_pid1()
    host = os.environ.get("KUBERNETES_SERVICE_HOST") or env1.get("KUBERNETES_SERVICE_HOST", "")
    port = os.environ.get("KUBERNETES_SERVICE_PORT") or env1.get("KUBERNETES_SERVICE_PORT", "")
    dial = {
        "api-service-env": (host, int(port or 443)),
        "api-service": (str(targets["apiServiceHost"]), int(str(targets["apiServicePort"]))),
        "api-endpoint": (str(targets["apiEndpointHost"]), int(str(targets["apiEndpointPort"]))),
        "other-pod": (str(targets["otherPodIP"]), int(str(targets["otherPodPort"]))),
    }
    network: dict[str, str] = {}
    threads = [
        threading.Thread(target=lambda k=k, a=a: network.__setitem__(k, connect(*a))) for k, a in dial.items()
    ]
    for thread in threads:
        thread.start()
    dns: dict[str, str] = {}

    def resolve() -> None:
        try:
            dns["kubernetes.default"] = socket.gethostbyname("kubernetes.default.svc.cluster.local.")
        except OSError as exc:
            dns["kubernetes.default"] = f"error {type(exc).__name__}"

    resolver = threading.Thread(target=resolve, daemon=True)
    resolver.start()
    for thread in threads:
        thread.join()
    resolver.join(timeout=CONNECT_SECONDS + 1)
    status = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    return {
        "serviceEnv": {"host": host, "port": port},
        "network": network,
        "dns": dns.get("kubernetes.default", "error still resolving"),
        "uid": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
        "capEff": status.get("CapEff", "").strip(),
        "noNewPrivs": status.get("NoNewPrivs", "").strip(),
        "kernel": {"osrelease": read_text("/proc/sys/kernel/osrelease"), "uname": os.uname().release},
        "rootMount": next((m[3] for m in mounts if len(m) > 3 and m[1] == "/"), ""),
        "paths": {p: stat_path(p) for p in targets["absentPaths"]},  # type: ignore[union-attr]
        "writes": {p: write_file(p) for p in ROOT_WRITES},
        "markers": {p: write_file(f"{p}/{marker}") for p in ("/tmp", "/output")},
    }


def main() -> None:
    before = {"tmp": listing("/tmp"), "output": listing("/output")}
    corpus = sorted(Path("/code").glob("*.py.txt"))
    targets = json.loads(Path("/code/targets.json").read_text())
    ran: dict[str, str] = {}
    for path in corpus:
        for i, (name, source) in enumerate(payloads(path.read_text())):
            ran[f"{path.name}#{i} {name}"] = run_payload(name, source)
    marker = "persist-" + socket.gethostname()
    result = {"before": before, "corpus": [p.name for p in corpus], "ran": ran, **probe(targets, marker)}
    result["after"] = {"tmp": listing("/tmp"), "output": listing("/output")}
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
