# Shared settings and helpers for the local cluster scripts (sourced, not run).
# Every path the cluster uses lives under LEVEL5_CLUSTER_DIR so that one `rm -rf` (done by
# cluster-down --purge) removes all of it; builds are cached under LEVEL5_CACHE_DIR by version.

set -euo pipefail

LEVEL5_CACHE_DIR=${LEVEL5_CACHE_DIR:-$HOME/.cache/level5}
LEVEL5_CLUSTER_DIR=${LEVEL5_CLUSTER_DIR:-$LEVEL5_CACHE_DIR/cluster}

# Pinned versions. A change here makes a new cache entry; old ones can be deleted by hand.
K8S_VERSION=${K8S_VERSION:-v1.34.4}
# gVisor "go" branch pseudo-version (the Go module proxy serves it; Bazel is not needed).
GVISOR_VERSION=${GVISOR_VERSION:-v0.0.0-20251011013117-af7a19336e55}
# That commit declares runtime constants for both go1.25 and go1.26 build tags, so it only builds with
# Go 1.25 (fetched as a toolchain module through the same proxy).
GVISOR_GOTOOLCHAIN=${GVISOR_GOTOOLCHAIN:-go1.25.5}
KNP_VERSION=${KNP_VERSION:-v0.8.0}
HELM_VERSION=${HELM_VERSION:-v3.19.2}
# Kubernetes manifest security linter, run by the Helm chart unit test on the rendered chart.
KUBE_SCORE_VERSION=${KUBE_SCORE_VERSION:-v1.20.0}

BIN_DIR=$LEVEL5_CACHE_DIR/bin/$K8S_VERSION
TOOLS_DIR=$LEVEL5_CACHE_DIR/bin/tools
export GOMODCACHE=${GOMODCACHE:-$LEVEL5_CACHE_DIR/gomod}
export GOCACHE=${GOCACHE:-$LEVEL5_CACHE_DIR/gocache}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export CGO_ENABLED=${CGO_ENABLED:-0}

RUN_DIR=$LEVEL5_CLUSTER_DIR/run
LOG_DIR=$LEVEL5_CLUSTER_DIR/logs
PKI_DIR=$LEVEL5_CLUSTER_DIR/pki
KUBECONFIG_FILE=$LEVEL5_CLUSTER_DIR/admin.kubeconfig
# Volumes of the level5-local-path StorageClass (one directory per PersistentVolume).
VOLUMES_DIR=$LEVEL5_CLUSTER_DIR/volumes
NODE_NAME=${LEVEL5_NODE_NAME:-level5-node}
CNI_BRIDGE=l5br0
POD_CIDR=10.244.0.0/24
# The node's address is the pod bridge's gateway: API server, kubelet and pods talk over the bridge
# only, so nothing of the cluster needs the host's own network.
NODE_IP=10.244.0.1
CLUSTER_DNS_IP=10.96.0.10
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
CONTAINERD_SOCK=$RUN_DIR/containerd/containerd.sock
SANDBOX_TAG=${LEVEL5_SANDBOX_BASE_TAG:-level5.local/sandbox-base:bookworm-1}
PAUSE_TAG=level5.local/pause:3.10
# The JavaScript sandbox base: Debian trixie (its Node.js 20 has the permission model) with the npm packages
# of sandbox-image/javascript/package-lock.json; the lockfile's hash is in the tag, so a change rebuilds it.
JS_LOCKFILE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/sandbox-image/javascript/package-lock.json
JS_SANDBOX_TAG=${LEVEL5_SANDBOX_JS_BASE_TAG:-level5.local/sandbox-js-base:trixie-$(sha256sum "$JS_LOCKFILE" | cut -c1-8)}
KNP_SECRETS_MOUNT=/run/secrets/kubernetes.io/serviceaccount
# System-call monitoring: runsc's remote trace sink connects to this socket (one connection per pod
# sandbox), and the collector serves per-container summaries on the node address (the operator reaches it
# there, like pods reach the scripted model server).
SYSCALL_MONITOR_SOCK=$RUN_DIR/syscall-monitor.sock
SYSCALL_MONITOR_PORT=${LEVEL5_SYSCALL_MONITOR_PORT:-18090}

log() { printf '\033[1;34m[level5]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[level5] error:\033[0m %s\n' "$*" >&2; exit 1; }

# need CMD FIX: stop with a message naming the missing prerequisite and how to get it.
need() { command -v "$1" >/dev/null 2>&1 || die "missing '$1'. Fix: $2"; }

kctl() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# pid_alive NAME: true when the process recorded in RUN_DIR/NAME.pid is running.
pid_alive() {
  local f=$RUN_DIR/$1.pid
  [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

# start_bg NAME CMD...: start a process in its own session, record its PID, log to LOG_DIR/NAME.log.
start_bg() {
  local name=$1; shift
  if pid_alive "$name"; then log "$name already running (pid $(cat "$RUN_DIR/$name.pid"))"; return 0; fi
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN_DIR/$name.pid"
  log "started $name (pid $!)"
}

# stop_pid NAME: TERM then KILL the recorded process and forget it.
stop_pid() {
  local name=$1 f=$RUN_DIR/$1.pid pid
  [[ -s $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

# write_file PATH: write stdin to PATH only if it differs, so running components that watch their
# config (kube-proxy exits when its file changes) are not disturbed by an idempotent re-run.
write_file() {
  local tmp; tmp=$(mktemp)
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

# wait_for DESC SECONDS CMD...: retry CMD until it succeeds or the time is up.
wait_for() {
  local desc=$1 secs=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || die "timed out after ${secs}s waiting for $desc (logs: $LOG_DIR)"
    sleep 0.5
  done
}
