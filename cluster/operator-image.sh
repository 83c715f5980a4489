#!/usr/bin/env bash
# Build the operator image (level5.local/operator:dev) without a registry or a Docker engine, as three
# cached layers, then import it into the running cluster's containerd:
#  1. base: a Debian bookworm minbase rootfs (debootstrap) with python3 and python3-venv, the user
#     level5 (uid/gid 65532) and its state directory /var/lib/level5. Cached under a key over this
#     recipe (suite, packages, the build_base function), so it is built once.
#  2. deps: a venv at /opt/level5/venv holding level5's dependencies from pyproject.toml. pip downloads
#     their wheels on the host for the image's own Python version, glibc and CPU, and the image's own
#     python installs them offline in a chroot. Cached under a key over the base key and the dependency
#     list, so it is rebuilt only when pyproject.toml's dependencies change.
#  3. app: the level5 wheel built from this checkout (layer 5's modules compiled by setup.py, for the
#     host Python, which must be the image's version), installed without dependencies into an overlay
#     above the deps rootfs (kept unpacked in the cache), so the layer is exactly the added files; rebuilt
#     only when pyproject.toml, setup.py, README.md or operator/ change. Then the image config: kopf
#     run ... as uid 65532.
# The root Dockerfile builds the same image where a Docker engine exists.
# Usage: operator-image.sh            (LEVEL5_OPERATOR_IMAGE overrides the tag)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/images.sh"
ROOT=$(cd "$HERE/.." && pwd)
TAG=${LEVEL5_OPERATOR_IMAGE:-level5.local/operator:dev}
# The host Python that downloads the wheels and builds level5's wheel (a Python with pip, of the image's
# version: the dependencies' wheels are chosen for the image's Python, but level5's own wheel holds
# modules compiled for the Python that builds it).
PY=${LEVEL5_BUILD_PYTHON:-$ROOT/.venv/bin/python}
MIRROR=${LEVEL5_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
SUITE_PYTHON=3.11
BASE_PACKAGES=python3,python3-venv,ca-certificates
VENV=/opt/level5/venv
STATE_DIR=/var/lib/level5
ENTRYPOINT=(kopf run --standalone --liveness=http://0.0.0.0:8080/healthz -m level5.handlers)
CMD=(--all-namespaces)

need umoci "apt-get install -y umoci"
need debootstrap "apt-get install -y debootstrap"
need chroot "apt-get install -y coreutils"
need unshare "apt-get install -y util-linux"
[[ -x $PY ]] || die "no build Python at $PY. Fix: make venv (or set LEVEL5_BUILD_PYTHON to a python3 with pip)"
"$PY" -m pip --version >/dev/null 2>&1 || die "$PY has no pip. Fix: make venv"
"$PY" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$SUITE_PYTHON'.split('.'))))" \
  || die "$PY is not Python $SUITE_PYTHON ($SUITE's), for which level5's wheel compiles its modules. Fix:" \
    "set LEVEL5_BUILD_PYTHON to a python$SUITE_PYTHON with pip"

WORK=$(mktemp -d "$IMG_DIR/operator.XXXX")
trap 'rm -rf "$WORK"' EXIT

key() { sha256sum | cut -c1-12; }

# in_chroot ROOTFS CMD...: run CMD in ROOTFS as root with a clean environment (nothing of the host's
# pip or Python settings leaks in).
in_chroot() {
  local rootfs=$1; shift
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 "$@"
}

# image_pip ROOTFS ARGS...: the image's own pip (Debian's pip wheel, run by the venv's python), so
# neither pip nor setuptools ends up in the venv.
image_pip() {
  local rootfs=$1 whl; shift
  whl=$(cd "$rootfs" && compgen -G "usr/share/python-wheels/pip-*.whl" | head -n1) \
    || die "no pip wheel in the operator base image (python3-venv should bring it)"
  in_chroot "$rootfs" "$VENV/bin/python" "/$whl/pip" --disable-pip-version-check --no-cache-dir "$@"
}

# prune_others TAG: delete cached tarballs of the same image name under other keys.
prune_others() {
  local keep prefix f
  keep=$(tarball_for "$1"); prefix=$(tarball_for "${1%:*}:@"); prefix=${prefix%@.oci.tar}
  for f in "$prefix"*.oci.tar; do [[ -e $f && $f != "$keep" ]] && rm -f "$f" "$f.key"; done
  return 0
}

build_base() {
  local rootfs=$1
  log "debootstrap $SUITE minbase with $BASE_PACKAGES for the operator image (about a minute)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$MIRROR" \
    >"$LEVEL5_CACHE_DIR/debootstrap-operator.log" 2>&1 \
    || die "debootstrap failed (see $LEVEL5_CACHE_DIR/debootstrap-operator.log). Fix: check that Debian's package mirror is reachable"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/locale
  in_chroot "$rootfs" python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "the $SUITE image's python3 is older than 3.11"
  in_chroot "$rootfs" groupadd -g 65532 level5
  in_chroot "$rootfs" useradd -K UID_MAX=65532 -u 65532 -g 65532 -d "$STATE_DIR" -M -s /usr/sbin/nologin level5
  install -d -o 65532 -g 65532 -m 0750 "$rootfs$STATE_DIR"
}

# The dependency list, one requirement a line, from pyproject.toml.
dependencies() {
  "$PY" -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' \
    "$ROOT/pyproject.toml"
}

build_deps() {
  local rootfs=$1 pyver glibc arch plats=() m
  pyver=$(in_chroot "$rootfs" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  glibc=$(in_chroot "$rootfs" python3 -c 'import platform; print(platform.libc_ver()[1])')
  arch=$(in_chroot "$rootfs" python3 -c 'import platform; print(platform.machine())')
  # Every manylinux tag the image's glibc can load, newest first.
  for ((m = ${glibc#*.}; m >= 5; m--)); do plats+=(--platform "manylinux_2_${m}_$arch"); done
  plats+=(--platform "manylinux2014_$arch" --platform "manylinux2010_$arch" --platform "manylinux1_$arch")
  mkdir -p "$rootfs/tmp/wheels"
  dependencies >"$rootfs/tmp/wheels/requirements.txt"
  log "downloading wheels for Python $pyver, glibc $glibc, $arch"
  "$PY" -m pip download -q --disable-pip-version-check --only-binary=:all: --implementation cp \
    --python-version "$pyver" "${plats[@]}" -d "$rootfs/tmp/wheels" -r "$rootfs/tmp/wheels/requirements.txt" \
    || die "pip could not download the operator's dependencies. Fix: check that PyPI is reachable"
  in_chroot "$rootfs" python3 -m venv --without-pip "$VENV"
  image_pip "$rootfs" install -q --root-user-action=ignore --no-index --find-links /tmp/wheels \
    -r /tmp/wheels/requirements.txt
  image_pip "$rootfs" check >/dev/null || die "the operator's dependencies are inconsistent (pip check)"
  rm -rf "$rootfs/tmp/wheels"
}

build_app() {
  local rootfs=$1 wheel
  wheel=$(compgen -G "$WORK/dist/level5-*.whl" | head -n1) || die "no level5 wheel was built"
  cp "$wheel" "$rootfs/tmp/"
  image_pip "$rootfs" install -q --root-user-action=ignore --no-index --no-deps "/tmp/${wheel##*/}"
  rm -f "$rootfs/tmp/${wheel##*/}"
  # Fail the build, not the pod: the handlers import and kopf runs in the image as built.
  in_chroot "$rootfs" "$VENV/bin/python" -c 'import level5.handlers' \
    || die "level5.handlers does not import in the operator image"
  in_chroot "$rootfs" "$VENV/bin/kopf" --version >/dev/null || die "kopf does not run in the operator image"
}

configure_app() {
  local image=$1 cfg=() a
  cfg+=(--clear=config.entrypoint --clear=config.cmd --clear=config.env)
  cfg+=(--config.user=65532:65532 "--config.workingdir=$STATE_DIR" --config.exposedports=8080/tcp)
  cfg+=("--config.env=PATH=$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  cfg+=("--config.env=LEVEL5_AUDIT_PATH=$STATE_DIR/audit.jsonl" "--config.env=HOME=$STATE_DIR")
  cfg+=(--config.env=PYTHONDONTWRITEBYTECODE=1 --config.env=PYTHONUNBUFFERED=1)
  for a in "${ENTRYPOINT[@]}"; do cfg+=("--config.entrypoint=$a"); done
  for a in "${CMD[@]}"; do cfg+=("--config.cmd=$a"); done
  cfg+=(--config.label=org.opencontainers.image.title=level5-operator)
  umoci config --image "$image" --author level5 "${cfg[@]}"
}

# add_layer BASE_TAG NEW_TAG LAYER_FN [KEEP]: NEW_TAG is BASE_TAG plus one layer holding what LAYER_FN
# (called with the unpacked rootfs) changed. With KEEP, the finished rootfs is kept at that path.
add_layer() {
  local base=$1 tag=$2 fn=$3 keep=${4:-} w
  [[ ${base##*:} != "${tag##*:}" ]] || die "add_layer: $base and $tag share the reference ${tag##*:}"
  w=$(mktemp -d "$WORK/layer.XXXX")
  mkdir -p "$w/oci"
  tar -C "$w/oci" -xf "$(tarball_for "$base")"
  umoci unpack --image "$w/oci:${base##*:}" "$w/bundle" >/dev/null
  "$fn" "$w/bundle/rootfs"
  umoci repack --image "$w/oci:${tag##*:}" --history.created_by "level5 operator-image.sh: $fn" "$w/bundle"
  save_layout "$w/oci" "${base##*:}" "$tag"
  [[ -z $keep ]] || mv "$w/bundle/rootfs" "$keep"
  rm -rf "$w"
  log "built image $tag"
}

# save_layout LAYOUT OLD_REF TAG: drop OLD_REF from the OCI layout and cache it as the tarball of TAG.
save_layout() {
  umoci rm --image "$1:$2"
  umoci gc --layout "$1"
  tar -C "$1" -cf "$(tarball_for "$3").tmp" .
  mv "$(tarball_for "$3").tmp" "$(tarball_for "$3")"
}

# unpacked_deps: the deps image's rootfs, kept unpacked beside its tarball (umoci unpack is the slow
# part of a rebuild). App builds only read it: they write into an overlay above it.
unpacked_deps() {
  local w d
  [[ -d $DEPS_ROOTFS ]] && return 0
  w=$(mktemp -d "$WORK/unpack.XXXX")
  mkdir -p "$w/oci"
  tar -C "$w/oci" -xf "$(tarball_for "$DEPS_TAG")"
  umoci unpack --image "$w/oci:${DEPS_TAG##*:}" "$w/bundle" >/dev/null
  mv "$w/bundle/rootfs" "$DEPS_ROOTFS"
  rm -rf "$w"
}

# app_layer LAYER_TAR: install level5 into an overlay above the unpacked deps rootfs (in a private
# mount namespace, so no mount outlives this command) and tar the overlay's upper directory: exactly
# the files the install added. A deletion (an overlay whiteout) would need an OCI whiteout: refuse it.
app_layer() {
  local o=$WORK/overlay
  mkdir -p "$o/upper" "$o/work" "$o/merged"
  export -f build_app in_chroot image_pip log die
  export VENV WORK
  # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
  unshare --mount --propagation private bash -euo pipefail -c \
    'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/merged"
     build_app "$2/merged"' _ "$DEPS_ROOTFS" "$o" || die "installing level5 into the operator image failed"
  [[ -z $(find "$o/upper" \( -type c -o -type b \) -print -quit) ]] \
    || die "installing level5 deleted files of the deps layer; an app layer cannot express that"
  (cd "$o/upper" && find . -mindepth 1 -maxdepth 1 -printf '%P\0' \
    | tar --null --numeric-owner --sort=name -cf "$1" -T -)
  rm -rf "$o"
}

start=$SECONDS

# 1. base
base_key=$( { echo "$SUITE $BASE_PACKAGES $MIRROR"; declare -f build_base in_chroot; } | key)
BASE_TAG=level5.local/operator-base:$SUITE-$base_key
if [[ ! -s $(tarball_for "$BASE_TAG") ]]; then
  mkdir -p "$WORK/base"
  build_base "$WORK/base/rootfs"
  pack_rootfs "$WORK/base/rootfs" "$BASE_TAG" 65532:65532 python3
  rm -rf "$WORK/base"
  prune_others "$BASE_TAG"
fi

# 2. deps
deps_key=$( { echo "$base_key"; dependencies; declare -f build_deps image_pip; } | key)
DEPS_TAG=level5.local/operator-deps:$deps_key
DEPS_ROOTFS=$IMG_DIR/operator-deps-rootfs-$deps_key
if [[ ! -s $(tarball_for "$DEPS_TAG") ]]; then
  rm -rf "$DEPS_ROOTFS"
  add_layer "$BASE_TAG" "$DEPS_TAG" build_deps "$DEPS_ROOTFS"
  prune_others "$DEPS_TAG"
fi
for d in "$IMG_DIR"/operator-deps-rootfs-*; do [[ $d == "$DEPS_ROOTFS" ]] || rm -rf "$d"; done

# 3. app
app_key=$( { echo "$deps_key ${ENTRYPOINT[*]} ${CMD[*]}"; declare -f build_app app_layer configure_app
  cd "$ROOT" && find pyproject.toml setup.py README.md operator -type f ! -path '*/__pycache__/*' \
    ! -path '*.egg-info/*' ! -name '*.so' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } | key)
tarball=$(tarball_for "$TAG")
if [[ -s $tarball && $(cat "$tarball.key" 2>/dev/null) == "$app_key" ]]; then
  log "image $TAG is up to date (sources unchanged)"
else
  mkdir -p "$WORK/src" "$WORK/app/oci"
  # (Without the checkout's own compiled modules: the wheel's are built from these sources.)
  tar -C "$ROOT" --exclude=__pycache__ --exclude='*.egg-info' --exclude='*.so' -cf - pyproject.toml setup.py \
    README.md operator \
    | tar -C "$WORK/src" -xf -
  "$PY" -m pip wheel -q --disable-pip-version-check --no-deps -w "$WORK/dist" "$WORK/src" >/dev/null \
    || die "could not build the level5 wheel"
  unpacked_deps
  app_layer "$WORK/app/layer.tar"
  tar -C "$WORK/app/oci" -xf "$(tarball_for "$DEPS_TAG")"
  umoci raw add-layer --image "$WORK/app/oci:$deps_key" --tag "${TAG##*:}" \
    --history.created_by "level5 operator-image.sh: build_app" "$WORK/app/layer.tar"
  configure_app "$WORK/app/oci:${TAG##*:}"
  save_layout "$WORK/app/oci" "$deps_key" "$TAG"
  echo "$app_key" >"$tarball.key"
  log "built image $TAG"
fi
log "operator image $TAG ready in $((SECONDS - start))s ($(du -h "$tarball" | cut -f1) tarball)"

if pid_alive containerd; then import_image "$TAG"; fi
