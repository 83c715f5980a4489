#!/usr/bin/env bash
# Build the sandbox runner images without Docker, then import them into the running cluster's containerd:
#  - python:     the locally built sandbox base image plus runner.py, policy.py (the runtime policy) and
#                warm.py (the warm pool's runner) at /opt/level5 (LEVEL5_SANDBOX_IMAGE);
#  - javascript: the JavaScript base image (Node.js and the locked npm packages) plus runner.py,
#                node_launch.py and node_preload.js (Node's runtime policy) (LEVEL5_SANDBOX_IMAGE_JAVASCRIPT).
# Usage: build.sh [python] [javascript]   (no argument: both)
# (sandbox-image/Dockerfile builds the Python image where a Docker engine exists.)
source "$(dirname "$0")/../cluster/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
languages=("$@")
[[ ${#languages[@]} -gt 0 ]] || languages=(python javascript)
for language in "${languages[@]}"; do
  case $language in
    python) tag=${LEVEL5_SANDBOX_IMAGE:-level5.local/sandbox:dev} base=$SANDBOX_TAG
      files=(runner.py policy.py warm.py) ;;
    javascript) tag=${LEVEL5_SANDBOX_IMAGE_JAVASCRIPT:-level5.local/sandbox-js:dev} base=$JS_SANDBOX_TAG
      files=(runner.py node_launch.py node_preload.js)
      bash "$HERE/../cluster/images.sh" build-js ;;
    *) die "unknown language '$language'. Use: build.sh [python] [javascript]" ;;
  esac
  src=$(mktemp -d)
  for file in "${files[@]}"; do
    [[ -f $HERE/$file ]] || die "sandbox-image/$file is missing"
    cp "$HERE/$file" "$src/$file"
  done
  bash "$HERE/../cluster/images.sh" derive "$base" "$tag" "$src" /opt/level5
  rm -rf "$src"
  if pid_alive containerd; then bash "$HERE/../cluster/images.sh" import-one "$tag"; fi
done
