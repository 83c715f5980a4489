#!/usr/bin/env bash
# Build the sandbox runner image without Docker: the locally built sandbox base image plus
# sandbox-image/runner.py and policy.py (the runtime policy) at /opt/level5, then import it into the running cluster's containerd.
# (sandbox-image/Dockerfile builds the same image where a Docker engine exists.)
source "$(dirname "$0")/../cluster/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${LEVEL5_SANDBOX_IMAGE:-level5.local/sandbox:dev}
src=$(mktemp -d)
for file in runner.py policy.py warm.py; do
  [[ -f $HERE/$file ]] || die "sandbox-image/$file is missing"
  cp "$HERE/$file" "$src/$file"
done
bash "$HERE/../cluster/images.sh" derive "$SANDBOX_TAG" "$TAG" "$src" /opt/level5
rm -rf "$src"
if pid_alive containerd; then bash "$HERE/../cluster/images.sh" import-one "$TAG"; fi
