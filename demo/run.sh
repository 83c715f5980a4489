#!/usr/bin/env bash
# The main job: bring up the local cluster (if needed), build and import the images, install the operator
# with the Helm chart (release `level5` in level5-system, values demo/values-local.yaml), apply the seed's
# CSV-analysis task in level5-demo and follow it to Succeeded.
# With OPENAI_API_KEY set it uses that model (OPENAI_BASE_URL, LEVEL5_MODEL_NAME optional). Without, it
# starts the embedded real model (cluster/local-model.sh: Qwen2.5-Coder-1.5B-Instruct served by llama.cpp's
# server through xllamacpp; `make demo` installs it first) on the node's address, and stops it at the end
# (README: "The embedded real model"). LEVEL5_DEMO_MODEL=scripted uses the scripted model instead
# (demo/model-script.json: a canned answer with a bug, then its fix; no LLM, the same every time, seconds).
# Re-runnable: the release is upgraded in place and the task is applied anew.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/cluster/lib.sh"
cd "$ROOT"
PY=$ROOT/.venv/bin/python
RELEASE=level5
SYSTEM_NS=level5-system
NS=level5-demo
NODE_IP=10.244.0.1
MODEL_PORT=${LEVEL5_DEMO_MODEL_PORT:-18089}
DEMO_DIR=$LEVEL5_CACHE_DIR/demo
mkdir -p "$DEMO_DIR"
start=$SECONDS

bash cluster/status.sh >/dev/null 2>&1 || bash cluster/up.sh
make -s -C "$ROOT" images
eval "$(bash cluster/env.sh)"
# kubectl finds the `kubectl level5` plugin (kubectl-level5) on PATH.
export PATH=$ROOT/.venv/bin:$PATH

pids=()
local_model=false
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if $local_model; then bash "$ROOT/cluster/local-model.sh" down "$MODEL_PORT"; fi
}
trap cleanup EXIT
# A local server answers one request at a time: the operator queues the rest.
per_endpoint=4
# A request's own time limit (the operator retries after it). The local model on a loaded 2-core machine
# wrote 2 tokens/s (measured 2026-11-30): an 800-token answer would outlast the default 300 s.
model_timeout=300

if [[ -n ${OPENAI_API_KEY:-} ]]; then
  BASE_URL=${OPENAI_BASE_URL:-https://api.openai.com/v1}
  MODEL=${LEVEL5_MODEL_NAME:-gpt-4o-mini}
  API_KEY=$OPENAI_API_KEY
  log "using the model $MODEL at $BASE_URL"
elif [[ ${LEVEL5_DEMO_MODEL:-local} == local ]]; then
  log "OPENAI_API_KEY is not set: using the embedded REAL local model (cluster/local-model.sh); LEVEL5_DEMO_MODEL=scripted runs the scripted one"
  ip -4 addr show | grep -q "inet $NODE_IP/" || die "the node address $NODE_IP is not on this host (is the cluster up?)"
  local_model=true
  bash cluster/local-model.sh up "$NODE_IP" "$MODEL_PORT"
  BASE_URL=$(bash cluster/local-model.sh url "$NODE_IP" "$MODEL_PORT")
  MODEL=$(bash cluster/local-model.sh name) API_KEY=none per_endpoint=1 model_timeout=900
else
  [[ $LEVEL5_DEMO_MODEL == scripted ]] || die "LEVEL5_DEMO_MODEL=$LEVEL5_DEMO_MODEL: use local (the default) or scripted"
  log "LEVEL5_DEMO_MODEL=scripted: using the SCRIPTED model (demo/model-script.json), not a real LLM"
  BASE_URL=http://$NODE_IP:$MODEL_PORT/v1 MODEL=scripted API_KEY=none
  ip -4 addr show | grep -q "inet $NODE_IP/" || die "the node address $NODE_IP is not on this host (is the cluster up?)"
  "$PY" tests/scripted_model.py --host "$NODE_IP" --port "$MODEL_PORT" --script demo/model-script.json \
    >"$DEMO_DIR/model.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do curl -fsS "$BASE_URL/models" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "$BASE_URL/models" >/dev/null || die "the scripted model did not start (log: $DEMO_DIR/model.log)"
fi

kubectl create namespace "$SYSTEM_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$SYSTEM_NS" create secret generic level5-model --from-literal=api-key="$API_KEY" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null

# Objects an earlier demo (or the operator itself) made in the demo namespace become the release's, as
# Helm adopts objects that carry its ownership metadata.
adopt() {
  kubectl get "$@" >/dev/null 2>&1 || return 0
  kubectl annotate --overwrite "$@" meta.helm.sh/release-name=$RELEASE \
    meta.helm.sh/release-namespace=$SYSTEM_NS >/dev/null
  kubectl label --overwrite "$@" app.kubernetes.io/managed-by=Helm >/dev/null
}
adopt namespace "$NS"
adopt -n "$NS" networkpolicy level5-sandbox-deny-all
adopt -n "$NS" resourcequota level5-sandbox-quota
adopt -n "$NS" limitrange level5-sandbox-limits

# The approver roles have fixed names: another release or a test may own them already.
approver=true
owner=$(kubectl get clusterrole level5-approver \
  -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}/{.metadata.annotations.meta\.helm\.sh/release-namespace}' \
  2>/dev/null) && [[ $owner != "$RELEASE/$SYSTEM_NS" ]] && approver=false

# The image's digest as a pod annotation: a rebuilt operator image (same tag) rolls the pod.
digest=$(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls "name==level5.local/operator:dev" \
  | awk 'NR == 2 {print $3}')
# Helm installs crds/ only on first install and never upgrades them: apply them first, as the chart's
# README says for upgrades, so a re-run picks up new fields.
kubectl apply -f charts/level5/crds/ >/dev/null
log "helm upgrade --install $RELEASE charts/level5 -n $SYSTEM_NS (values demo/values-local.yaml)"
helm upgrade --install "$RELEASE" charts/level5 -n "$SYSTEM_NS" --create-namespace \
  -f demo/values-local.yaml \
  --set-string model.baseURL="$BASE_URL" --set-string model.name="$MODEL" \
  --set model.maxConcurrentCallsPerEndpoint=$per_endpoint \
  --set model.timeoutSeconds=$model_timeout \
  --set approverRole.create=$approver \
  --set-string "podAnnotations.level5\.dev/image-digest=${digest:-unknown}" >"$DEMO_DIR/helm.log"
kubectl -n "$SYSTEM_NS" rollout status deployment/$RELEASE --timeout=180s >/dev/null
kubectl -n "$SYSTEM_NS" wait --for=condition=Available deployment/$RELEASE --timeout=60s >/dev/null
log "operator Available: $(kubectl -n "$SYSTEM_NS" get pods -l app.kubernetes.io/instance=$RELEASE \
  -o jsonpath='{.items[0].metadata.name}') (kubectl -n $SYSTEM_NS logs deploy/$RELEASE)"

kubectl -n "$NS" delete agenttask csv-analysis --ignore-not-found --wait=true >/dev/null
log "applying samples/csv-analysis.yaml in namespace $NS (autonomy level C)"
# The webhooks fail closed: retry while the operator's admission server is still starting.
for i in $(seq 1 30); do
  kubectl -n "$NS" apply -f samples/csv-analysis.yaml 2>"$DEMO_DIR/apply.err" && break
  [[ $i == 30 ]] && die "could not apply the task: $(cat "$DEMO_DIR/apply.err")"
  sleep 2
done

phase=""
# A real local model takes tens of seconds per answer on 2 cores: up to 20 minutes for 4 iterations.
for _ in $(seq 1 1200); do
  phase=$(kubectl -n "$NS" get agenttask csv-analysis -o jsonpath='{.status.phase}' 2>/dev/null || true)
  [[ $phase == Succeeded || $phase == Failed || $phase == Cancelled ]] && break
  if [[ $phase == AwaitingApproval && ${announced:-} != true ]]; then
    announced=true
    log "the task waits for a person (autonomy level C; a real model may repeat a failure): see" \
      "kubectl level5 -n $NS pending, then approve, reject or guide it"
  fi
  sleep 1
done
echo
kubectl -n "$NS" get agenttasks
echo
echo "--- iterations: kubectl level5 -n $NS history csv-analysis ---"
kubectl level5 -n "$NS" history csv-analysis || true
echo "--- model $MODEL: $(kubectl -n "$NS" get agenttask csv-analysis \
  -o jsonpath='{.status.iteration} iteration(s), {.status.totals.tokens} tokens, {.status.totals.wallClockSeconds}s') ---"
echo "--- result output ---"
kubectl -n "$NS" get agenttask csv-analysis -o jsonpath='{.status.result.stdoutExcerpt}'; echo
echo "--- events ---"
kubectl -n "$NS" get events --field-selector involvedObject.name=csv-analysis --sort-by=.lastTimestamp | tail -n 12
echo "--- audit trail (from the operator pod) ---"
kubectl -n "$SYSTEM_NS" exec deploy/$RELEASE -- cat /var/lib/level5/audit.jsonl >"$DEMO_DIR/audit.jsonl"
# The task's status keeps its last audit record (seq:hash): the log must still contain it.
checkpoint=$(kubectl -n "$NS" get agenttask csv-analysis -o jsonpath='{.status.audit.seq}:{.status.audit.hash}')
"$ROOT/.venv/bin/level5" audit verify "$DEMO_DIR/audit.jsonl" --checkpoint "$checkpoint"
[[ $phase == Succeeded ]] || die "the demo task ended in phase '${phase:-unknown}' (kubectl -n $SYSTEM_NS logs deploy/$RELEASE)"
log "demo task Succeeded in $((SECONDS - start))s. The operator stays installed: helm status $RELEASE -n $SYSTEM_NS"
