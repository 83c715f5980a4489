"""Runs inside an escape-containment sandbox pod as the generated program (/code/main.py, PID 1 of the program
container, started in place of the runner). Standard library only.

1. Records what /tmp and /output hold before anything ran (they must be fresh in every pod).
2. Runs every payload of the one corpus file in /code (payloads split at lines starting with `# ===`), each in
   a forked child with its own session, stdio on /dev/null, cwd /output, an address-space cap, a short
   wall-clock limit and a seccomp filter (`guard`) that refuses only what would end or steer the driver
   itself: signals sent to PID 1 or to every process (-1), ptrace and process_vm_readv/writev. A payload that
   tries to kill its runner then gets EPERM and is contained like any other (a real task's runner is killed
   and the task ends with RunnerKilled; see "Trust boundaries"). After each payload every other process in
   the container is killed and reaped (`reap`), so no detached child outlives its payload.
3. Writes a marker into /tmp and /output (a later pod must not see it).
4. Probes containment and prints one JSON document on stdout, on a line `REPORT_TAG <nonce> <json>`. The
   nonce is drawn only now, when no payload process is left to read it, and is written to the container's
   termination message (/dev/termination-log, overwriting whatever a payload put there), which the test
   reads from the pod's status: a line a payload printed (or wrote to /proc/1/fd/1) cannot carry it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import secrets
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
REPORT_TAG = "LEVEL5-ESCAPE-DRIVER-REPORT"
TERMINATION_LOG = "/dev/termination-log"

# seccomp (x86-64): the syscalls that signal a process chosen by its first argument, and those that reach
# into another process's memory or execution. BPF: load a word of seccomp_data, compare, jump, return.
_SIGNALLING = (62, 200, 234, 129, 297, 434)  # kill tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo pidfd_open
_PROCESS_ACCESS = (101, 310, 311)  # ptrace process_vm_readv process_vm_writev
_AUDIT_ARCH_X86_64 = 0xC000003E
_LD, _JEQ, _RET = 0x20, 0x15, 0x06
_ALLOW, _EPERM = 0x7FFF0000, 0x00050000 | errno.EPERM
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _filter() -> bytes:
    """deny (EPERM): another architecture; a signalling call whose target is 1 or -1; any process access."""

    def op(code: int, jt: int, jf: int, k: int) -> bytes:
        return code.to_bytes(2, "little") + bytes([jt, jf]) + k.to_bytes(4, "little")

    checks = len(_SIGNALLING) + len(_PROCESS_ACCESS)
    program = [op(_LD, 0, 0, 4), op(_JEQ, 1, 0, _AUDIT_ARCH_X86_64), op(_RET, 0, 0, _EPERM), op(_LD, 0, 0, 0)]
    for index, number in enumerate(_SIGNALLING):  # to the target check after the ALLOW below the list
        program.append(op(_JEQ, checks - index, 0, number))
    for index, number in enumerate(_PROCESS_ACCESS):  # to the final EPERM
        program.append(op(_JEQ, len(_PROCESS_ACCESS) - index + 4, 0, number))
    program += [op(_RET, 0, 0, _ALLOW), op(_LD, 0, 0, 16)]  # low 32 bits of the first argument
    program += [op(_JEQ, 2, 0, 1), op(_JEQ, 1, 0, 0xFFFFFFFF), op(_RET, 0, 0, _ALLOW), op(_RET, 0, 0, _EPERM)]
    return b"".join(program)


def guard() -> None:
    """Install the filter in this process (inherited by its children, irremovable); raises OSError."""
    libc = ctypes.CDLL(None, use_errno=True)
    code = _filter()
    buffer = ctypes.create_string_buffer(code, len(code))
    program = _SockFprog(len(code) // 8, ctypes.addressof(buffer))
    for args in (
        (_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
        (_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0),
    ):
        if libc.prctl(*args) != 0:
            raise OSError(ctypes.get_errno(), "prctl")


def reap() -> None:
    """Kill every other process of the container (the driver is its PID 1) and reap them all."""
    with contextlib.suppress(ProcessLookupError):  # none left
        os.kill(-1, signal.SIGKILL)  # kill(2): every process but the caller and init; here, all the others
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                time.sleep(0.02)
        except ChildProcessError:
            return


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
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(ready_read)
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.chdir("/output")
            resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
            os.environ.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
            guard()
            os.write(ready_write, b"guarded")
            os.close(ready_write)
            exec(compile(source, name, "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        except BaseException:
            os._exit(1)
        os._exit(0)
    os.close(ready_write)
    guarded = os.read(ready_read, 16) == b"guarded"  # returns at the write, or when the child's end closes
    os.close(ready_read)
    outcome = "timeout"
    deadline = time.monotonic() + PAYLOAD_SECONDS
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            outcome = f"exit {os.waitstatus_to_exitcode(status)}"
            break
        time.sleep(0.02)
    reap()
    return outcome if guarded else f"unguarded ({outcome})"


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
    result = {"pid": os.getpid(), "before": before, "corpus": [p.name for p in corpus], "ran": ran}
    result.update(probe(targets, marker))
    result["after"] = {"tmp": listing("/tmp"), "output": listing("/output")}
    nonce = secrets.token_hex(16)  # drawn now: no payload process is left to read it
    Path(TERMINATION_LOG).write_text(nonce)
    # A leading newline ends any line a payload left unfinished on the same stdout.
    sys.stdout.write(f"\n{REPORT_TAG} {nonce} {json.dumps(result)}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
