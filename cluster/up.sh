#!/usr/bin/env bash
# Bring up the single-node local cluster as host processes, each started and tracked by PID:
# etcd, containerd (runc + gVisor handlers, CNI bridge), kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy and kube-network-policies, and the syscall monitor (gVisor's trace
# points). Idempotent: running processes are kept.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

preflight() {
  [[ $(id -u) == 0 ]] || die "cluster-up must run as root (it starts containerd, kubelet and sets up networking). Fix: sudo make cluster-up"
  [[ -d /sys/fs/cgroup/memory || -f /sys/fs/cgroup/cgroup.controllers ]] \
    || die "no cgroup memory controller under /sys/fs/cgroup. Fix: mount cgroups (v1 or v2) before starting the cluster"
  need go "install Go >= 1.24 (https://go.dev/doc/install)"
  need python3 "apt-get install -y python3"
  local pkg missing=()
  for pkg in containerd:containerd runc:runc umoci:umoci debootstrap:debootstrap nft:nftables \
             ip:iproute2 openssl:openssl conntrack:conntrack iptables:iptables gcc:gcc; do
    command -v "${pkg%%:*}" >/dev/null 2>&1 || missing+=("${pkg##*:}")
  done
  [[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
  ((${#missing[@]} == 0)) || die "missing packages: ${missing[*]}. Fix: apt-get update && apt-get install -y ${missing[*]} (or run 'make deps')"
  [[ -d /proc/sys/net/bridge ]] || modprobe br_netfilter 2>/dev/null || true
  [[ -d /proc/sys/net/bridge ]] || die "the br_netfilter kernel module is not available. Fix: modprobe br_netfilter"
  if ! [[ -x $BIN_DIR/kubelet ]]; then
    (cd /tmp && timeout 30 go list -m -versions k8s.io/kubernetes >/dev/null 2>&1) \
      || die "the Go module proxy is unreachable and nothing is cached. Fix: check network access to the proxy ('go env GOPROXY')"
  fi
}

host_setup() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  # Remember the sysctls we change so cluster-down restores them exactly.
  if [[ ! -s $RUN_DIR/sysctl.saved ]]; then
    sysctl -n net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward \
      >"$RUN_DIR/sysctl.saved"
    nft list tables >"$RUN_DIR/nft-tables.saved"
  fi
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 net.ipv4.ip_forward=1
  if ! ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
    ip link add "$CNI_BRIDGE" type bridge
    ip addr add "$NODE_IP/24" dev "$CNI_BRIDGE"
  fi
  ip link set "$CNI_BRIDGE" up
  # Pods may talk to each other and to the node over the bridge, and never leave the machine:
  # forwarded traffic from the bridge to any other interface is dropped.
  nft -f - <<EOF
table inet level5-host
delete table inet level5-host
table inet level5-host {
  chain forward {
    type filter hook forward priority -10; policy accept;
    iifname "$CNI_BRIDGE" oifname != "$CNI_BRIDGE" drop
  }
}
EOF
}

start_etcd() {
  mkdir -p "$LEVEL5_CLUSTER_DIR/etcd"
  chmod 700 "$LEVEL5_CLUSTER_DIR/etcd"
  start_bg etcd "$BIN_DIR/etcd" --name level5 --data-dir "$LEVEL5_CLUSTER_DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster level5=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --quota-backend-bytes 2147483648 --log-level warn
  wait_for etcd 60 curl -fsS http://127.0.0.1:2381/health
}

# The collector of gVisor's trace points (level5 syscall-monitor, from the checkout's venv). It must listen
# before a pod sandbox starts: runsc connects once, when it creates the sandbox.
start_syscall_monitor() {
  local level5=$HERE/../.venv/bin/level5
  if [[ ! -x $level5 ]]; then
    log "warning: $level5 missing (make venv): no syscall monitor, gVisor pods run unmonitored"
    return 0
  fi
  start_bg syscall-monitor "$level5" syscall-monitor --socket "$SYSCALL_MONITOR_SOCK" \
    --listen "$NODE_IP:$SYSCALL_MONITOR_PORT"
  wait_for "syscall monitor" 30 curl -fsS "http://$NODE_IP:$SYSCALL_MONITOR_PORT/healthz"
}

# runsc's trace session (--pod-init-config): the points the collector summarises, sent to its socket by the
# remote sink. ignore_setup_error: a pod still starts when the collector is down (it is then unmonitored,
# which the collector's missing summary makes visible). retries: when the collector falls behind, the
# sandbox waits up to about 23 ms per point (10 retries, backoff from 25 µs doubling up to 10 ms) before
# the point is dropped (and counted as dropped).
write_pod_init_config() {
  local ctx='"context_fields": ["container_id"]' open_ctx='"context_fields": ["container_id", "cwd"]'
  write_file "$1" <<EOF
{
  "trace_session": {
    "name": "Default",
    "points": [
      {"name": "container/start", $ctx},
      {"name": "sentry/clone", $ctx},
      {"name": "sentry/execve", $ctx},
      {"name": "syscall/execve/exit", $ctx},
      {"name": "syscall/execveat/exit", "optional_fields": ["fd_path"], $ctx},
      {"name": "syscall/open/exit", $open_ctx},
      {"name": "syscall/openat/exit", "optional_fields": ["fd_path"], $open_ctx},
      {"name": "syscall/creat/exit", $open_ctx},
      {"name": "syscall/socket/exit", $ctx},
      {"name": "syscall/connect/exit", $ctx},
      {"name": "syscall/sysno/101/enter", $ctx},
      {"name": "syscall/sysno/101/exit", $ctx}
    ],
    "sinks": [
      {"name": "remote", "config": {"endpoint": "$SYSCALL_MONITOR_SOCK", "retries": 10}, "ignore_setup_error": true}
    ]
  }
}
EOF
}

start_containerd() {
  local gv=$TOOLS_DIR/gvisor-$GVISOR_VERSION d=$LEVEL5_CLUSTER_DIR/containerd
  mkdir -p "$d" "$LEVEL5_CLUSTER_DIR/cni/net.d" "$RUN_DIR/containerd"
  write_pod_init_config "$d/syscall-monitor-pod-init.json"
  # network = "none": a gVisor pod gets a loopback interface and nothing else, whatever the CNI gave its
  # network namespace. Only sandbox pods run on gVisor here, and none of them may reach anything; the
  # deny-all NetworkPolicy stays as a second layer (and covers runtimes with a network). Their isolation
  # probe is then answered at once (ENETUNREACH) instead of waiting for the policy enforcer to learn the
  # pod's IP from the API server and a connection to go unanswered (about 1.5 s of every cold iteration).
  write_file "$d/runsc.toml" <<EOF
binary_name = "$gv/runsc"
root = "$RUN_DIR/runsc"
[runsc_config]
  platform = "systrap"
  network = "none"
  debug-log = "$LOG_DIR/runsc/"
  pod-init-config = "$d/syscall-monitor-pod-init.json"
EOF
  write_file "$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$RUN_DIR/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$RUN_DIR/containerd/containerd.sock.ttrpc"
[debug]
  address = "$RUN_DIR/containerd/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_TAG"
  enable_unprivileged_ports = false
  # Hosts without CAP_SYS_RESOURCE (nested VMs, containers) cannot lower oom_score_adj below
  # containerd's own; cap it there instead of failing every pod sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.gvisor]
      runtime_type = "io.containerd.runsc.v1"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.gvisor.options]
        TypeUrl = "io.containerd.runsc.v1.options"
        ConfigPath = "$d/runsc.toml"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$LEVEL5_CLUSTER_DIR/cni/net.d"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
  write_file "$LEVEL5_CLUSTER_DIR/cni/net.d/10-level5.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "level5",
  "plugins": [
    {"type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
              "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$LEVEL5_CLUSTER_DIR/cni/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # The shim binary (containerd-shim-runsc-v1) is found on containerd's PATH.
  start_bg containerd env PATH="$gv:$PATH" containerd --config "$d/config.toml"
  wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
  bash "$HERE/images.sh" import
}

start_apiserver() {
  start_bg kube-apiserver "$BIN_DIR/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$NODE_IP" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --client-ca-file="$PKI_DIR/ca.crt" \
    --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
    --kubelet-client-certificate="$PKI_DIR/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI_DIR/apiserver-kubelet-client.key" \
    --service-account-key-file="$PKI_DIR/sa.pub" --service-account-signing-key-file="$PKI_DIR/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,NodeRestriction,PodSecurity,ResourceQuota,DefaultStorageClass,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy \
    --enable-aggregator-routing=true --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP \
    --requestheader-client-ca-file="$PKI_DIR/ca.crt" \
    --proxy-client-cert-file="$PKI_DIR/apiserver-kubelet-client.crt" \
    --proxy-client-key-file="$PKI_DIR/apiserver-kubelet-client.key" \
    --requestheader-allowed-names= --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --v=1
  wait_for kube-apiserver 120 kctl get --raw /readyz
}

start_control_plane() {
  start_bg kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$LEVEL5_CLUSTER_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$LEVEL5_CLUSTER_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$LEVEL5_CLUSTER_DIR/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI_DIR/sa.key" --root-ca-file="$PKI_DIR/ca.crt" \
    --cluster-signing-cert-file="$PKI_DIR/ca.crt" --cluster-signing-key-file="$PKI_DIR/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --controllers='*,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller' \
    --v=1
  start_bg kube-scheduler "$BIN_DIR/kube-scheduler" \
    --kubeconfig="$LEVEL5_CLUSTER_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig="$LEVEL5_CLUSTER_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig="$LEVEL5_CLUSTER_DIR/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --v=1
}

start_kubelet() {
  local d=$LEVEL5_CLUSTER_DIR/kubelet
  mkdir -p "$d" "$LEVEL5_CLUSTER_DIR/pod-logs"
  echo "nameserver $CLUSTER_DNS_IP" >"$LEVEL5_CLUSTER_DIR/resolv.conf"
  write_file "$LEVEL5_CLUSTER_DIR/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI_DIR/ca.crt"}
authorization: {mode: Webhook}
address: "$NODE_IP"
healthzBindAddress: 127.0.0.1
tlsCertFile: "$PKI_DIR/node.crt"
tlsPrivateKeyFile: "$PKI_DIR/node.key"
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
podLogsDir: "$LEVEL5_CLUSTER_DIR/pod-logs"
resolvConf: "$LEVEL5_CLUSTER_DIR/resolv.conf"
clusterDomain: cluster.local
clusterDNS: ["$CLUSTER_DNS_IP"]
serializeImagePulls: false
maxPods: 250
podPidsLimit: 4096
evictionHard: {"memory.available": "200Mi", "nodefs.available": "2%", "imagefs.available": "2%", "nodefs.inodesFree": "2%"}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
localStorageCapacityIsolation: true
enableControllerAttachDetach: true
EOF
  start_bg kubelet "$BIN_DIR/kubelet" --config="$LEVEL5_CLUSTER_DIR/kubelet-config.yaml" \
    --kubeconfig="$LEVEL5_CLUSTER_DIR/node.kubeconfig" --root-dir="$d" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
  wait_for "node $NODE_NAME to register" 120 kctl get node "$NODE_NAME"
}

start_networking() {
  # kube-proxy routes Service IPs (the operator's in-cluster client uses the kubernetes Service).
  write_file "$LEVEL5_CLUSTER_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: "$LEVEL5_CLUSTER_DIR/kube-proxy.kubeconfig"}
clusterCIDR: "$POD_CIDR"
hostnameOverride: "$NODE_NAME"
bindAddress: 127.0.0.1
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
EOF
  start_bg kube-proxy "$BIN_DIR/kube-proxy" --config="$LEVEL5_CLUSTER_DIR/kube-proxy.yaml" --v=1
  # kube-network-policies enforces NetworkPolicy with nftables + NFQUEUE on the host. It only knows
  # in-cluster config, so it runs in a private mount namespace where a service-account token and the
  # CA are bind-mounted at the in-cluster path.
  kctl apply -f "$HERE/manifests/network-policy-rbac.yaml" >/dev/null
  local sa=$LEVEL5_CLUSTER_DIR/knp-serviceaccount
  mkdir -p "$sa" "$KNP_SECRETS_MOUNT"
  kctl -n kube-system create token kube-network-policies --duration=8760h >"$sa/token"
  cp "$PKI_DIR/ca.crt" "$sa/ca.crt"; echo kube-system >"$sa/namespace"
  start_bg kube-network-policies env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=6443 \
    unshare --mount --propagation private sh -c \
    "mount --bind '$sa' '$KNP_SECRETS_MOUNT' && exec '$TOOLS_DIR/kube-network-policies-$KNP_VERSION/kube-network-policies' \
     --hostname-override='$NODE_NAME' --disable-nri=true --metrics-bind-address=127.0.0.1:9080 --v=1"
}

# Dynamic volumes: level5-local-path provisions each claim of the default StorageClass as a directory under
# VOLUMES_DIR (a host process like kubelet, so the directories are the node's own).
start_storage() {
  mkdir -p "$VOLUMES_DIR"
  start_bg local-path "$(bash "$HERE/build.sh" local-path-binary)" --kubeconfig "$KUBECONFIG_FILE" \
    --base-dir "$VOLUMES_DIR" --node "$NODE_NAME"
  kctl apply -f "$HERE/manifests/storage.yaml" >/dev/null
}

cluster_objects() {
  kctl apply -f "$HERE/manifests/cluster.yaml" >/dev/null
  kctl apply -f "$HERE/../charts/level5/crds/kopf-peering.yaml" >/dev/null
  wait_for "node $NODE_NAME Ready" 180 kctl wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
  wait_for "default service account" 120 kctl -n default get serviceaccount default
}

# `up.sh apiserver`: start only the API server again (after `cluster/apiserver.sh stop`), as configured here.
if [[ ${1:-} == apiserver ]]; then start_apiserver; exit 0; fi

preflight
bash "$HERE/build.sh" all
bash "$HERE/images.sh" build
NODE_IP=$NODE_IP bash "$HERE/pki.sh"
host_setup
start_syscall_monitor
start_etcd
start_containerd
start_apiserver
start_control_plane
start_kubelet
start_networking
cluster_objects
start_storage
log "cluster is up: eval \"\$(make -s cluster-env)\" then kubectl get nodes"
