#!/usr/bin/env bash
# Stop or start the local cluster's API server alone, for fault injection (`make chaos` stops it for tens
# of seconds while tasks run). Every other component keeps running and reconnects when it is back.
# Usage: apiserver.sh stop | start
source "$(dirname "$0")/lib.sh"
case ${1:-} in
  stop) stop_pid kube-apiserver ;;
  start) bash "$(dirname "$0")/up.sh" apiserver ;;
  *) die "unknown command '${1:-}'. Use: apiserver.sh stop | start" ;;
esac
