"""Which processes a forkserver forked (the operator's redaction detector processes), read from /proc by one
script that runs on the host (for an operator started as a subprocess) or in the operator's container (by
`kubectl exec`), so both cluster tests count them the same way."""

from __future__ import annotations

import subprocess
import sys

FORKED = """
import os, sys
def read(pid, name):
    try:
        return open(f"/proc/{pid}/{name}", "rb").read()
    except OSError:  # it ended meanwhile
        return b""
def parent(pid):
    stat = read(pid, "stat")
    return stat.rsplit(b")", 1)[1].split()[1].decode() if stat else ""
pids = [p for p in os.listdir("/proc") if p.isdigit()]
servers = {p for p in pids if b"forkserver" in read(p, "cmdline") and sys.argv[1:] in ([], [parent(p)])}
print(" ".join(p for p in pids if parent(p) in servers))
"""
"""Prints the pids forked by a forkserver; with an argument, only by a forkserver that pid started."""


def forked_by(pid: int) -> list[int]:
    """The pids forked by a forkserver that the host's process `pid` started."""
    out = subprocess.run([sys.executable, "-c", FORKED, str(pid)], capture_output=True, text=True, check=True)
    return [int(p) for p in out.stdout.split()]
