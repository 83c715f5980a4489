"""level5 runtime policy for JavaScript: start a generated program with Node.js under its permission model.

The runner starts it in the program's container in place of policy.py, with the same arguments:
    python3 -I -u /opt/level5/node_launch.py --policy /code/policy.json --report-fd N --gate-fd G /code/main.js
It waits until the runner opens the gate (the pod's network is cut; a closed gate means the program never
runs), then replaces itself with Node (exec, so the runner's process is Node itself and its rusage counts):

- `--experimental-permission` (Node 20's name of `--permission`): file reads only under the policy's read
  roots, the program's own file, the npm packages and node_preload.js; writes only under the write roots; no
  child processes, worker threads, native addons, WASI or inspector; `process.binding` refused;
- `--disallow-code-generation-from-strings`: `eval`, `new Function`, string timers throw EvalError;
- `--disable-proto=throw`: `__proto__` throws, the commonest prototype-pollution route;
- `--require node_preload.js`: denies modules outside the policy's allowed list (L5-RT-IMPORT; this also
  keeps out `vm`, whose new contexts could generate code) and process.kill (L5-RT-SIGNAL), and reports a denial that ends the program as one
  JSON line on the report descriptor, like policy.py, with the rule ids of policy.py's RULES.

Standard library only. The network is not part of Node 20's permission model: the deny-all NetworkPolicy
and the review cover it, and the gVisor pod stays the boundary either way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

GATE_OPEN = b"go"
"""Must equal runner.GATE_OPEN."""
NODE = "/usr/bin/node"
PRELOAD = Path(__file__).resolve().parent / "node_preload.js"
NODE_MODULES = "/node_modules"
"""Must equal level5.core.layout.NODE_MODULES_DIR (the image's npm packages)."""


def wait_for_gate(fd: int) -> bool:
    """True once the runner wrote GATE_OPEN; False when it closed the gate without (isolation failed)."""
    received = b""
    while len(received) < len(GATE_OPEN):
        chunk = os.read(fd, len(GATE_OPEN) - len(received))
        if not chunk:
            return False
        received += chunk
    return received == GATE_OPEN


def node_argv(policy: dict[str, object], code: Path) -> list[str]:
    """Node's command line: the permission model's grants from the policy, then the program."""
    reads = [str(code), str(PRELOAD), f"{NODE_MODULES}/*"]
    reads += [f"{root}/*" for root in _paths(policy, "readRoots")]
    writes = [f"{root}/*" for root in _paths(policy, "writeRoots")]
    argv = [NODE, "--experimental-permission"]
    argv += [f"--allow-fs-read={path}" for path in reads]
    argv += [f"--allow-fs-write={path}" for path in writes]
    argv += [
        # Stack traces name /code/main.js, not the ConfigMap mount's timestamped directory it links to.
        "--preserve-symlinks-main",
        "--disallow-code-generation-from-strings",
        "--disable-proto=throw",
        "--disable-warning=ExperimentalWarning",
        "--require",
        str(PRELOAD),
        str(code),
    ]
    return argv


def _paths(policy: dict[str, object], key: str) -> list[str]:
    value = policy.get(key, [])
    return [str(path).rstrip("/") for path in value] if isinstance(value, list) else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a JavaScript program under Node's permission model.")
    parser.add_argument("--policy", type=Path, required=True)
    parser.add_argument("--report-fd", type=int, required=True)
    parser.add_argument("--gate-fd", type=int)
    parser.add_argument("code", type=Path)
    args = parser.parse_args(argv)
    policy = json.loads(args.policy.read_text())
    if args.gate_fd is not None:
        opened = wait_for_gate(args.gate_fd)
        os.close(args.gate_fd)
        if not opened:
            return 1  # the network was not cut off: the program must not run
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - the program container's own emptyDir
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "LEVEL5_OUTPUT_DIR": os.environ.get("LEVEL5_OUTPUT_DIR", "/output"),
        "LEVEL5_DATA_DIR": os.environ.get("LEVEL5_DATA_DIR", "/data"),
        # Read (and removed from process.env) by node_preload.js before the program's first line.
        "LEVEL5_REPORT_FD": str(args.report_fd),
        "LEVEL5_ALLOWED_MODULES": json.dumps(policy.get("allowedModules", [])),
    }
    os.set_inheritable(args.report_fd, True)
    sys.stdout.flush()
    os.execve(NODE, node_argv(policy, args.code), env)
    return 1  # not reached: execve replaces this process or raises


if __name__ == "__main__":
    sys.exit(main())
