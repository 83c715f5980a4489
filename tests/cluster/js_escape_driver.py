"""Runs in the program container of a JavaScript sandbox pod (test_javascript_containment.py): every payload
of the JavaScript escape corpus, one by one, exactly as the runner starts a program (node_launch.py: Node
under its permission model with node_preload.js), then probes what the pod can reach. Prints one JSON line.
Standard library only (the image's python3)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from typing import Any

LAUNCHER = "/opt/level5/node_launch.py"


def api_answers(timeout: float = 1.0) -> bool:
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = int(os.environ.get("KUBERNETES_SERVICE_PORT", "443"))
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def run(index: int, source: str) -> dict[str, Any]:
    path = f"/tmp/payload_{index}.js"
    with open(path, "w") as file:
        file.write(source)
    read_end, write_end = os.pipe()
    argv = ["python3", "-I", LAUNCHER, "--policy", "/code/policy.json", "--report-fd", str(write_end), path]
    try:
        done = subprocess.run(argv, pass_fds=(write_end,), capture_output=True, timeout=10, cwd="/output")
        code: int | str = done.returncode
        out, err = done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        code, out, err = "timeout", exc.stdout or b"", exc.stderr or b""
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read(16384).decode(errors="replace")
    violation = next((json.loads(line) for line in report.splitlines() if line.startswith("{")), None)
    return {
        "exit": code,
        "rule": violation["rule"] if violation else None,
        "stdout": out.decode(errors="replace")[-400:],
        "stderr": err.decode(errors="replace")[-400:],
    }


def main() -> None:
    deadline = time.monotonic() + 60
    while api_answers() and time.monotonic() < deadline:  # until the deny-all policy is in effect
        time.sleep(0.2)
    with open("/code/payloads.json") as file:
        payloads = json.load(file)
    results = [{"family": f, "title": t, **run(i, s)} for i, (f, t, s) in enumerate(payloads)]
    print(
        json.dumps(
            {
                "results": results,
                "apiAnswers": api_answers(3.0),
                "outputFiles": sorted(os.listdir("/output")),
            }
        )
    )


if __name__ == "__main__":
    main()
