# Shared helpers for the hack/cluster scripts. Sourced, not run.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=versions.sh
. "$ROOT/hack/cluster/versions.sh"
CACHE=${KUBESKIPPY_CACHE_DIR:-$ROOT/.cache}
STATE=$ROOT/.cluster
KUBECONFIG_PATH=$STATE/kubeconfig
CLUSTER_NAME=kubeskippy
KUBE_BIN=$CACHE/bin/kube-v$KUBE_VERSION
ETCD_BIN=$CACHE/bin/etcd-v$ETCD_VERSION
KWOK_BIN=$CACHE/bin/kwok-v$KWOK_VERSION
MS_BIN=$CACHE/bin/metrics-server-v$METRICS_SERVER_VERSION
NODE_COUNT=${KUBESKIPPY_NODES:-3}

# kwokctl reads these: every component comes from our cache, so it never downloads anything.
export KWOK_WORKDIR=$STATE/kwok
export KWOK_KUBE_VERSION=v$KUBE_VERSION
export KWOK_KUBE_BINARY_PREFIX=$KUBE_BIN
export KWOK_KUBECTL_BINARY=$KUBE_BIN/kubectl
export KWOK_ETCD_BINARY=$ETCD_BIN/etcd
export KWOK_CONTROLLER_BINARY=$KWOK_BIN/kwok
# A wrapper that starts the real $MS_BIN/metrics-server once the apiserver answers (see the script for why).
export KWOK_METRICS_SERVER_BINARY=$ROOT/hack/cluster/metrics-server-after-apiserver.sh
export KWOK_RUNTIME=binary
# kwokctl runs `kubectl kustomize` from PATH: make it ours (a distribution kubectl may be too old, or absent).
export PATH=$KUBE_BIN:$PATH

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
kwokctl() { "$KWOK_BIN/kwokctl" --name "$CLUSTER_NAME" "$@"; }
kubectl() { "$KUBE_BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# cluster_healthy — the apiserver answers /readyz, every fake node is Ready and metrics.k8s.io is Available.
cluster_healthy() {
  [ -f "$KUBECONFIG_PATH" ] || return 1
  kubectl get --raw /readyz --request-timeout=5s >/dev/null 2>&1 || return 1
  local ready
  ready=$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c True)
  [ "${ready:-0}" -ge "$NODE_COUNT" ] || return 1
  [ "$(kubectl get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" = True ]
}

# config_hash — a digest of the simulation and metrics-server manifests a cluster is created from. A running cluster
# created from other manifests (an older checkout) is recreated by up.sh, so it never simulates stale behaviour.
config_hash() {
  # up.sh too: the components' flags are there.
  cat "$ROOT/hack/cluster/manifests/kwok.yaml" "$ROOT"/hack/cluster/manifests/metrics-server/* "$ROOT/hack/cluster/manifests/nodes.yaml.tpl" "$ROOT/hack/cluster/up.sh" 2>/dev/null | sha256sum | cut -c1-16
}

# config_current — the running cluster was created from the manifests as they are now.
config_current() {
  [ "$(cat "$STATE/config.hash" 2>/dev/null)" = "$(config_hash)" ]
}

# metrics_server_running — the metrics-server process kwokctl started is alive.
metrics_server_running() {
  local pidfile="$KWOK_WORKDIR/clusters/$CLUSTER_NAME/pids/metrics-server.pid"
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# metrics_ready_or_server_gone — succeeds once the cluster is healthy, or as soon as metrics-server has exited
# (so that the caller need not wait out a timeout for a process that will never answer).
metrics_ready_or_server_gone() {
  { cluster_healthy && metrics_server_running; } || ! metrics_server_running
}

# wait_for DESCRIPTION TIMEOUT_SECONDS CMD... — poll CMD every second until it succeeds or the time is up.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local t0=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - t0)) -ge "$timeout" ]; then return 1; fi
    sleep 1
  done
  log "$what after $((SECONDS - t0))s"
}
