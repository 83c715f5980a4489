"""System-call monitoring from outside the sandbox (the seed's safety layer 4, issue 10 §3).

gVisor's sentry, not anything inside the sandbox, reports trace points (execve, clone, open, socket,
connect, ptrace) to the `remote` seccheck sink configured by runsc's `--pod-init-config`. This module is
the other end:

- `Collector` listens on the sink's unix SOCK_SEQPACKET socket (one connection per sandbox, that is per
  pod), answers the handshake and folds every point into a bounded per-container summary
  (`SummaryStore`), keyed by the container id in the point's context, which is the CRI container id
  that `containerStatuses[].containerID` shows after "containerd://".
- `serve` runs it with a small HTTP API (`GET /v1/containers/<id>` → `SyscallSummary` JSON, 404 when
  unknown; `GET /v1/runs/<run key>`, the same for the container whose `container/start` point carried that
  run key among its arguments, so a streamed pod's summary is found before the kubelet reports its id;
  `GET /healthz`), which `level5 syscall-monitor` starts on every gVisor node.
- `SyscallMonitorClient` is the operator's client, and `syscall_anomalies` the pure judgement of a
  summary against what a run was allowed to do.

The wire format, and why it is decoded by hand rather than with the protobuf package, is in
level5.observability.syscall_wire.

No process in the sandbox can switch this off: the sink is part of the sandbox's kernel, configured by the
node. What it cannot see is everything gVisor does not report (reads and writes on already open files,
stat, mmap); and a point the sink could not deliver is only counted (`dropped`), so the summary says when it
is incomplete rather than looking clean. Summaries live in memory, bounded by a TTL and a container cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno as errno_names
import ipaddress
import itertools
import logging
import os
import posixpath
import signal
import socket
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TextIO, TypeVar
from urllib.parse import quote

import aiohttp
from aiohttp import web
from pydantic import ValidationError

from level5.observability.syscall_wire import (
    MessageType,
    Point,
    WireError,
    decode,
    handshake,
    handshake_version,
)
from level5.sandbox.syscall_summary import (
    RUN_KEY_FLAG,
    ConnectRecord,
    DeniedCall,
    ExecRecord,
    OpenRecord,
    PtraceRecord,
    SocketRecord,
    SyscallSummary,
)

log = logging.getLogger(__name__)

MAX_RECORDS = 64
"""Distinct execs, connects, sockets, ptraces and denied calls kept per container (counts stay exact)."""
MAX_OPENS = 512
"""Distinct opened files kept per container."""
MAX_ARGS = 16
MAX_CHARS = 512
"""Longest path or argument kept; longer ones are cut."""
DEFAULT_TTL_SECONDS = 3600.0
DEFAULT_MAX_CONTAINERS = 4096
MAX_PACKET = 1 << 20
"""Receive buffer: larger than any message the sink can send (its socket's send buffer is smaller)."""
READ_BATCH = 4096
_AT_FDCWD = -100
_CLONE_THREAD = 0x10000
_SYS_PTRACE = 101  # x86-64; the pod-init config subscribes to syscall/sysno/101
_DENIED = frozenset({errno_names.EPERM, errno_names.EACCES, errno_names.EROFS})
_SYSCALL_NAMES = {
    MessageType.SYSCALL_OPEN: "open",
    MessageType.SYSCALL_CONNECT: "connect",
    MessageType.SYSCALL_SOCKET: "socket",
    MessageType.SYSCALL_EXECVE: "execve",
    MessageType.SYSCALL_RAW: "ptrace",
}
_OPEN_FLAGS = (
    ("O_CREAT", os.O_CREAT),
    ("O_EXCL", os.O_EXCL),
    ("O_TRUNC", os.O_TRUNC),
    ("O_APPEND", os.O_APPEND),
    ("O_TMPFILE", os.O_TMPFILE),
    ("O_DIRECTORY", os.O_DIRECTORY),
    ("O_PATH", os.O_PATH),
)

SYSTEM_READ_ROOTS: tuple[str, ...] = (
    "/usr/lib/python3",
    "/usr/lib/python3.11",
    "/usr/local/lib/python3.11",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/usr/lib/locale",
    "/usr/share/locale",
    "/usr/share/zoneinfo",
    "/usr/lib/ssl/openssl.cnf",
    "/usr/pyvenv.cfg",
    "/usr/bin/pyvenv.cfg",
    "/usr/bin/python3._pth",
    "/usr/bin/python3.11._pth",
    "/usr/bin/pybuilddir.txt",
    "/dev/null",
)
"""What the sandbox image's python3 (Debian's 3.11 with numpy and pandas) opens by itself, read from real
runs (tests/unit/data/syscall_monitor/): the interpreter, its libraries, locale and time-zone data
(importing pandas reads every zoneinfo file). Reading these is never an anomaly, so the collector only
counts such opens (`systemOpens`) instead of listing them."""
JAVASCRIPT_SYSTEM_READ_ROOTS: tuple[str, ...] = (
    "/usr/lib/python3.13",
    "/usr/local/lib/python3.13",
    "/usr/bin/python3.13._pth",
    "/usr/lib/glibc-hwcaps",
    "/usr/bin/glibc-hwcaps",
    "/usr/lib/libnode.so.115",
    "/usr/bin/libnode.so.115",
    "/usr/lib/libc.so.6",
    "/usr/bin/libc.so.6",
    "/usr/share/nodejs",
    "/proc/version_signature",
    "/proc/self/cgroup",
    "/proc/self/maps",
    "/proc/meminfo",
    "/proc/sys/vm/overcommit_memory",
    "/sys/fs/cgroup/memory",
)
"""What the JavaScript image's runner (Debian trixie's python3.13) and Node.js 20 open by themselves, read
from a real run of samples/js-orders.yaml in a gVisor pod: the interpreters and their libraries, Node's
bundled JavaScript (/usr/share/nodejs), and the memory limits V8 sizes its heap by (cgroup, meminfo)."""
HARMLESS_WRITES: tuple[str, ...] = ("/dev/null",)
LIBRARY_EXECS: frozenset[tuple[str, tuple[str, ...]]] = frozenset({("/usr/bin/uname", ("uname", "-p"))})
"""Processes the sandbox image's libraries start by themselves: `platform.processor()`, run while importing
numpy and pandas, starts `uname -p`. They do not count as the program's process starts."""


R = TypeVar("R", ExecRecord, ConnectRecord, SocketRecord, OpenRecord, PtraceRecord, DeniedCall)


class _Distinct(Generic[R]):
    """Distinct records by key with a count each, at most `cap` of them; `total` counts every add."""

    def __init__(self, cap: int) -> None:
        self.cap, self.total, self.truncated = cap, 0, False
        self.records: dict[Hashable, R] = {}

    def add(self, key: Hashable, make: Callable[[], R]) -> None:
        self.total += 1
        record = self.records.get(key)
        if record is not None:
            record.count += 1
        elif len(self.records) < self.cap:
            self.records[key] = make()
        else:
            self.truncated = True

    def listed(self) -> list[R]:
        return [r.model_copy() for r in self.records.values()]


def _errno_name(number: int) -> str:
    return errno_names.errorcode.get(number, str(number)) if number else ""


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 3] + "..."


def format_address(raw: bytes) -> str:
    """A sockaddr as connect(2) passed it, in words."""
    if len(raw) < 2:
        return "(no address)"
    family = int.from_bytes(raw[:2], "little")  # sa_family is in host order; gVisor runs on x86-64 here
    if family == socket.AF_INET and len(raw) >= 8:
        return f"{ipaddress.IPv4Address(raw[4:8])}:{int.from_bytes(raw[2:4], 'big')}"
    if family == socket.AF_INET6 and len(raw) >= 24:
        return f"[{ipaddress.IPv6Address(raw[8:24])}]:{int.from_bytes(raw[2:4], 'big')}"
    if family == socket.AF_UNIX:
        path = raw[2:]
        if path.startswith(b"\0"):
            return "unix:@" + path[1:].rstrip(b"\0").decode("utf-8", "replace")
        return "unix:" + path.split(b"\0")[0].decode("utf-8", "replace")
    if family == socket.AF_UNSPEC:
        return "unspec"
    return f"family {family}: {raw[2:].hex()}"


def _enum_name(kind: Callable[[int], object], value: int) -> str:
    try:
        return getattr(kind(value), "name", str(value))
    except ValueError:
        return str(value)


def open_flags(flags: int) -> tuple[list[str], bool]:
    """The names of the interesting open(2) flags, and whether the open can write."""
    names = [("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")[flags & 3]]
    for name, bit in _OPEN_FLAGS:
        if flags & bit == bit and not (name == "O_DIRECTORY" and flags & os.O_TMPFILE == os.O_TMPFILE):
            names.append(name)
    write = flags & 3 != 0 or bool(flags & (os.O_CREAT | os.O_TRUNC)) or "O_TMPFILE" in names
    return names, write


def open_path(point: Point) -> str:
    """The absolute path an open refers to, resolved lexically against the cwd or the directory fd."""
    path = point.path
    if not path.startswith("/"):
        base = point.cwd if point.fd == _AT_FDCWD else point.fd_path
        if base.startswith("/"):
            path = posixpath.join(base, path)
    return _cut(posixpath.normpath(path) if path.startswith("/") else path)


@dataclass
class _Tracker:
    """The mutable summary of one container."""

    container_id: str
    first_seen: float
    dropped_base: int
    last_seen: float = 0.0
    dropped: int = 0
    points: int = 0
    started: bool = False
    forks: int = 0
    exec_attempts: int = 0
    open_count: int = 0
    system_opens: int = 0
    execs: _Distinct[ExecRecord] = field(default_factory=lambda: _Distinct(MAX_RECORDS))
    connects: _Distinct[ConnectRecord] = field(default_factory=lambda: _Distinct(MAX_RECORDS))
    sockets: _Distinct[SocketRecord] = field(default_factory=lambda: _Distinct(MAX_RECORDS))
    opens: _Distinct[OpenRecord] = field(default_factory=lambda: _Distinct(MAX_OPENS))
    ptraces: _Distinct[PtraceRecord] = field(default_factory=lambda: _Distinct(MAX_RECORDS))
    denied: _Distinct[DeniedCall] = field(default_factory=lambda: _Distinct(MAX_RECORDS))

    def apply(self, point: Point) -> None:
        self.points += 1
        err = _errno_name(point.errno)
        kind = point.type
        if kind is MessageType.CONTAINER_START:
            self.started = True
        elif kind is MessageType.SENTRY_CLONE:
            self.forks += not point.flags & _CLONE_THREAD
        elif kind is MessageType.SENTRY_EXEC:
            argv = [_cut(a) for a in point.argv[:MAX_ARGS]]
            path = _cut(point.path)
            self.execs.add((path, tuple(argv)), lambda: ExecRecord(path=path, argv=argv))
        elif kind is MessageType.SYSCALL_EXECVE:
            # The syscall's exit point carries no error for a failed exec (gVisor fails it after the
            # syscall has returned to its run loop), so it only counts attempts; sentry/execve above
            # reports the programs that actually ran.
            self.exec_attempts += 1
        elif kind is MessageType.SYSCALL_OPEN:
            self._open(point, err)
        elif kind is MessageType.SYSCALL_CONNECT:
            address = format_address(point.address)
            self.connects.add((address, err), lambda: ConnectRecord(address=address, errno=err))
        elif kind is MessageType.SYSCALL_SOCKET:
            domain = _enum_name(socket.AddressFamily, point.domain)
            kind_name = _enum_name(socket.SocketKind, point.socket_type & 0xF)
            self.sockets.add(
                (domain, kind_name, point.protocol, err),
                lambda: SocketRecord(domain=domain, type=kind_name, protocol=point.protocol, errno=err),
            )
        elif kind is MessageType.SYSCALL_RAW and point.sysno == _SYS_PTRACE and point.exited:
            request, pid = point.args[0], point.args[1]
            self.ptraces.add((request, pid, err), lambda: PtraceRecord(request=request, pid=pid, errno=err))
        named = kind in _SYSCALL_NAMES and (kind is not MessageType.SYSCALL_RAW or point.sysno == _SYS_PTRACE)
        if point.exited and point.errno in _DENIED and named:
            target = _denied_target(point)
            self.denied.add(
                (kind, target, err),
                lambda: DeniedCall(syscall=_SYSCALL_NAMES[kind], target=target, errno=err),
            )

    def _open(self, point: Point, err: str) -> None:
        self.open_count += 1
        path = open_path(point)
        flags, write = open_flags(point.flags)
        if not write and _under(path, SYSTEM_READ_ROOTS):
            self.system_opens += 1
            return
        self.opens.add((path, write, err), lambda: OpenRecord(path=path, flags=flags, write=write, errno=err))

    def summary(self) -> SyscallSummary:
        lists = (self.execs, self.connects, self.sockets, self.opens, self.ptraces, self.denied)
        return SyscallSummary(
            container_id=self.container_id,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            container_started=self.started,
            points=self.points,
            dropped=self.dropped,
            exec_count=self.execs.total,
            exec_attempts=self.exec_attempts,
            forks=self.forks,
            execs=self.execs.listed(),
            connect_count=self.connects.total,
            connects=self.connects.listed(),
            socket_count=self.sockets.total,
            sockets=self.sockets.listed(),
            open_count=self.open_count,
            system_opens=self.system_opens,
            opens=self.opens.listed(),
            ptrace_count=self.ptraces.total,
            ptraces=self.ptraces.listed(),
            denied_count=self.denied.total,
            denied=self.denied.listed(),
            truncated=any(d.truncated for d in lists),
        )


def _denied_target(point: Point) -> str:
    if point.type is MessageType.SYSCALL_OPEN:
        return open_path(point)
    if point.type is MessageType.SYSCALL_CONNECT:
        return format_address(point.address)
    if point.type is MessageType.SYSCALL_RAW:
        return f"request {point.args[0]} pid {point.args[1]}"
    if point.type is MessageType.SYSCALL_SOCKET:
        return _enum_name(socket.AddressFamily, point.domain)
    return _cut(point.path)


def run_key(argv: Sequence[str]) -> str | None:
    """The run key a container was started with (`RUN_KEY_FLAG <key>` among its arguments), if any."""
    for flag, value in itertools.pairwise(argv):
        if flag == RUN_KEY_FLAG:
            return value
    return None


class SummaryStore:
    """Per-container summaries, dropped `ttl` seconds after a container's latest point, and at most
    `max_containers` of them (the least recently active go first)."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_containers: int = DEFAULT_MAX_CONTAINERS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl, self.max_containers, self.clock = ttl, max_containers, clock
        self._trackers: dict[str, _Tracker] = {}  # in order of latest activity, oldest first
        self._runs: dict[str, str] = {}  # run key -> container id, from the container's start point

    def __len__(self) -> int:
        return len(self._trackers)

    def record(self, point: Point, sandbox_dropped: int) -> None:
        """Fold one point in; `sandbox_dropped` is the sandbox's drop count before this point."""
        now = self.clock()
        tracker = self._trackers.pop(point.container_id, None)
        if tracker is None:
            tracker = _Tracker(point.container_id, first_seen=now, dropped_base=sandbox_dropped)
            while len(self._trackers) >= self.max_containers:
                del self._trackers[next(iter(self._trackers))]
        self._trackers[point.container_id] = tracker
        tracker.last_seen = now
        tracker.apply(point)
        if point.type is MessageType.CONTAINER_START and (key := run_key(point.argv)):
            self._runs[key] = point.container_id

    def note_dropped(self, container_ids: Iterable[str], sandbox_dropped: int) -> None:
        """The sandbox's sink has dropped `sandbox_dropped` points so far."""
        for container_id in container_ids:
            tracker = self._trackers.get(container_id)
            if tracker is not None:
                tracker.dropped = max(tracker.dropped, sandbox_dropped - tracker.dropped_base)

    def get(self, container_id: str) -> SyscallSummary | None:
        self.expire()
        tracker = self._trackers.get(container_id)
        return None if tracker is None else tracker.summary()

    def get_run(self, key: str) -> SyscallSummary | None:
        """The summary of the container started with this run key (RUN_KEY_FLAG)."""
        container_id = self._runs.get(key)
        return None if container_id is None else self.get(container_id)

    def expire(self) -> None:
        cutoff = self.clock() - self.ttl
        for container_id in [c for c, t in self._trackers.items() if t.last_seen < cutoff]:
            del self._trackers[container_id]
        for key in [k for k, c in self._runs.items() if c not in self._trackers]:
            del self._runs[key]


@dataclass
class _Connection:
    """One sandbox's sink connection."""

    sock: socket.socket
    greeted: bool = False
    dropped: int = 0
    containers: set[str] = field(default_factory=set)


class Collector:
    """The listening end of gVisor's remote sink; every packet goes into `store` as it arrives.

    Single-threaded on the event loop: `drain()` reads whatever the sockets already hold, so an HTTP
    answer includes every point the sandbox wrote before the request."""

    def __init__(self, store: SummaryStore, socket_path: Path, record: TextIO | None = None) -> None:
        self.store, self.socket_path, self.record = store, socket_path, record
        self._listener: socket.socket | None = None
        self._connections: dict[int, _Connection] = {}
        self._buffer = bytearray(MAX_PACKET)
        self.undecodable = 0
        self.unattributed = 0

    @property
    def connections(self) -> int:
        return len(self._connections)

    def start(self) -> None:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self.socket_path.is_socket():
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as probe:
                try:
                    probe.connect(str(self.socket_path))
                except ConnectionRefusedError:
                    self.socket_path.unlink()  # a previous collector's; nothing listens on it any more
                else:
                    raise RuntimeError(f"another collector listens on {self.socket_path}")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(str(self.socket_path))
        # Only this user and root (runsc) may connect: anyone else could feed the summaries fake points.
        self.socket_path.chmod(0o600)
        listener.listen(128)
        listener.setblocking(False)
        self._listener = listener
        asyncio.get_running_loop().add_reader(listener.fileno(), self._accept)
        log.info("listening for gVisor trace points on %s", self.socket_path)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for conn in list(self._connections.values()):
            self._drop(conn)
        if self._listener is not None:
            loop.remove_reader(self._listener.fileno())
            self._listener.close()
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()

    def drain(self) -> None:
        for conn in list(self._connections.values()):
            self._read(conn)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        conn = _Connection(sock)
        self._connections[sock.fileno()] = conn
        asyncio.get_running_loop().add_reader(sock.fileno(), self._read, conn)
        log.info("sandbox connected (%d connections)", len(self._connections))

    def _drop(self, conn: _Connection) -> None:
        asyncio.get_running_loop().remove_reader(conn.sock.fileno())
        self._connections.pop(conn.sock.fileno(), None)
        conn.sock.close()

    def _read(self, conn: _Connection) -> None:
        # At most READ_BATCH packets a call: a sandbox that writes as fast as this reads must not starve
        # the other sandboxes and the HTTP API; the loop calls again while data is waiting.
        for _ in range(READ_BATCH):
            try:
                size = conn.sock.recv_into(self._buffer)
            except BlockingIOError:
                return
            except OSError as exc:
                log.warning("sandbox connection failed: %s", exc)
                size = 0
            if size == 0:  # the sandbox is gone (the sink never sends an empty packet)
                log.info("sandbox disconnected: containers %s", sorted(conn.containers))
                self._drop(conn)
                return
            packet = bytes(self._buffer[:size])
            if conn.greeted:
                self._packet(conn, packet)
            else:
                self._greet(conn, packet)

    def _greet(self, conn: _Connection, packet: bytes) -> None:
        try:
            version = handshake_version(packet)
        except WireError as exc:
            log.warning("bad handshake from a sandbox: %s", exc)
            self._drop(conn)
            return
        conn.sock.send(handshake())
        conn.greeted = True
        log.info("handshake with a sandbox's sink (version %d)", version)

    def _packet(self, conn: _Connection, packet: bytes) -> None:
        if self.record is not None:
            self.record.write(packet.hex() + "\n")
            self.record.flush()
        try:
            point = decode(packet)
        except WireError as exc:
            self.undecodable += 1
            log.warning("undecodable packet (%d so far): %s", self.undecodable, exc)
            return
        if point is None:
            return
        if not point.container_id:
            self.unattributed += 1
            return
        if point.container_id not in conn.containers:
            conn.containers.add(point.container_id)
        self.store.record(point, conn.dropped)
        if point.dropped > conn.dropped:
            conn.dropped = point.dropped
            self.store.note_dropped(conn.containers, point.dropped)


def http_app(collector: Collector) -> web.Application:
    """`GET /v1/containers/<id>` (the summary, 404 when unknown), `GET /v1/runs/<run key>` (the same, of the
    container started with that run key) and `GET /healthz`."""

    def answer(summary: SyscallSummary | None) -> web.Response:
        if summary is None:
            return web.json_response({"error": "no trace points from this container"}, status=404)
        return web.json_response(text=summary.model_dump_json(by_alias=True))

    async def container(request: web.Request) -> web.Response:
        collector.drain()
        return answer(collector.store.get(request.match_info["container_id"]))

    async def run(request: web.Request) -> web.Response:
        collector.drain()
        return answer(collector.store.get_run(request.match_info["key"]))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "connections": collector.connections,
                "containers": len(collector.store),
                "undecodable": collector.undecodable,
                "unattributed": collector.unattributed,
            }
        )

    app = web.Application()
    app.router.add_get("/v1/containers/{container_id}", container)
    app.router.add_get("/v1/runs/{key}", run)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(
    socket_path: Path,
    host: str,
    port: int,
    *,
    ttl: float = DEFAULT_TTL_SECONDS,
    max_containers: int = DEFAULT_MAX_CONTAINERS,
    record: TextIO | None = None,
) -> None:
    """Run the collector and its HTTP API until SIGTERM or SIGINT."""
    store = SummaryStore(ttl=ttl, max_containers=max_containers)
    collector = Collector(store, socket_path, record)
    collector.start()
    runner = web.AppRunner(http_app(collector), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("serving summaries on http://%s:%d/v1/containers/<id>", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=min(ttl, 60.0))
        store.expire()
    await runner.cleanup()
    collector.close()


def monitor_base_url(template: str, host_ip: str) -> str:
    """The collector's base URL for a pod on the node `host_ip` (LEVEL5_SYSCALL_MONITOR_URL's `{hostIP}`)."""
    return template.replace("{hostIP}", host_ip)


def container_id_of(status_id: str) -> str:
    """The bare container id of `containerStatuses[].containerID` ("containerd://<id>")."""
    return status_id.partition("://")[2] or status_id


SUMMARY_TIMEOUT_SECONDS = 5.0
"""How long the operator waits for the system-call monitor's summary of one program."""


class SyscallMonitorClient:
    """The operator's client of the collectors: one HTTP connection pool, made at startup and closed at
    cleanup, shared by every task's run (a session per call would open a connection pool per iteration).
    `url_template` is LEVEL5_SYSCALL_MONITOR_URL, with `{hostIP}` standing for the pod's node."""

    def __init__(self, url_template: str, timeout_seconds: float = SUMMARY_TIMEOUT_SECONDS) -> None:
        self.url_template = url_template
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_seconds))

    async def summary(self, host_ip: str, container_id: str) -> SyscallSummary | None:
        """The summary of one container, or None when the collector is unreachable, fails or has nothing
        for it (then monitoring was unavailable for that run: say so, never assume it was clean).
        `container_id` may carry the runtime prefix ("containerd://...")."""
        return await self._get(host_ip, f"containers/{quote(container_id_of(container_id), safe='')}")

    async def run_summary(self, host_ip: str, key: str) -> SyscallSummary | None:
        """The summary of the container started with this run key (a streamed pod's program), as `summary`."""
        return await self._get(host_ip, f"runs/{quote(key, safe='')}")

    async def _get(self, host_ip: str, path: str) -> SyscallSummary | None:
        url = f"{monitor_base_url(self.url_template, host_ip).rstrip('/')}/v1/{path}"
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    if response.status != 404:
                        log.warning("syscall monitor %s answered %d", url, response.status)
                    return None
                return SyscallSummary.model_validate_json(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValidationError) as exc:
            log.warning("syscall monitor %s unavailable: %r", url, exc)
            return None

    async def close(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> SyscallMonitorClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _some(items: list[str], total: int) -> str:
    shown = ", ".join(items[:3])
    return shown if total <= 3 else f"{shown} and {total - 3} more"


def _expected_open(record: OpenRecord, readable: tuple[str, ...], writable: tuple[str, ...]) -> bool:
    if record.write:
        return _under(record.path, writable + HARMLESS_WRITES)
    # Listing a directory above an allowed path is how imports and path walks get there ("/" for the cwd
    # on sys.path, "/usr/local/lib/python3.11/dist-packages" that does not hold anything).
    ancestor = "O_DIRECTORY" in record.flags and any(_under(root, (record.path,)) for root in readable)
    return ancestor or _under(record.path, readable)


def syscall_anomalies(
    summary: SyscallSummary,
    *,
    expected_execs: int,
    read_roots: Iterable[str],
    write_roots: Iterable[str],
    expected_connects: Mapping[str, int] | None = None,
) -> list[str]:
    """Unexpected activity in a summary, one sentence per kind, each starting with its kind:
    MonitoringIncomplete, ProcessStart, Connect, Socket, FileAccess, Ptrace, Denied.

    `expected_execs` is how many processes the run itself starts (0 for a program that is the container's
    own process); the image's libraries' own (LIBRARY_EXECS) do not count. Reading `read_roots`,
    `write_roots` and the interpreter's own files (SYSTEM_READ_ROOTS) is expected, and so is listing a
    directory above them; writing only under `write_roots`. `expected_connects` are connection attempts the
    run itself makes (the runner's isolation probe: address -> attempts, each with its own socket); only
    attempts beyond them count."""
    found: list[str] = []
    if summary.dropped:
        found.append(f"MonitoringIncomplete: the sandbox's trace sink dropped {summary.dropped} points")
    if not summary.container_started:
        found.append("MonitoringIncomplete: the container's start was not observed")
    if summary.truncated:
        found.append("MonitoringIncomplete: more distinct calls than the summary lists (counts are exact)")
    library = sum(e.count for e in summary.execs if (e.path, tuple(e.argv)) in LIBRARY_EXECS)
    started = max(summary.exec_count, summary.forks, 1 if summary.exec_attempts else 0) - library
    if started > expected_execs:
        execs = [
            " ".join(e.argv) or e.path for e in summary.execs if (e.path, tuple(e.argv)) not in LIBRARY_EXECS
        ]
        found.append(
            f"ProcessStart: {started} processes started, expected at most {expected_execs}"
            + (f": {_some(execs, len(execs))}" if execs else "")
        )
    expected = dict(expected_connects or {})
    probed = sum(min(c.count, expected.get(c.address, 0)) for c in summary.connects)
    if summary.connect_count > probed:
        connects = [
            f"{c.address} ({c.errno or 'connected'})"
            for c in summary.connects
            if c.count > expected.get(c.address, 0)
        ]
        extra = summary.connect_count - probed
        found.append(f"Connect: {extra} connect attempts: {_some(connects, len(connects))}")
    if summary.socket_count > probed:
        sockets = [f"{s.domain} {s.type}" for s in summary.sockets]
        extra = summary.socket_count - probed
        found.append(f"Socket: {extra} sockets created: {_some(sockets, len(sockets))}")
    writable = tuple(write_roots)
    readable = (*read_roots, *writable, *SYSTEM_READ_ROOTS)
    outside = [
        f"{o.path} ({'write' if o.write else 'read'}{', ' + o.errno if o.errno else ''})"
        for o in summary.opens
        if not _expected_open(o, readable, writable)
    ]
    if outside:
        found.append(
            f"FileAccess: {len(outside)} files opened outside the allowed paths: "
            + _some(outside, len(outside))
        )
    if summary.ptrace_count:
        ptraces = [f"request {p.request} pid {p.pid} ({p.errno or 'allowed'})" for p in summary.ptraces]
        found.append(f"Ptrace: {summary.ptrace_count} ptrace calls: {_some(ptraces, len(ptraces))}")
    if summary.denied_count:
        denied = [f"{d.syscall} {d.target} ({d.errno})" for d in summary.denied]
        found.append(f"Denied: {summary.denied_count} calls refused: {_some(denied, len(denied))}")
    return found
