#!/usr/bin/env bash
# Tear the local cluster down completely: delete pods through the API (so the kubelet and CNI undo
# their mounts and veths), stop every component by its recorded PID, then sweep what a crash could
# have left (shims, sandbox processes, mounts, network namespaces, nftables tables, cgroups, sysctls)
# and delete the cluster's state directory. Build and image caches are kept, so the next
# cluster-up is warm.
source "$(dirname "$0")/lib.sh"
COMPONENTS=(local-path kube-network-policies kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver containerd etcd
  syscall-monitor)

drain_pods() {
  pid_alive kube-apiserver && pid_alive kubelet || return 0
  kctl delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
  local end=$((SECONDS + 60))
  while ((SECONDS < end)); do
    [[ -z $(ctr --address "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null) ]] && break
    sleep 1
  done
}

# kill_matching PATTERN: kill processes whose command line contains PATTERN (leftover shims/sandboxes).
kill_matching() {
  local pid
  for pid in $(pgrep -f -- "$1" || true); do
    [[ $pid == "$$" ]] || kill -KILL "$pid" 2>/dev/null || true
  done
}

sweep() {
  kill_matching "$CONTAINERD_SOCK"
  kill_matching "$RUN_DIR/runsc"
  local cg pid
  for cg in /sys/fs/cgroup/*/kubepods; do
    [[ -d $cg ]] || continue
    for pid in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  sleep 0.5
  # Mounts: deepest first, everything under the cluster dir, containerd's task dirs and CNI netns.
  local m
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($LEVEL5_CLUSTER_DIR|/run/containerd|/run/netns/cni-|/var/run/netns/cni-|$KNP_SECRETS_MOUNT)" | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -f /run/netns/cni-* 2>/dev/null || true
  rmdir -p "$KNP_SECRETS_MOUNT" 2>/dev/null || true
  rm -rf /run/containerd/io.containerd.runtime.v2.task/k8s.io /run/containerd/s /run/containerd/runc/k8s.io 2>/dev/null || true
  rmdir /run/containerd/io.containerd.runtime.v2.task /run/containerd/runc /run/containerd 2>/dev/null || true
  # cgroups the kubelet made (depth first).
  for cg in /sys/fs/cgroup/*/kubepods; do
    [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  # Network: the bridge and every nftables table that was not there before cluster-up.
  ip link del "$CNI_BRIDGE" 2>/dev/null || true
  local saved=$RUN_DIR/nft-tables.saved t
  if [[ -f $saved ]]; then
    while read -r t; do
      grep -qxF "$t" "$saved" || nft delete $t 2>/dev/null || true
    done < <(nft list tables 2>/dev/null)
  else
    nft delete table inet level5-host 2>/dev/null || true
  fi
  if [[ -s $RUN_DIR/sysctl.saved ]]; then
    local v=($(cat "$RUN_DIR/sysctl.saved"))
    sysctl -qw net.bridge.bridge-nf-call-iptables="${v[0]}" net.bridge.bridge-nf-call-ip6tables="${v[1]}" \
      net.ipv4.ip_forward="${v[2]}" || true
  fi
}

drain_pods
for c in "${COMPONENTS[@]}"; do stop_pid "$c"; done
sweep
rm -rf "$LEVEL5_CLUSTER_DIR"
log "cluster is down; build caches kept in $LEVEL5_CACHE_DIR (delete it to start cold)"
