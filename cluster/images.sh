#!/usr/bin/env bash
# Build the images the cluster needs without a registry or a Docker engine, cached by tag:
#  - the pause image: a tiny static C program, packed with umoci;
#  - the sandbox base image: a Debian bookworm minbase rootfs (debootstrap) with python3, numpy and
#    pandas, owned by nobody, packed with umoci;
#  - the JavaScript sandbox base image: Debian trixie with python3, nodejs and the locked npm packages.
# Images are kept as OCI-layout tarballs under LEVEL5_CACHE_DIR/images and imported into containerd's
# k8s.io namespace (the one the CRI uses) by `import_image`.
# Usage: images.sh build | build-js | import | import-one TAG | derive BASE NEW SRC DEST | pack ROOTFS TAG USER CMD...
# (The operator image is built by cluster/operator-image.sh, which sources this file for its helpers.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMG_DIR=$LEVEL5_CACHE_DIR/images
mkdir -p "$IMG_DIR"

# tarball_for TAG: where the OCI-layout tarball of TAG is cached.
tarball_for() { local t=${1//[\/:]/_}; echo "$IMG_DIR/$t.oci.tar"; }

# pack_rootfs ROOTFS TAG USER CMD_JSON: make an OCI tarball of a rootfs directory with umoci.
pack_rootfs() {
  local rootfs=$1 tag=$2 user=$3 work
  shift 3
  work=$(mktemp -d "$IMG_DIR/pack.XXXX")
  local name=${tag%:*} ver=${tag##*:}
  umoci init --layout "$work/oci"
  umoci new --image "$work/oci:$ver"
  umoci unpack --image "$work/oci:$ver" "$work/bundle" >/dev/null
  cp -a "$rootfs/." "$work/bundle/rootfs/"
  umoci repack --image "$work/oci:$ver" "$work/bundle"
  local cfg=(--config.user "$user" --config.workingdir / --author level5
             --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  for c in "$@"; do cfg+=(--config.cmd "$c"); done
  umoci config --image "$work/oci:$ver" "${cfg[@]}"
  umoci gc --layout "$work/oci"
  tar -C "$work/oci" -cf "$(tarball_for "$tag").tmp" .
  mv "$(tarball_for "$tag").tmp" "$(tarball_for "$tag")"
  rm -rf "$work"
  log "built image $name:$ver"
}

build_pause() {
  [[ -s $(tarball_for "$PAUSE_TAG") ]] && return 0
  need gcc "apt-get install -y gcc libc6-dev"
  local w; w=$(mktemp -d)
  cat >"$w/pause.c" <<'EOF'
/* The pod sandbox's first process: hold the namespaces, reap orphans, exit on SIGINT/SIGTERM. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void on_term(int sig) { (void)sig; _exit(0); }
static void on_chld(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction t = {.sa_handler = on_term}, c = {.sa_handler = on_chld, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGINT, &t, NULL); sigaction(SIGTERM, &t, NULL); sigaction(SIGCHLD, &c, NULL);
  for (;;) pause();
}
EOF
  mkdir -p "$w/rootfs"
  gcc -Os -static -o "$w/rootfs/pause" "$w/pause.c"
  pack_rootfs "$w/rootfs" "$PAUSE_TAG" 65535 /pause
  rm -rf "$w"
}

# sandbox_rootfs ROOTFS SUITE PACKAGES LOG: a slim Debian minbase rootfs of SUITE with PACKAGES (comma
# separated) and the user sandbox (65532), as both sandbox base images start.
sandbox_rootfs() {
  local rootfs=$1 suite=$2 packages=$3 logfile=$LEVEL5_CACHE_DIR/$4
  need debootstrap "apt-get install -y debootstrap"
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" http://deb.debian.org/debian \
    >"$logfile" 2>&1 \
    || die "debootstrap failed (see $logfile). Fix: check that Debian's package mirror is reachable"
  # Slim the image: no package manager caches, docs or locales are needed to run code.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/locale
  chroot "$rootfs" /usr/sbin/groupadd -g 65532 sandbox
  chroot "$rootfs" /usr/sbin/useradd -u 65532 -g 65532 -d /tmp -s /usr/sbin/nologin sandbox
}

build_sandbox_base() {
  [[ -s $(tarball_for "$SANDBOX_TAG") ]] && return 0
  local w; w=$(mktemp -d "$IMG_DIR/rootfs.XXXX")
  log "debootstrap bookworm minbase with python3, numpy, pandas (about a minute)"
  sandbox_rootfs "$w/rootfs" bookworm python3,python3-numpy,python3-pandas,ca-certificates debootstrap.log
  pack_rootfs "$w/rootfs" "$SANDBOX_TAG" 65532:65532 python3
  rm -rf "$w"
}

# The JavaScript sandbox base image: a Debian trixie minbase rootfs with python3 (the runner) and nodejs,
# plus the npm packages of sandbox-image/javascript installed with `npm ci` from its lockfile (integrity
# hashes checked, no install scripts run) at /node_modules, where Node finds them from any script.
build_sandbox_js_base() {
  [[ -s $(tarball_for "$JS_SANDBOX_TAG") ]] && return 0
  need npm "apt-get install -y npm"
  local w; w=$(mktemp -d "$IMG_DIR/rootfs-js.XXXX")
  log "debootstrap trixie minbase with python3 and nodejs (about two minutes)"
  sandbox_rootfs "$w/rootfs" trixie python3,nodejs,ca-certificates debootstrap-js.log
  mkdir -p "$w/npm"
  cp "$(dirname "$JS_LOCKFILE")/package.json" "$JS_LOCKFILE" "$w/npm/"
  (cd "$w/npm" && npm ci --ignore-scripts --no-audit --no-fund --omit=dev >"$LEVEL5_CACHE_DIR/npm-js.log" 2>&1) \
    || die "npm ci failed (see $LEVEL5_CACHE_DIR/npm-js.log). Fix: check that the npm registry is reachable"
  rm -f "$w/npm/node_modules/.package-lock.json"
  cp -a "$w/npm/node_modules" "$w/rootfs/node_modules"
  chown -R root:root "$w/rootfs/node_modules"
  chmod -R a+rX,go-w "$w/rootfs/node_modules"
  pack_rootfs "$w/rootfs" "$JS_SANDBOX_TAG" 65532:65532 python3
  rm -rf "$w"
}

# derive BASE_TAG NEW_TAG SRC DEST: NEW_TAG is BASE_TAG plus one layer holding directory SRC at DEST.
derive() {
  local base=$1 tag=$2 src=$3 dest=$4 work
  work=$(mktemp -d "$IMG_DIR/derive.XXXX")
  mkdir -p "$work/oci"
  tar -C "$work/oci" -xf "$(tarball_for "$base")"
  umoci unpack --image "$work/oci:${base##*:}" "$work/bundle" >/dev/null
  mkdir -p "$work/bundle/rootfs$dest"
  cp -a "$src/." "$work/bundle/rootfs$dest/"
  chown -R root:root "$work/bundle/rootfs$dest"
  chmod -R a+rX,go-w "$work/bundle/rootfs$dest"
  umoci repack --image "$work/oci:${tag##*:}" "$work/bundle"
  umoci rm --image "$work/oci:${base##*:}"
  umoci gc --layout "$work/oci"
  tar -C "$work/oci" -cf "$(tarball_for "$tag")" .
  rm -rf "$work"
  log "built image $tag"
}

# import_image TAG: load the cached tarball of TAG into containerd's k8s.io namespace.
import_image() {
  local tag=$1 tarball
  tarball=$(tarball_for "$tag")
  [[ -s $tarball ]] || die "no image tarball for $tag at $tarball. Fix: run cluster/images.sh build"
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --base-name "${tag%:*}" "$tarball" >/dev/null
  log "imported $tag into containerd"
}

# Sourced (by cluster/operator-image.sh) only the helpers above are defined; run, it does one command.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

case ${1:-build} in
  build) need umoci "apt-get install -y umoci"; build_pause; build_sandbox_base; build_sandbox_js_base ;;
  build-js) need umoci "apt-get install -y umoci"; build_sandbox_js_base ;;
  import) import_image "$PAUSE_TAG"; import_image "$SANDBOX_TAG" ;;
  import-one) import_image "$2" ;;
  derive) derive "$2" "$3" "$4" "$5" ;;
  pack) pack_rootfs "$2" "$3" "$4" "${@:5}" ;;
  *) die "unknown command '$1'. Use: build | build-js | import | import-one TAG | derive BASE NEW SRC DEST | pack ROOTFS TAG USER CMD..." ;;
esac
