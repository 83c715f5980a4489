#!/usr/bin/env bash
# Print shell exports for using the local cluster: eval "$(make -s cluster-env)".
source "$(dirname "$0")/lib.sh"
echo "export KUBECONFIG='$KUBECONFIG_FILE'"
echo "export PATH='$BIN_DIR:$TOOLS_DIR/helm-$HELM_VERSION:$TOOLS_DIR/kube-score-$KUBE_SCORE_VERSION':\"\$PATH\""
