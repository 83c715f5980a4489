"""The system-call collector on real gVisor trace points (tests/unit/data/syscall_monitor, recorded from the
local cluster's runsc), its summaries and limits, its socket and HTTP ends, the client and the anomalies."""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from level5.core.config import OperatorConfig
from level5.observability.syscall_wire import (
    MessageType,
    Point,
    WireError,
    decode,
    handshake,
    handshake_version,
    iter_recording,
)
from level5.observability.syscalls import (
    MAX_RECORDS,
    Collector,
    SummaryStore,
    SyscallMonitorClient,
    container_id_of,
    format_address,
    http_app,
    monitor_base_url,
    run_key,
    syscall_anomalies,
)
from level5.sandbox.syscall_summary import RUN_KEY_FLAG, SyscallSummary
from level5.tools.cli import main

DATA = Path(__file__).parent / "data" / "syscall_monitor"
IDS = {
    "print_ok": "15d541b7662f4ce9e02a8d15c4c846c1da6120fb25d1cb574e6a0c1af09e9d49",
    "spawn_connect": "8da38228157908122599b104926329f681a3a4f743a68242a0f7cb6494cc987c",
    "denied": "9806777cb9db98bbc8eea5ee6f99ce77bc0ee292b3e1eb934cab981e63812811",
    "numpy_pandas": "2d02702c418982a99309523327c2c469c11de9403f2d3535b3dddfb49e7aff08",
}
ROOTS = {"read_roots": ("/data", "/code"), "write_roots": ("/output",)}


def packets(name: str) -> list[bytes]:
    with gzip.open(DATA / f"{name}.hex.gz", "rt") as handle:
        return list(iter_recording(handle.read()))


def summarise(name: str, store: SummaryStore | None = None) -> SyscallSummary:
    store = store or SummaryStore()
    for packet in packets(name):
        point = decode(packet)
        assert point is not None
        store.record(point, point.dropped)
    summary = store.get(IDS[name])
    assert summary is not None
    return summary


def test_every_recorded_packet_decodes_to_its_container() -> None:
    for name, container_id in IDS.items():
        points = [decode(p) for p in packets(name)]
        assert all(p is not None and p.container_id == container_id for p in points), name
        assert all(p is not None and p.dropped == 0 for p in points)


def test_decoding_the_container_start_and_an_open() -> None:
    first, *rest = (decode(p) for p in packets("print_ok"))
    assert first is not None and first.type is MessageType.CONTAINER_START
    assert first.argv == ("python3", "-c", "print('ok')")
    opens = [p for p in rest if p is not None and p.type is MessageType.SYSCALL_OPEN]
    assert opens and all(p.exited and p.sysno == 257 for p in opens)  # openat, with a return value
    ld_cache = opens[0]
    assert (ld_cache.path, ld_cache.fd, ld_cache.errno) == ("/etc/ld.so.cache", -100, 0)  # AT_FDCWD


def test_wire_errors_and_forward_compatibility() -> None:
    packet = packets("spawn_connect")[-1]
    with pytest.raises(WireError):
        decode(packet[:5])  # shorter than the header
    with pytest.raises(WireError):
        decode(struct.pack("<HHI", 4, 10, 0) + packet[8:])  # header size below the header's own
    with pytest.raises(WireError):
        decode(packet[:8] + b"\x08\xff")  # a varint cut off
    assert decode(struct.pack("<HHI", 8, 34, 0)) is None  # a write point: not subscribed, skipped
    # A field this decoder does not know (number 15, varint) is skipped, as protobuf requires.
    newer = decode(packet + bytes([15 << 3, 1]))
    assert newer == decode(packet)
    assert handshake_version(handshake()) == 1
    assert handshake() == b"\x08\x01"  # what the sink sends: Handshake{version: 1}


def test_print_ok_shows_no_process_no_network_and_no_anomaly() -> None:
    summary = summarise("print_ok")
    assert summary.container_started
    assert (summary.exec_count, summary.exec_attempts, summary.forks) == (0, 0, 0)
    assert (summary.connect_count, summary.socket_count, summary.ptrace_count) == (0, 0, 0)
    assert summary.open_count == 29
    assert syscall_anomalies(summary, expected_execs=0, **ROOTS) == []


def test_a_child_process_and_a_connect_are_summarised_and_flagged() -> None:
    summary = summarise("spawn_connect")
    assert [(e.path, e.argv) for e in summary.execs] == [("/usr/bin/echo", ["/bin/echo", "child", "process"])]
    assert (summary.exec_count, summary.forks) == (1, 1)
    assert [(c.address, c.errno) for c in summary.connects] == [("10.244.0.1:9", "EINPROGRESS")]
    assert [(s.domain, s.type) for s in summary.sockets] == [("AF_INET", "SOCK_STREAM")]
    kinds = [a.split(":")[0] for a in syscall_anomalies(summary, expected_execs=0, **ROOTS)]
    assert kinds == ["ProcessStart", "Connect", "Socket"]
    # The same child is expected when the run itself starts one process.
    assert "ProcessStart" not in str(syscall_anomalies(summary, expected_execs=1, **ROOTS))


def test_ptrace_denied_opens_and_a_fork() -> None:
    summary = summarise("denied")
    assert [(p.request, p.pid, p.errno) for p in summary.ptraces] == [(16, 1, "EPERM")]  # PTRACE_ATTACH
    assert {(d.syscall, d.target, d.errno) for d in summary.denied} == {
        ("ptrace", "request 16 pid 1", "EPERM"),
        ("open", "/etc/shadow", "EACCES"),
        ("open", "/etc/passwd", "EACCES"),
    }
    opens = {o.path: o for o in summary.opens}
    assert opens["/etc/passwd"].flags == ["O_WRONLY", "O_CREAT", "O_APPEND"] and opens["/etc/passwd"].write
    assert opens["/tmp/x"].write and not opens["/tmp/x"].errno  # gVisor's /tmp is writable
    assert (summary.forks, summary.exec_count) == (1, 0)
    anomalies = syscall_anomalies(summary, expected_execs=0, **ROOTS)
    assert [a.split(":")[0] for a in anomalies] == ["ProcessStart", "FileAccess", "Ptrace", "Denied"]
    assert "/etc/shadow (read, EACCES)" in anomalies[1] and "/tmp/x (write)" in anomalies[1]


def test_numpy_and_pandas_imports_are_not_anomalies() -> None:
    summary = summarise("numpy_pandas")
    assert summary.open_count == 1249 and summary.system_opens > 1000
    assert [e.argv for e in summary.execs] == [["uname", "-p"]] and summary.exec_attempts == 4
    assert not summary.truncated
    assert syscall_anomalies(summary, expected_execs=0, **ROOTS) == []


def test_opens_outside_the_roots_and_harmless_ones() -> None:
    summary = summarise("print_ok").model_copy(deep=True)
    extra = summarise("denied").opens
    summary.opens += [o for o in extra if o.path in ("/tmp/x", "/dev/null")]
    assert syscall_anomalies(summary, expected_execs=0, read_roots=(), write_roots=("/tmp",)) == []


def point(container_id: str = "c1", **fields: object) -> Point:
    values: dict[str, object] = {"type": MessageType.SYSCALL_OPEN, "dropped": 0, "container_id": container_id}
    return Point(**(values | fields))  # type: ignore[arg-type]


def test_records_are_capped_and_counted_and_truncation_is_an_anomaly() -> None:
    store = SummaryStore()
    for n in range(MAX_RECORDS + 10):
        address = struct.pack("<H", socket.AF_INET) + struct.pack(">H", n) + bytes(12)
        store.record(point(type=MessageType.SYSCALL_CONNECT, exited=True, address=address), 0)
    store.record(point(type=MessageType.SYSCALL_CONNECT, exited=True, address=address), 0)
    summary = store.get("c1")
    assert summary is not None
    assert summary.connect_count == MAX_RECORDS + 11 and len(summary.connects) == MAX_RECORDS
    assert summary.truncated
    assert any(
        a.startswith("MonitoringIncomplete") for a in syscall_anomalies(summary, expected_execs=0, **ROOTS)
    )


def test_ttl_and_container_cap() -> None:
    now = [1000.0]
    store = SummaryStore(ttl=60, max_containers=2, clock=lambda: now[0])
    store.record(point("a"), 0)
    store.record(point("b"), 0)
    now[0] = 1030
    store.record(point("a"), 0)
    now[0] = 1040
    store.record(point("c"), 0)  # evicts b, the least recently active
    assert store.get("b") is None and len(store) == 2
    now[0] = 1095
    assert store.get("a") is None  # 65 s since its latest point
    assert store.get("c") is not None


def test_a_container_started_with_a_run_key_is_found_by_it() -> None:
    now = [1000.0]
    store = SummaryStore(ttl=60, clock=lambda: now[0])
    warm = ("python3", "-I", "/opt/level5/warm.py", "program", "--report", "/report")
    store.record(point("p", type=MessageType.CONTAINER_START, argv=(*warm, RUN_KEY_FLAG, "k1")), 0)
    store.record(point("c", type=MessageType.CONTAINER_START, argv=warm), 0)  # the checks: no key
    # The program's own processes cannot name a run: only a container's start point does.
    store.record(point("c", type=MessageType.SENTRY_EXEC, argv=("sh", RUN_KEY_FLAG, "k2")), 0)
    store.record(point("p"), 0)
    by_key = store.get_run("k1")
    assert by_key is not None and by_key.container_id == "p" and by_key == store.get("p")
    assert by_key.open_count == 1 and store.get_run("k2") is None and store.get_run("p") is None
    assert run_key(("warm.py", RUN_KEY_FLAG)) is None  # a flag without its value
    now[0] = 1100
    assert store.get_run("k1") is None  # expired with its container


def test_drops_count_from_the_containers_first_point() -> None:
    store = SummaryStore()
    store.record(point("old"), 0)
    store.note_dropped(["old"], 5)
    store.record(point("new"), 5)
    store.note_dropped(["old", "new"], 7)
    old, new = store.get("old"), store.get("new")
    assert old is not None and new is not None
    assert (old.dropped, new.dropped) == (7, 2)
    assert "dropped 2 points" in syscall_anomalies(new, expected_execs=0, **ROOTS)[0]


def test_addresses_in_words() -> None:
    inet6 = struct.pack("<H", socket.AF_INET6) + struct.pack(">H", 443) + bytes(4) + bytes(15) + b"\x01"
    assert format_address(inet6) == "[::1]:443"
    assert format_address(struct.pack("<H", socket.AF_UNIX) + b"/run/x.sock\0") == "unix:/run/x.sock"
    assert format_address(struct.pack("<H", socket.AF_UNIX) + b"\0hidden") == "unix:@hidden"
    assert format_address(b"") == "(no address)"
    assert container_id_of("containerd://abc") == "abc" and container_id_of("abc") == "abc"


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    # A short path: unix socket paths are limited to 108 bytes.
    with tempfile.TemporaryDirectory(prefix="l5mon-", dir="/tmp") as directory:
        yield Path(directory)


@pytest.fixture
async def collector(socket_dir: Path) -> AsyncIterator[tuple[Collector, str]]:
    collector = Collector(SummaryStore(), socket_dir / "sink.sock")
    collector.start()
    runner = web.AppRunner(http_app(collector))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield collector, f"http://127.0.0.1:{port}"
    await runner.cleanup()
    collector.close()


# The collector fixture's reader callbacks live on the session loop, so the tests run there too.
@pytest.mark.asyncio(loop_scope="session")
async def test_a_sandbox_sink_over_the_socket_and_the_summary_over_http(
    collector: tuple[Collector, str],
) -> None:
    monitor, url = collector
    loop = asyncio.get_running_loop()
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sink.setblocking(False)
    await loop.sock_connect(sink, str(monitor.socket_path))
    await loop.sock_sendall(sink, handshake())
    assert handshake_version(await loop.sock_recv(sink, 64)) == 1
    for packet in packets("spawn_connect"):
        await loop.sock_sendall(sink, packet)
    # No wait: the request itself drains what the socket already holds.
    async with SyscallMonitorClient(url + "/", 5) as client:
        summary = await client.summary("unused", "containerd://" + IDS["spawn_connect"])
        assert await client.summary("unused", IDS["print_ok"]) is None  # 404: nothing from it
        assert await client.run_summary("unused", "k1") is None  # no container started with it yet
        monitor.store.record(
            Point(MessageType.CONTAINER_START, 0, IDS["spawn_connect"], argv=("warm.py", RUN_KEY_FLAG, "k1")),
            0,
        )
        by_key = await client.run_summary("unused", "k1")
        assert by_key is not None and by_key.container_id == IDS["spawn_connect"]
    assert summary == summarise("spawn_connect").model_copy(
        update={"first_seen": summary.first_seen, "last_seen": summary.last_seen}  # type: ignore[union-attr]
    )
    assert monitor.connections == 1
    sink.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_the_client_says_none_when_the_monitor_is_unreachable_or_wrong(socket_dir: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    async with SyscallMonitorClient("http://{hostIP}:" + str(port), 2) as client:
        assert await client.summary("127.0.0.1", "abc") is None

    async def garbage(_: web.Request) -> web.Response:
        return web.json_response({"containerId": 3})

    app = web.Application()
    app.router.add_get("/v1/containers/{id}", garbage)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with SyscallMonitorClient("http://{hostIP}:" + str(port), 2) as client:
        assert await client.summary("127.0.0.1", "abc") is None
    await runner.cleanup()


def test_operator_setting_and_cli() -> None:
    assert OperatorConfig.from_env({}).syscall_monitor_url is None
    assert OperatorConfig.from_env({"LEVEL5_SYSCALL_MONITOR_URL": ""}).syscall_monitor_url is None
    template = OperatorConfig.from_env(
        {"LEVEL5_SYSCALL_MONITOR_URL": "http://{hostIP}:18090"}
    ).syscall_monitor_url
    assert template is not None and monitor_base_url(template, "10.0.0.7") == "http://10.0.0.7:18090"
    with pytest.raises(SystemExit, match="ADDR:PORT"):
        main(["syscall-monitor", "--socket", "/tmp/x.sock", "--listen", "18090"])


@pytest.mark.asyncio(loop_scope="session")
async def test_a_second_collector_refuses_a_live_socket_and_replaces_a_stale_one(
    collector: tuple[Collector, str], socket_dir: Path
) -> None:
    monitor, _ = collector
    with pytest.raises(RuntimeError, match="another collector"):
        Collector(SummaryStore(), monitor.socket_path).start()
    stale = socket_dir / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as dead:
        dead.bind(str(stale))  # the file stays behind, with nothing listening
    second = Collector(SummaryStore(), stale)
    second.start()
    assert stale.stat().st_mode & 0o777 == 0o600
    second.close()
    assert not stale.exists()
