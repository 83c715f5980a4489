#!/usr/bin/env bash
# Build every cluster binary from Go module sources through the Go module proxy, cached by version:
# Kubernetes (apiserver, controller-manager, scheduler, kubelet, kubectl) and etcd from one wrapper
# module, gVisor's runsc and containerd-shim-runsc-v1 from one gVisor commit, kube-network-policies,
# Helm and kube-score (the chart's security linter), and level5-local-path (the cluster's volume provisioner:
# our ~100 lines over the Kubernetes sig-storage provisioner library). A second run finds the binaries and
# returns at once.
# Usage: build.sh [all|kubernetes|gvisor|knp|helm|kube-score|chart-tools|local-path]
source "$(dirname "$0")/lib.sh"

need go "install Go >= 1.24 (https://go.dev/doc/install); this project's machines have it preinstalled"

WORK=$LEVEL5_CACHE_DIR/build

# write_wrapper DIR MODULE VERSION: a module that requires MODULE@VERSION and copies the replace
# and godebug directives of MODULE's own go.mod (they do not apply to dependants otherwise).
write_wrapper() {
  local dir=$1 mod=$2 ver=$3 gomod
  mkdir -p "$dir"
  gomod=$(cd "$dir" && go mod download -json "$mod@$ver" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])') \
    || die "the Go module proxy did not serve $mod@$ver. Fix: check 'go env GOPROXY' reaches the proxy"
  python3 - "$mod" "$ver" "$gomod" >"$dir/go.mod" <<'EOF'
import re, sys
mod, ver, path = sys.argv[1:4]
text = open(path).read()
out = ["module level5.local/build", "", "go 1.24", ""]
out += [line for line in text.splitlines() if line.startswith("godebug")]
out += ["", f"require {mod} {ver}", ""]
# replace directives, single-line and block form
replaces = re.findall(r"^replace[ \t]+([^(\n]*=>[^\n]*)$", text, re.M)
for block in re.findall(r"^replace\s*\((.*?)^\)", text, re.M | re.S):
    replaces += [l.strip() for l in block.splitlines() if "=>" in l and not l.strip().startswith("//")]
staging_ver = None
m = re.match(r"v1\.(\d+)\.(\d+)", ver)
if m:
    staging_ver = f"v0.{m.group(1)}.{m.group(2)}"
for r in replaces:
    left, right = [s.strip() for s in r.split("=>")]
    if right.startswith("./staging/"):
        # Kubernetes staging modules are published as k8s.io/<name> v0.<minor>.<patch>.
        name = left.split()[0]
        out.append(f"replace {name} => {name} {staging_ver}")
    elif right.startswith("."):
        continue  # other local paths cannot be resolved outside the repository
    else:
        out.append(f"replace {left} => {right}")
print("\n".join(out))
EOF
}

# patched_copy DIR MODULE VERSION: a writable copy of MODULE's source at DIR/src, which the wrapper
# module at DIR builds instead of the (read-only, checksummed) module cache copy; the caller patches it.
patched_copy() {
  local dir=$1 mod=$2 ver=$3 src
  src=$(cd "$dir" && go mod download -json "$mod@$ver" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$dir/src"; cp -r "$src" "$dir/src"; chmod -R u+w "$dir/src"
  echo "replace $mod => ./src" >>"$dir/go.mod"
}

# gobuild DIR OUTDIR LDFLAGS PKG...: build main packages of the wrapper module into OUTDIR.
gobuild() {
  local dir=$1 out=$2 ldflags=$3; shift 3
  mkdir -p "$out"
  (cd "$dir" && GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags "$ldflags" -o "$out/" "$@")
}

build_kubernetes() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy etcd) missing=0
  for b in "${want[@]}"; do [[ -x $BIN_DIR/$b ]] || missing=1; done
  ((missing)) || { log "kubernetes $K8S_VERSION binaries cached in $BIN_DIR"; return 0; }
  log "building kubernetes $K8S_VERSION and etcd from module sources (cold: tens of minutes)"
  local dir=$WORK/kubernetes-$K8S_VERSION
  write_wrapper "$dir" k8s.io/kubernetes "$K8S_VERSION"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local now; now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitCommit=level5-module-build -X $p.gitTreeState=clean -X $p.buildDate=$now"
  done
  gobuild "$dir" "$BIN_DIR.tmp" "$ld" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kube-proxy
  gobuild "$dir" "$BIN_DIR.tmp" "-s -w" go.etcd.io/etcd/server/v3
  mv "$BIN_DIR.tmp/server" "$BIN_DIR.tmp/etcd"
  mkdir -p "$BIN_DIR"; mv "$BIN_DIR.tmp"/* "$BIN_DIR/"; rmdir "$BIN_DIR.tmp"
}

build_gvisor() {
  local out=$TOOLS_DIR/gvisor-$GVISOR_VERSION
  [[ -x $out/runsc && -x $out/containerd-shim-runsc-v1 ]] && { log "gVisor cached in $out"; return 0; }
  log "building gVisor runsc and containerd-shim-runsc-v1 ($GVISOR_VERSION)"
  local dir=$WORK/gvisor-$GVISOR_VERSION
  write_wrapper "$dir" gvisor.dev/gvisor "$GVISOR_VERSION"
  patched_copy "$dir" gvisor.dev/gvisor "$GVISOR_VERSION"
  python3 "$(dirname "$0")/gvisor_oom_patch.py" "$dir/src"
  GOTOOLCHAIN=$GVISOR_GOTOOLCHAIN gobuild "$dir" "$out.tmp" "-s -w" gvisor.dev/gvisor/runsc gvisor.dev/gvisor/shim
  mv "$out.tmp/shim" "$out.tmp/containerd-shim-runsc-v1"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_knp() {
  local out=$TOOLS_DIR/kube-network-policies-$KNP_VERSION
  [[ -x $out/kube-network-policies ]] && { log "kube-network-policies cached in $out"; return 0; }
  log "building kube-network-policies $KNP_VERSION"
  local dir=$WORK/knp-$KNP_VERSION
  write_wrapper "$dir" sigs.k8s.io/kube-network-policies "$KNP_VERSION"
  # Kernels built without CONFIG_NFT_QUEUE (ours) reject nftables' native queue expression; the
  # xtables NFQUEUE target through nft_compat does the same job, so the source is patched to use it.
  patched_copy "$dir" sigs.k8s.io/kube-network-policies "$KNP_VERSION"
  python3 "$(dirname "$0")/knp_nfqueue_patch.py" "$dir/src/pkg/networkpolicy"
  gobuild "$dir" "$out.tmp" "-s -w" sigs.k8s.io/kube-network-policies/cmd
  mv "$out.tmp/cmd" "$out.tmp/kube-network-policies"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_helm() {
  local out=$TOOLS_DIR/helm-$HELM_VERSION
  [[ -x $out/helm ]] && { log "helm cached in $out"; return 0; }
  log "building helm $HELM_VERSION"
  local dir=$WORK/helm-$HELM_VERSION
  write_wrapper "$dir" helm.sh/helm/v3 "$HELM_VERSION"
  gobuild "$dir" "$out.tmp" "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" helm.sh/helm/v3/cmd/helm
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_kube_score() {
  local out=$TOOLS_DIR/kube-score-$KUBE_SCORE_VERSION
  [[ -x $out/kube-score ]] && { log "kube-score cached in $out"; return 0; }
  log "building kube-score $KUBE_SCORE_VERSION"
  local dir=$WORK/kube-score-$KUBE_SCORE_VERSION
  write_wrapper "$dir" github.com/zegl/kube-score "$KUBE_SCORE_VERSION"
  gobuild "$dir" "$out.tmp" "-s -w -X main.version=$KUBE_SCORE_VERSION" github.com/zegl/kube-score/cmd/kube-score
  rm -rf "$out"; mv "$out.tmp" "$out"
}

# The binary's name carries a hash of its source, so a change to it builds anew.
local_path_binary() {
  echo "$TOOLS_DIR/level5-local-path-$(cat "$(dirname "$0")"/local-path/{go.mod,go.sum,main.go} | sha256sum | cut -c1-12)"
}

build_local_path() {
  local out; out=$(local_path_binary)
  [[ -x $out ]] && { log "level5-local-path cached in $out"; return 0; }
  log "building level5-local-path (the sig-storage provisioner library from module sources)"
  mkdir -p "$TOOLS_DIR"
  (cd "$(dirname "$0")/local-path" && GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags "-s -w" -o "$out.tmp" .)
  mv "$out.tmp" "$out"
}

case ${1:-all} in
  all) build_kubernetes; build_gvisor; build_knp; build_helm; build_kube_score; build_local_path ;;
  chart-tools) build_helm; build_kube_score ;;
  kubernetes) build_kubernetes ;;
  gvisor) build_gvisor ;;
  knp) build_knp ;;
  helm) build_helm ;;
  kube-score) build_kube_score ;;
  local-path) build_local_path ;;
  local-path-binary) local_path_binary ;;
  *) die "unknown target '$1'. Use one of: all kubernetes gvisor knp helm kube-score chart-tools local-path" ;;
esac
