"""level5 runtime policy: the static review's twin inside the interpreter that runs a generated program.

Started by the runner in the program's container as
    python3 -I -u /opt/level5/policy.py --policy /code/policy.json --report-fd N /code/main.py
it installs a PEP 578 audit hook (sys.addaudithook) and only then runs the program's first line. The hook
sees every audited action however the code reaches it (directly, through an allowed library, through
reflection) and stops the program at the first one the policy denies: it writes one JSON line (rule id, the
event, what was attempted, the program line) to the report descriptor and ends the process with
os._exit(EXIT_POLICY_VIOLATION), so no `try`/`except` in the program can swallow it.

Standard library only (the sandbox image has python3.11). RestrictedPython was weighed: it guards code by
compiling it with its own AST transformer, so it would stop working as soon as a program reached code it
did not compile (a library, a string it evals), and it does not know about files, processes or sockets at
all; the audit hook sees the actions themselves, which is what this layer is for.

What an in-process hook cannot do: it runs in the same interpreter as the program, so native code that is
already loaded can skip it, and code that reaches the interpreter's internals (frames, the garbage
collector) could in principle disarm it; the rules below deny those routes, the static review denies them
before anything runs, and the gVisor pod stays the boundary either way.

Who acts: each frame on the stack is classified by its file. The installed interpreter and its libraries
(on a read-only root filesystem) are trusted; everything else (the program, code compiled from strings,
files the program wrote) is the program. Code that libraries run while they are imported (a frame of the
import system, or a library's module body) is the library's own initialisation.
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable
from types import CodeType, FrameType, ModuleType
from typing import Any

EXIT_POLICY_VIOLATION = 86
"""The program's exit code when the policy stopped it (the runner also gets the report)."""

# Rule ids, each with what it stops. The operator keeps the same table (level5.sandbox.result.RUNTIME_RULES; a
# unit test checks both are equal).
RULES = {
    "L5-RT-IMPORT": "importing a module the task does not allow",
    "L5-RT-READ": "reading a path outside the task's read paths",
    "L5-RT-WRITE": "writing, linking or changing a path outside the task's write paths",
    "L5-RT-PROCESS": "starting a process",
    "L5-RT-NETWORK": "opening a socket or a network connection",
    "L5-RT-NATIVE": "loading or calling native code, or reading raw memory",
    "L5-RT-EXEC": "compiling or executing a string, or code from outside the installed libraries",
    "L5-RT-DESERIALISE": "deserialising code or objects (marshal, pickle, code objects)",
    "L5-RT-INTROSPECT": "reaching interpreter frames, code objects or the garbage collector",
    "L5-RT-SIGNAL": "sending a signal to a process",
    "L5-RT-HOOK": "installing an audit, trace or profile hook",
    "L5-RT-LIMITS": "changing resource limits or mapping memory",
    "L5-RT-UNJUDGED": "an action the policy failed to judge (it fails closed)",
}

# Actions nothing in a task needs once its program runs, whoever calls them.
ALWAYS_DENIED = {
    "socket.__new__": "L5-RT-NETWORK",
    "socket.connect": "L5-RT-NETWORK",
    "socket.bind": "L5-RT-NETWORK",
    "socket.getaddrinfo": "L5-RT-NETWORK",
    "socket.gethostbyname": "L5-RT-NETWORK",
    "socket.gethostbyaddr": "L5-RT-NETWORK",
    "socket.getnameinfo": "L5-RT-NETWORK",
    "socket.sendto": "L5-RT-NETWORK",
    "socket.sendmsg": "L5-RT-NETWORK",
    "urllib.Request": "L5-RT-NETWORK",
    "http.client.connect": "L5-RT-NETWORK",
    "webbrowser.open": "L5-RT-NETWORK",
    "ftplib.connect": "L5-RT-NETWORK",
    "smtplib.connect": "L5-RT-NETWORK",
    "os.kill": "L5-RT-SIGNAL",
    "os.killpg": "L5-RT-SIGNAL",
    "signal.pthread_kill": "L5-RT-SIGNAL",
    "sys.addaudithook": "L5-RT-HOOK",
    "sys.settrace": "L5-RT-HOOK",
    "sys.setprofile": "L5-RT-HOOK",
    "resource.setrlimit": "L5-RT-LIMITS",
    "resource.prlimit": "L5-RT-LIMITS",
    "mmap.__new__": "L5-RT-LIMITS",
    "os.symlink": "L5-RT-WRITE",
    "os.link": "L5-RT-WRITE",
}

# Actions libraries do while they initialise (numpy loads native code through ctypes, pandas runs `uname`,
# the import system unmarshals .pyc files) but the program must not: denied when the program is acting.
DENIED_TO_PROGRAM = {
    # pandas asks `uname -p` through platform.processor() while it is imported
    "subprocess.Popen": "L5-RT-PROCESS",
    "os.system": "L5-RT-PROCESS",
    "os.exec": "L5-RT-PROCESS",
    "os.posix_spawn": "L5-RT-PROCESS",
    "os.spawn": "L5-RT-PROCESS",
    "os.fork": "L5-RT-PROCESS",
    "os.forkpty": "L5-RT-PROCESS",
    "pty.spawn": "L5-RT-PROCESS",
    "ctypes.dlopen": "L5-RT-NATIVE",
    "ctypes.dlsym": "L5-RT-NATIVE",
    "ctypes.dlsym/handle": "L5-RT-NATIVE",
    "ctypes.cdata": "L5-RT-NATIVE",
    "ctypes.cdata/buffer": "L5-RT-NATIVE",
    "ctypes.call_function": "L5-RT-NATIVE",
    "ctypes.string_at": "L5-RT-NATIVE",
    "ctypes.wstring_at": "L5-RT-NATIVE",
    "ctypes.addressof": "L5-RT-NATIVE",
    "marshal.loads": "L5-RT-DESERIALISE",
    "marshal.load": "L5-RT-DESERIALISE",
    "code.__new__": "L5-RT-DESERIALISE",
    "pickle.find_class": "L5-RT-DESERIALISE",
}

# Introspection the standard library does for itself all the time (namedtuple reads its caller's frame,
# traceback printing walks tb_frame): denied only when the program's own line makes the call.
DENIED_DIRECTLY = {
    "sys._getframe": "L5-RT-INTROSPECT",
    "sys._current_frames": "L5-RT-INTROSPECT",
    "sys._current_exceptions": "L5-RT-INTROSPECT",
    "gc.get_objects": "L5-RT-INTROSPECT",
    "gc.get_referrers": "L5-RT-INTROSPECT",
    "gc.get_referents": "L5-RT-INTROSPECT",
}
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "__code__", "__globals__"})

# Path events: (argument positions of the paths, True when the action writes).
PATH_EVENTS: dict[str, tuple[tuple[int, ...], bool]] = {
    "os.listdir": ((0,), False),
    "os.scandir": ((0,), False),
    "os.chdir": ((0,), False),
    "os.listxattr": ((0,), False),
    "os.getxattr": ((0,), False),
    "os.mkdir": ((0,), True),
    "os.rmdir": ((0,), True),
    "os.remove": ((0,), True),
    "os.rename": ((0, 1), True),
    "os.truncate": ((0,), True),
    "os.chmod": ((0,), True),
    "os.chown": ((0,), True),
    "os.chflags": ((0,), True),
    "os.utime": ((0,), True),
    "os.setxattr": ((0,), True),
    "os.removexattr": ((0,), True),
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Files any Python program reads that are neither the task's nor the interpreter's.
SYSTEM_READS = ("/dev/null", "/dev/urandom", "/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo")
SYSTEM_WRITES = ("/dev/null",)
# Modules the interpreter itself imports on behalf of a program's line (codecs, strptime, decimal).
IMPLICIT_MODULES = frozenset({"encodings", "_strptime", "_pydecimal", "_decimal", "_datetime", "_json"})

IMPORT_AGAIN = "level5.import"
"""Raised by guarded_import for modules already loaded, which the interpreter's own `import` event skips."""

UNTRUSTED, STDLIB, LIBRARY, IMPORT_SYSTEM, POLICY = range(5)
"""Who a frame belongs to; POLICY frames (this file: guarded_import, run) are passed over in every walk."""


class Policy:
    """The policy of one run: which modules the program may import and which paths it may touch."""

    def __init__(self, document: dict[str, Any], program: str, here: str) -> None:
        self.program = program
        self.allowed_modules = frozenset(document.get("allowedModules", [])) | IMPLICIT_MODULES
        self.denied_modules = frozenset(document.get("deniedModules", []))
        self.read_roots = tuple(_real(p) for p in document.get("readRoots", []))
        self.write_roots = tuple(_real(p) for p in document.get("writeRoots", []))
        paths = sysconfig.get_paths()
        self.stdlib = tuple({_real(paths["stdlib"]), _real(paths["platstdlib"])})
        # Library directories: the import path as the interpreter starts (isolated mode: no user site, no
        # script directory), minus anything the program may write.
        entries = {_real(p) for p in sys.path if p and os.path.exists(p)}
        entries |= {_real(paths["purelib"]), _real(paths["platlib"])}
        self.libraries = tuple(
            sorted(p for p in entries if not _under(p, self.write_roots) and not _under(p, self.stdlib))
        ) + (_real(here),)
        self.readable = self.read_roots + self.write_roots + self.stdlib + self.libraries + SYSTEM_READS
        self._kinds: dict[str, int] = {}

    def kind(self, filename: str) -> int:
        """Who a frame of this file belongs to."""
        known = self._kinds.get(filename)
        if known is not None:
            return known
        if filename == __file__:
            kind = POLICY
        elif filename.startswith("<frozen importlib._bootstrap"):
            kind = IMPORT_SYSTEM
        elif filename.startswith("<frozen "):
            kind = STDLIB
        elif filename == self.program or not filename.startswith("/"):
            kind = UNTRUSTED
        elif _under(filename, self.libraries):
            kind = LIBRARY  # checked first: a venv's site-packages can sit inside the stdlib directory
        elif _under(filename, self.stdlib):
            kind = STDLIB
        else:
            kind = UNTRUSTED
        self._kinds[filename] = kind
        return kind

    def program_acting(self, frame: FrameType | None) -> FrameType | None:
        """The program's frame when the program is the one acting, else None (a library initialising).

        Walks from the innermost frame outwards: library and stdlib functions called by the program act
        for it; a frame of the import system or a trusted module's body is initialisation."""
        while frame is not None:
            kind = self.kind(frame.f_code.co_filename)
            if kind == UNTRUSTED:
                return frame
            if kind == IMPORT_SYSTEM or frame.f_code.co_name == "<module>":
                return None
            frame = frame.f_back
        return None

    def importer(self, frame: FrameType | None) -> FrameType | None:
        """The frame whose code asked for an import, past the import system and stdlib helpers such as
        importlib.import_module; None when it is a library, or a stdlib module's body importing what it
        needs, or the import system loading its own helpers (_io while it reads a module's source)."""
        innermost = True
        while frame is not None:
            kind = self.kind(frame.f_code.co_filename)
            if kind == UNTRUSTED:
                return frame
            if kind == LIBRARY or (kind == STDLIB and frame.f_code.co_name == "<module>"):
                return None
            if kind == IMPORT_SYSTEM and innermost:
                return None
            innermost = innermost and kind == POLICY
            frame = frame.f_back
        return None

    def readable_path(self, path: str) -> bool:
        return _under(path, self.readable)

    def writable_path(self, path: str) -> bool:
        return _under(path, self.write_roots) or path in SYSTEM_WRITES

    def module_denied(self, name: str) -> bool:
        parts = name.split(".")
        return any(".".join(parts[:i]) in self.denied_modules for i in range(1, len(parts) + 1))


def _real(path: str) -> str:
    return os.path.realpath(path)


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _path_of(value: object) -> str | None:
    """The absolute, symlink-resolved path an event names; None for a file descriptor."""
    if isinstance(value, int) or value is None:
        return None if isinstance(value, int) else _real(os.getcwd())
    raw = os.fsdecode(value) if isinstance(value, (str, bytes, os.PathLike)) else str(value)
    return _real(os.path.join(os.getcwd(), raw))


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


class Hook:
    """The audit hook: decides every event, and ends the process at the first denied one."""

    def __init__(self, policy: Policy, report_fd: int, program_code: CodeType) -> None:
        self.policy = policy
        self.report_fd = report_fd
        self.program_code = program_code
        # The hook's own calls raise events too (sys._getframe): those are not judged, per thread, so a
        # thread of the program is never let through because another one is being judged.
        self.judging = threading.local()

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if getattr(self.judging, "active", False):
            return
        self.judging.active = True
        try:
            rule = self.decide(event, args)
        except Exception:  # a bug here must not let the action through: fail closed
            rule = "L5-RT-UNJUDGED"
        finally:
            self.judging.active = False
        if rule is not None:
            self.violation(rule, event, args)

    def decide(self, event: str, args: tuple[Any, ...]) -> str | None:
        """The rule a denied event breaks, or None when it may go ahead."""
        if event in ALWAYS_DENIED:
            return ALWAYS_DENIED[event]
        policy = self.policy
        try:
            caller: FrameType = sys._getframe(2)  # past decide and __call__: the innermost frame acting
        except ValueError:
            return None  # no Python code on the stack: the interpreter itself (start-up, shut-down)
        if event in DENIED_TO_PROGRAM:
            return DENIED_TO_PROGRAM[event] if policy.program_acting(caller) else None
        if event in DENIED_DIRECTLY or (event == "object.__getattr__" and args[1] in FRAME_ATTRIBUTES):
            return "L5-RT-INTROSPECT" if policy.kind(caller.f_code.co_filename) == UNTRUSTED else None
        if event == "object.__setattr__" and args[1] in FRAME_ATTRIBUTES:
            # numpy rebinds __code__ of its dispatchers while it initialises; a program swapping a function's
            # code could disarm this hook.
            return "L5-RT-INTROSPECT" if policy.program_acting(caller) else None
        if event == "import":
            return self.decide_import(str(args[0]), caller)
        if event == IMPORT_AGAIN:
            return self.decide_import(str(args[0]), caller)
        if event in ("compile", "exec"):
            return self.decide_code(event, args, caller)
        if event == "open":
            path = _path_of(args[0])
            write = _writes(args[1], args[2] if len(args) > 2 else None)
            return self.decide_path(path, write)
        if event in PATH_EVENTS:
            positions, write = PATH_EVENTS[event]
            for i in positions:
                rule = self.decide_path(_path_of(args[i]) if i < len(args) else None, write)
                if rule:
                    return rule
        return None

    def decide_import(self, name: str, caller: FrameType | None) -> str | None:
        policy = self.policy
        # Only the program's own imports are judged: libraries import what they need (numpy's np.load imports
        # tokenize), and what they then do with it is judged action by action.
        if policy.importer(caller) is None:
            return None
        allowed = name.split(".")[0] in policy.allowed_modules and not policy.module_denied(name)
        return None if allowed else "L5-RT-IMPORT"

    def decide_code(self, event: str, args: tuple[Any, ...], caller: FrameType) -> str | None:
        policy = self.policy
        if event == "exec" and args[0] is self.program_code:
            return None
        kind = policy.kind(caller.f_code.co_filename)
        if kind == IMPORT_SYSTEM:
            # Module bodies are compiled and executed by the import system, and extension modules (pandas'
            # Cython ones) exec their own strings while they initialise; a module file outside the installed
            # libraries (one the program wrote) must not run.
            filename = args[0].co_filename if event == "exec" else str(args[1])
            written = filename.startswith("/") and policy.kind(filename) == UNTRUSTED
            return "L5-RT-EXEC" if written else None
        if kind == STDLIB:
            return None  # namedtuple, dataclasses, typing: the stdlib generating code from its own templates
        return "L5-RT-EXEC" if policy.program_acting(caller) else None

    def decide_path(self, path: str | None, write: bool) -> str | None:
        if path is None:
            return None
        if write:
            return None if self.policy.writable_path(path) else "L5-RT-WRITE"
        return None if self.policy.readable_path(path) else "L5-RT-READ"

    def violation(self, rule: str, event: str, args: tuple[Any, ...]) -> None:
        """Report and end the process at once; never returns."""
        line = None
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.policy.program:
                line = frame.f_lineno
                break
            frame = frame.f_back
        first_only = len(args) == 1 or event in ("import", "open", "compile")
        record = {
            "rule": rule,
            "event": event,
            "attempted": _short(args[0] if first_only else list(args[:3])),
            "line": line,
        }
        where = f" at line {line}" if line else ""
        message = f"level5 runtime policy: {rule}: {RULES[rule]} ({event} {record['attempted']}){where}"
        try:
            os.write(self.report_fd, (json.dumps(record) + "\n").encode())
            os.write(2, f"\n{message}\n".encode(errors="replace"))
        except BaseException:
            pass
        os._exit(EXIT_POLICY_VIOLATION)


def guarded(original: Callable[..., ModuleType]) -> Callable[..., ModuleType]:
    """builtins.__import__ that also submits imports of already-loaded modules (os, io, importlib are
    loaded before any program line) to the policy; the interpreter audits only first loads."""

    def guarded_import(
        name: str,
        globals: dict[str, Any] | None = None,
        locals: dict[str, Any] | None = None,
        fromlist: tuple[str, ...] = (),
        level: int = 0,
    ) -> ModuleType:
        if level == 0 and name in sys.modules:
            sys.audit(IMPORT_AGAIN, name)
        return original(name, globals, locals, fromlist, level)

    return guarded_import


GATE_OPEN = b"go"
"""What the runner writes to the gate once the pod's network is known to be cut (runner.GATE_OPEN)."""
GATE_CLOSED_EXIT = 70
"""The exit code when the runner closed the gate without opening it: the program never ran."""


def wait_for_gate(gate_fd: int | None) -> None:
    """Block until the runner opens the gate; exit without running anything when it closes it instead. The
    interpreter and this module start while the runner still probes the network, so that start-up is off
    the critical path, but not one line of the program runs before the gate opens."""
    if gate_fd is None:
        return
    try:
        opened = os.read(gate_fd, len(GATE_OPEN)) == GATE_OPEN
    finally:
        os.close(gate_fd)
    if not opened:
        os._exit(GATE_CLOSED_EXIT)


def run(
    program_path: str, policy_document: dict[str, Any], report_fd: int, gate_fd: int | None = None
) -> None:
    """Compile the program, wait for the gate, arm the hook, then run the program as __main__."""
    with open(program_path, "rb") as source:
        code = compile(source.read(), program_path, "exec")
    policy = Policy(policy_document, program_path, os.path.dirname(os.path.abspath(__file__)))
    wait_for_gate(gate_fd)
    main = ModuleType("__main__")
    main.__dict__.update({"__file__": program_path, "__builtins__": builtins, "__cached__": None})
    sys.modules["__main__"] = main
    sys.argv = [program_path]
    hook: Callable[[str, tuple[Any, ...]], None] = Hook(policy, report_fd, code)
    sys.addaudithook(hook)
    builtins.__import__ = guarded(builtins.__import__)
    del hook, policy  # nothing of the policy stays reachable from this frame's locals
    try:
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as error:
        traceback.print_exception(
            type(error), error, error.__traceback__.tb_next if error.__traceback__ else None
        )
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a program under the level5 runtime policy.")
    parser.add_argument("--policy", required=True)
    parser.add_argument("--report-fd", type=int, required=True)
    parser.add_argument("--gate-fd", type=int, help="wait for the runner to open this gate first")
    parser.add_argument(
        "--load-after-gate",
        action="store_true",
        help="read the policy and the program only once the gate opens (a warm pod writes them just before)",
    )
    parser.add_argument("program")
    args = parser.parse_args()
    gate_fd = args.gate_fd
    if args.load_after_gate:
        wait_for_gate(gate_fd)
        gate_fd = None
    with open(args.policy) as document:
        policy = json.load(document)
    run(args.program, policy, args.report_fd, gate_fd)


if __name__ == "__main__":
    main()
