"""The system-call summary of one sandbox container, as the collector (level5.observability.syscalls)
serves it and the operator reads it: pydantic models, camelCase JSON."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

RUN_KEY_FLAG = "--run-key"
"""The argument of a streamed pod's program runner (sandbox-image/warm.py) that carries its run key: gVisor's
`container/start` point reports the container's arguments, so the collector can name the container by the
key the operator gave the pod, before the kubelet has reported the container's id (up to a second later)."""


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class _Record(_Model):
    count: int = Field(default=1, description="How many identical calls this record stands for.")


class _Result(_Record):
    errno: str = Field(default="", description="The error name (ECONNREFUSED...), empty on success.")


class ExecRecord(_Record):
    """A program executed: the binary gVisor loaded and the argv it got."""

    path: str
    argv: list[str]


class ConnectRecord(_Result):
    """A connect(2) to `address` ("10.96.0.1:443", "[::1]:80", "unix:/path", "unix:@abstract")."""

    address: str


class SocketRecord(_Result):
    """A socket(2) of this domain, type and protocol."""

    domain: str
    type: str
    protocol: int


class OpenRecord(_Result):
    """A file opened; `write` when it was opened for writing, creating or truncating."""

    path: str
    flags: list[str]
    write: bool


class PtraceRecord(_Result):
    """A ptrace(2) call: the request number and the target pid."""

    request: int
    pid: int


class DeniedCall(_Record):
    """A call the sandbox refused with EPERM, EACCES or EROFS."""

    syscall: str
    target: str
    errno: str


class SyscallSummary(_Model):
    """What one container did at the system-call level, as gVisor reported it from outside the sandbox.

    The lists hold distinct records (with a count each) up to a cap; the *_count fields count every call,
    and `truncated` says a list hit its cap. `dropped` counts trace points the sandbox's sink could not
    deliver while this container ran; gVisor counts them per sandbox, so they may belong to another
    container of the same pod, but any drop means this summary may be incomplete."""

    container_id: str
    first_seen: float = Field(description="Unix time of the first point of this container.")
    last_seen: float = Field(description="Unix time of its latest point.")
    container_started: bool = Field(
        default=False, description="The container's start was observed, so the summary covers all of it."
    )
    points: int = 0
    dropped: int = 0
    exec_count: int = Field(default=0, description="Programs executed (successful execve/execveat).")
    exec_attempts: int = Field(
        default=0, description="execve/execveat calls, failed ones included (a PATH search tries several)."
    )
    forks: int = Field(default=0, description="New processes (clone/fork/vfork without CLONE_THREAD).")
    execs: list[ExecRecord] = Field(default_factory=list)
    connect_count: int = 0
    connects: list[ConnectRecord] = Field(default_factory=list)
    socket_count: int = 0
    sockets: list[SocketRecord] = Field(default_factory=list)
    open_count: int = Field(default=0, description="Every open, system reads included.")
    system_opens: int = Field(default=0, description="Reads under SYSTEM_READ_ROOTS, counted, not listed.")
    opens: list[OpenRecord] = Field(default_factory=list)
    ptrace_count: int = 0
    ptraces: list[PtraceRecord] = Field(default_factory=list)
    denied_count: int = 0
    denied: list[DeniedCall] = Field(default_factory=list)
    truncated: bool = False
