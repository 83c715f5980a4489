"""The sandbox's layout: where each directory is mounted, who runs in which container, and which paths a
program may read and write. One source for the pod's manifests, the review's and the runtime policy's
paths, the prompts and the system-call monitor's expectations; sandbox-image/runner.py keeps its own copy
of the few it needs (a unit test checks they agree)."""

from __future__ import annotations

SANDBOX_UID = 65532
"""The checks' uid (the trusted side inside the pod)."""
PROGRAM_UID = 65533
"""The program's uid: never the checks' one."""
RUNNER_DIR = "/opt/level5"
"""Where the sandbox image keeps runner.py and policy.py."""
RUNNER_PATH = f"{RUNNER_DIR}/runner.py"
NODE_LAUNCHER_PATH = f"{RUNNER_DIR}/node_launch.py"
"""The JavaScript image's policy runner: starts the program with Node under its permission model."""
NODE_MODULES_DIR = "/node_modules"
"""Where the JavaScript image keeps its npm packages (read-only, found by Node from any script)."""
CODE_DIR = "/code"
CHECKS_DIR = "/checks"
OUTPUT_DIR = "/output"
REPORT_DIR = "/report"
DATA_DIR = "/data"
SHM_DIR = "/dev/shm"  # noqa: S108 - each container's own emptyDir, never shared
TMP_DIR = "/tmp"  # noqa: S108 - each container's own emptyDir, not the host's /tmp
PROGRAM_CONTAINER = "program"
CHECKS_CONTAINER = "checks"
"""The container whose log holds the result document."""
READ_ROOTS = (DATA_DIR, CODE_DIR, OUTPUT_DIR)
"""What a program may read: the reference data, its own code, its outputs."""
WRITE_ROOTS = (OUTPUT_DIR,)
"""What a program may write."""
WORKDIR = OUTPUT_DIR
"""The program's working directory."""
