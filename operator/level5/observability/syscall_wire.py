"""Decoding of gVisor's runtime-monitoring messages (the `remote` seccheck sink's wire format).

gVisor's sentry reports trace points (pkg/sentry/seccheck) to a sink. The `remote` sink
(pkg/sentry/seccheck/sinks/remote) connects to a unix SOCK_SEQPACKET socket, sends a `Handshake` protobuf
(field 1: version), waits for the collector's own `Handshake`, and then sends one packet per point: an
8-byte little-endian header (header size u16, message type u16, dropped count u32, see
sinks/remote/wire/wire.go), then the point's protobuf message (pkg/sentry/seccheck/points/*.proto). The
dropped count is how many points the sink had to throw away so far, because the collector's queue was full.

Why a hand-written protobuf decoder rather than the `protobuf` package: the gVisor commit the cluster pins
ships the points only as generated Go (points_go_proto/*.pb.go, no .proto files), so the package would
need descriptors rebuilt by hand or protoc in the build, plus a new dependency, to read about twenty scalar
and string fields of eight messages. The protobuf wire format itself is small and stable (varints and
length-delimited fields), and every field number below is copied from the `protobuf:"...,N,..."` tags of
those .pb.go files at GVISOR_VERSION (cluster/lib.sh). Fields this module does not know are skipped, as
protobuf requires, so newer gVisor versions that add fields still decode.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import IntEnum

HANDSHAKE_VERSION = 1
"""wire.CurrentVersion: the protocol version the collector announces."""
_HEADER = struct.Struct("<HHI")


class MessageType(IntEnum):
    """pb.MessageType values of the points this collector subscribes to (common.proto)."""

    CONTAINER_START = 1
    SENTRY_CLONE = 2
    SENTRY_EXEC = 3
    SYSCALL_RAW = 6
    SYSCALL_OPEN = 7
    SYSCALL_CONNECT = 10
    SYSCALL_EXECVE = 11
    SYSCALL_SOCKET = 12


class WireError(ValueError):
    """A packet that is not a well-formed header and protobuf message."""


Value = int | bytes


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def fields(buf: bytes) -> dict[int, list[Value]]:
    """The fields of one protobuf message by number: varints and fixed ints as int, the rest as bytes."""
    out: dict[int, list[Value]] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        value: Value
        if wire_type == 0:
            value, pos = _varint(buf, pos)
        elif wire_type == 1:
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire_type == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire_type == 5:
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        else:
            raise WireError(f"unsupported wire type {wire_type} (field {number})")
        if pos > len(buf):
            raise WireError(f"field {number} runs past the end of the message")
        out.setdefault(number, []).append(value)
    return out


class _Message:
    """Typed access to a decoded message; absent fields read as protobuf's defaults."""

    def __init__(self, buf: bytes) -> None:
        self._fields = fields(buf)

    def integer(self, number: int, *, signed: bool = False) -> int:
        values = self._fields.get(number)
        value = values[-1] if values else 0
        if not isinstance(value, int):
            raise WireError(f"field {number} is not an integer")
        # int32/int64 negatives are 64-bit two's complement varints.
        return value - (1 << 64) if signed and value >= 1 << 63 else value

    def raw(self, number: int) -> bytes:
        values = self._fields.get(number)
        value = values[-1] if values else b""
        if not isinstance(value, bytes):
            raise WireError(f"field {number} is not length-delimited")
        return value

    def text(self, number: int) -> str:
        return self.raw(number).decode("utf-8", "replace")

    def texts(self, number: int) -> tuple[str, ...]:
        return tuple(
            v.decode("utf-8", "replace") for v in self._fields.get(number, []) if isinstance(v, bytes)
        )

    def message(self, number: int) -> _Message:
        return _Message(self.raw(number))

    def has(self, number: int) -> bool:
        return number in self._fields


def handshake(version: int = HANDSHAKE_VERSION) -> bytes:
    """A Handshake message (field 1, varint)."""
    return bytes([0x08]) + _encode_varint(version)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def handshake_version(buf: bytes) -> int:
    """The version in a Handshake message from the sink."""
    return _Message(buf).integer(1)


@dataclass(frozen=True)
class Point:
    """One trace point, flattened to what the summaries use. `exited` tells whether the point carries the
    syscall's outcome (the exit points do); then `errno` is 0 on success."""

    type: MessageType
    dropped: int
    container_id: str
    cwd: str = ""
    exited: bool = False
    errno: int = 0
    sysno: int = 0
    path: str = ""
    fd: int = 0
    fd_path: str = ""
    argv: tuple[str, ...] = ()
    flags: int = 0
    address: bytes = b""
    domain: int = 0
    socket_type: int = 0
    protocol: int = 0
    args: tuple[int, ...] = ()


def header(packet: bytes) -> tuple[int, int, bytes]:
    """Message type, dropped count and payload of one packet from the sink."""
    if len(packet) < _HEADER.size:
        raise WireError(f"packet of {len(packet)} bytes is shorter than the header")
    size, message_type, dropped = _HEADER.unpack_from(packet)
    if size < _HEADER.size or size > len(packet):
        raise WireError(f"bad header size {size}")
    return message_type, dropped, packet[size:]


# Field numbers shared by every syscall message (syscall.proto): context_data 1, exit 2, sysno 3.
_CTX, _EXIT, _SYSNO = 1, 2, 3
# ContextData (common.proto).
_CTX_CONTAINER_ID, _CTX_CWD = 6, 8
# Exit: result 1 (unused here), errorno 2.
_EXIT_ERRNO = 2


def decode(packet: bytes) -> Point | None:
    """The point in one packet, or None for a message type this collector does not read."""
    message_type, dropped, payload = header(packet)
    try:
        kind = MessageType(message_type)
    except ValueError:
        return None
    msg = _Message(payload)
    ctx = msg.message(_CTX)
    point = Point(
        type=kind, dropped=dropped, container_id=ctx.text(_CTX_CONTAINER_ID), cwd=ctx.text(_CTX_CWD)
    )
    if kind is MessageType.CONTAINER_START:  # Start: id 2, cwd 3, args 4
        return replace(point, container_id=msg.text(2) or point.container_id, argv=msg.texts(4))
    if kind is MessageType.SENTRY_CLONE:  # CloneInfo: flags 6
        return replace(point, flags=msg.integer(6))
    if kind is MessageType.SENTRY_EXEC:  # ExecveInfo: binary_path 2, argv 3
        return replace(point, path=msg.text(2), argv=msg.texts(3))
    exit_msg = msg.message(_EXIT)
    point = replace(
        point,
        exited=msg.has(_EXIT),
        errno=exit_msg.integer(_EXIT_ERRNO, signed=True),
    )
    if kind is MessageType.SYSCALL_RAW:  # Syscall: sysno 4, arg1..arg6 5..10
        return replace(point, sysno=msg.integer(4), args=tuple(msg.integer(n) for n in range(5, 11)))
    point = replace(point, sysno=msg.integer(_SYSNO))
    if kind is MessageType.SYSCALL_SOCKET:  # Socket: domain 4, type 5, protocol 6
        return replace(
            point,
            domain=msg.integer(4, signed=True),
            socket_type=msg.integer(5, signed=True),
            protocol=msg.integer(6, signed=True),
        )
    # Open, Connect and Execve share fd 4 and fd_path 5.
    point = replace(point, fd=msg.integer(4, signed=True), fd_path=msg.text(5))
    if kind is MessageType.SYSCALL_OPEN:  # Open: pathname 6, flags 7
        return replace(point, path=msg.text(6), flags=msg.integer(7))
    if kind is MessageType.SYSCALL_CONNECT:  # Connect: address 6
        return replace(point, address=msg.raw(6))
    # Execve: pathname 6, argv 7, flags 9.
    return replace(point, path=msg.text(6), argv=msg.texts(7), flags=msg.integer(9))


def iter_recording(text: str) -> Iterator[bytes]:
    """The packets of a recording (`level5 syscall-monitor --record`): one hex-encoded packet a line."""
    for line in text.splitlines():
        if line.strip():
            yield bytes.fromhex(line.strip())
