#!/usr/bin/env bash
# Starts metrics-server once the apiserver answers. kwokctl (binary runtime) starts every component at the same
# moment and never restarts one; metrics-server reads the request-header CA from the apiserver first thing and
# exits when the apiserver is not listening yet — a race it lost now and then, leaving metrics.k8s.io down for
# good. lib.sh points kwokctl's KWOK_METRICS_SERVER_BINARY here. `exec` keeps the pid kwokctl recorded.
set -uo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"
kubeconfig=
for arg in "$@"; do
  case $arg in --kubeconfig=*) kubeconfig=${arg#--kubeconfig=} ;; esac
done
if [ -n "$kubeconfig" ]; then
  for _ in $(seq 1 120); do
    "$KUBE_BIN/kubectl" --kubeconfig "$kubeconfig" get --raw /readyz --request-timeout=2s >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
exec "$MS_BIN/metrics-server" "$@"
