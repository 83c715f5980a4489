#!/usr/bin/env bash
# The main job: bring up the local cluster (if needed), build and import the sandbox image, install the
# CRD, run the operator, apply the seed's CSV-analysis task and follow it to Succeeded.
# With OPENAI_API_KEY set it uses that model (OPENAI_BASE_URL, LEVEL5_MODEL_NAME optional); without,
# it starts the scripted local model server, whose first answer has a bug the loop must fix.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/cluster/lib.sh"
cd "$ROOT"
PY=$ROOT/.venv/bin/python
NS=${LEVEL5_DEMO_NAMESPACE:-level5-demo}
DEMO_DIR=$LEVEL5_CACHE_DIR/demo
mkdir -p "$DEMO_DIR"
rm -f "$DEMO_DIR/audit.jsonl"

bash cluster/status.sh >/dev/null 2>&1 || bash cluster/up.sh
bash sandbox-image/build.sh
eval "$(bash cluster/env.sh)"
kubectl apply -f crds/ >/dev/null
kubectl wait --for=condition=Established crd/agenttasks.level5.dev --timeout=60s >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [[ -n ${OPENAI_API_KEY:-} ]]; then
  export LEVEL5_MODEL_BASE_URL=${OPENAI_BASE_URL:-https://api.openai.com/v1}
  export LEVEL5_MODEL_NAME=${LEVEL5_MODEL_NAME:-gpt-4o-mini}
  export LEVEL5_MODEL_API_KEY=$OPENAI_API_KEY
  log "using the model $LEVEL5_MODEL_NAME at $LEVEL5_MODEL_BASE_URL"
else
  log "OPENAI_API_KEY is not set: using the SCRIPTED local model (demo/model-script.json), not a real LLM"
  "$PY" tests/scripted_model.py --port 18089 --script demo/model-script.json >"$DEMO_DIR/model.log" 2>&1 &
  pids+=($!)
  export LEVEL5_MODEL_BASE_URL=http://127.0.0.1:18089/v1 LEVEL5_MODEL_NAME=scripted LEVEL5_MODEL_API_KEY=none
fi
export LEVEL5_AUDIT_PATH=$DEMO_DIR/audit.jsonl

kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$NS" delete agenttask csv-analysis --ignore-not-found >/dev/null
"$PY" -m kopf run --standalone -m level5.handlers --namespace "$NS" >"$DEMO_DIR/operator.log" 2>&1 &
pids+=($!)
log "operator running (log: $DEMO_DIR/operator.log); applying samples/csv-analysis.yaml"
kubectl -n "$NS" apply -f samples/csv-analysis.yaml

phase=""
for _ in $(seq 1 300); do
  phase=$(kubectl -n "$NS" get agenttask csv-analysis -o jsonpath='{.status.phase}' 2>/dev/null || true)
  [[ $phase == Succeeded || $phase == Failed ]] && break
  sleep 1
done
echo
kubectl -n "$NS" get agenttasks
echo
echo "--- iterations (status.history) ---"
kubectl -n "$NS" get agenttask csv-analysis -o jsonpath='{range .status.history[*]}{.iteration}{"\t"}{.reviewVerdict}{"\t"}exit={.exitCode}{"\t"}score={.score}{"\t"}{.reason}{"\n"}{end}'
echo "--- result output ---"
kubectl -n "$NS" get agenttask csv-analysis -o jsonpath='{.status.result.stdoutExcerpt}'; echo
echo "--- events ---"
kubectl -n "$NS" get events --field-selector involvedObject.name=csv-analysis --sort-by=.lastTimestamp | tail -n 12
echo "--- audit trail ---"
"$ROOT/.venv/bin/level5" audit verify "$LEVEL5_AUDIT_PATH"
[[ $phase == Succeeded ]] || die "the demo task ended in phase '${phase:-unknown}' (operator log: $DEMO_DIR/operator.log)"
log "demo task Succeeded"
