#!/usr/bin/env bash
# Print shell exports for using the local cluster: eval "$(make -s cluster-env)".
source "$(dirname "$0")/lib.sh"
echo "export KUBECONFIG='$KUBECONFIG_FILE'"
# The venv's commands (kubectl-level5, level5) last, so they never shadow the system's python3.
venv_bin="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin"
echo "export PATH='$BIN_DIR:$TOOLS_DIR/helm-$HELM_VERSION:$TOOLS_DIR/kube-score-$KUBE_SCORE_VERSION':\"\$PATH\":'$venv_bin'"
