"""Make gVisor's containerd shim tolerate a host that denies lowering oom_score_adj.

The shim sets its own oom_score_adj to -999 and fails the pod sandbox if the write is refused. Hosts
(and nested containers) without CAP_SYS_RESOURCE refuse it; containerd's own runc shim ignores that
case, so this does the same. It patches a copy of the module in place (the build replaces the module
with that copy). Usage: gvisor_oom_patch.py GVISOR_SOURCE_COPY_DIR
"""

import sys
from pathlib import Path

original = Path(sys.argv[1]) / "pkg/shim/v1/service.go"
text = original.read_text()
old = (
    "if err := sys.SetOOMScore(cmd.Process.Pid, oomScoreMaxKillable); err != nil {\n"
    '\t\treturn "", fmt.Errorf("failed to set OOM Score on shim: %w", err)'
)
new = (
    "if err := sys.SetOOMScore(cmd.Process.Pid, oomScoreMaxKillable); err != nil && !os.IsPermission(err) {\n"
    '\t\treturn "", fmt.Errorf("failed to set OOM Score on shim: %w", err)'
)
if old not in text:
    sys.exit("gvisor_oom_patch: the shim's OOM score code changed upstream; update the patch")
original.write_text(text.replace(old, new))
