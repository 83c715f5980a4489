#!/usr/bin/env bash
# Show which cluster components run (by recorded PID) and the node's state. Exit 1 if any is down.
source "$(dirname "$0")/lib.sh"
rc=0
for c in etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kube-network-policies \
         syscall-monitor local-path; do
  if pid_alive "$c"; then printf '%-26s running (pid %s)\n' "$c" "$(cat "$RUN_DIR/$c.pid")"
  else printf '%-26s stopped\n' "$c"; rc=1; fi
done
if pid_alive kube-apiserver; then kctl get nodes -o wide 2>/dev/null || rc=1; fi
exit $rc
