#!/usr/bin/env bash
# Build the sandbox runner image without Docker: the locally built sandbox base image plus
# sandbox-image/runner.py at /opt/level5, then import it into the running cluster's containerd.
# (sandbox-image/Dockerfile builds the same image where a Docker engine exists.)
source "$(dirname "$0")/../cluster/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${LEVEL5_SANDBOX_IMAGE:-level5.local/sandbox:dev}
[[ -f $HERE/runner.py ]] || die "sandbox-image/runner.py is missing"
src=$(mktemp -d)
cp "$HERE/runner.py" "$src/runner.py"
bash "$HERE/../cluster/images.sh" derive "$SANDBOX_TAG" "$TAG" "$src" /opt/level5
rm -rf "$src"
if pid_alive containerd; then bash "$HERE/../cluster/images.sh" import-one "$TAG"; fi
