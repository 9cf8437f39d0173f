#!/usr/bin/env bash
# Brings up the local KubeSkippy cluster — a real kube-apiserver, kube-controller-manager, kube-scheduler and etcd,
# with kwok simulating kubelets on fake nodes and a real metrics-server — all on 127.0.0.1. Idempotent: a healthy
# cluster is left as it is; a half-started or broken one is removed and created again. Builds missing binaries
# first (hack/cluster/build.sh). Prints the kubeconfig path on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t0=$SECONDS

"$ROOT/hack/cluster/build.sh" >/dev/null

if cluster_healthy && config_current; then
  log "cluster already up and healthy"
  echo "$KUBECONFIG_PATH"
  exit 0
fi
if [ -f "$KUBECONFIG_PATH" ] && ! config_current; then
  log "the cluster's simulation manifests changed since it was created: recreating it"
  kwokctl delete cluster >/dev/null 2>&1 || true
fi

# A running cluster can fail one probe under load (the metrics APIService briefly unavailable, a slow /readyz):
# look again for a while before removing it.
if config_current && pgrep -f "$KWOK_WORKDIR/clusters/$CLUSTER_NAME/bin/kube-apiserver" >/dev/null 2>&1 \
    && wait_for "cluster healthy on a second look" 30 cluster_healthy; then
  log "cluster already up and healthy"
  echo "$KUBECONFIG_PATH"
  exit 0
fi

if [ -d "$KWOK_WORKDIR/clusters/$CLUSTER_NAME" ]; then
  log "found a cluster that is not healthy (half-started, or stopped by a reboot): removing it"
  kwokctl delete cluster >/dev/null 2>&1 || true
fi
# Processes left running from this state directory (its files removed by hand, a crashed kwokctl) would hold
# ports and memory: stop them before starting again.
if pgrep -f "$KWOK_WORKDIR/clusters/$CLUSTER_NAME/" >/dev/null 2>&1; then
  log "stopping leftover cluster processes from an earlier run"
  pkill -f "$KWOK_WORKDIR/clusters/$CLUSTER_NAME/" || true
  sleep 2
  pkill -9 -f "$KWOK_WORKDIR/clusters/$CLUSTER_NAME/" || true
fi
rm -rf "$STATE"
mkdir -p "$STATE"
# kwokctl takes the metrics-server manifest list only from a configuration file, and it must be an absolute path.
cat >"$STATE/kwokctl.yaml" <<YAML
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  # Every component listens on loopback only (kwokctl's default is 0.0.0.0).
  bindAddress: 127.0.0.1
  metricsServerManifests:
  - $ROOT/hack/cluster/manifests/metrics-server
YAML

log "starting the control plane (kube v$KUBE_VERSION, etcd v$ETCD_VERSION, kwok v$KWOK_VERSION, metrics-server v$METRICS_SERVER_VERSION)"
# kwokctl picks free ports itself; bindAddress keeps everything on 127.0.0.1 (test/integration/cluster.test.ts checks).
if ! kwokctl create cluster \
    --kubeconfig "$KUBECONFIG_PATH" \
    --enable metrics-server \
    --config "$STATE/kwokctl.yaml" --config "$ROOT/hack/cluster/manifests/kwok.yaml" \
    --extra-args "kube-controller-manager=controllers=*" \
    --extra-args "etcd=watch-progress-notify-interval=5s" \
    --wait 120s >"$STATE/create.log" 2>&1; then
  tail -30 "$STATE/create.log" >&2
  log "kwokctl create cluster failed; logs of each component are under $KWOK_WORKDIR/clusters/$CLUSTER_NAME/logs"
  kwokctl delete cluster >/dev/null 2>&1 || true
  die "the cluster did not start (see above)"
fi
log "control plane up after $((SECONDS - t0))s"
config_hash >"$STATE/config.hash"

for i in $(seq 1 "$NODE_COUNT"); do
  name=kwok-node-$i
  sed -e "s/NODE_NAME/$name/g" -e "s/ZONE/zone-$(( (i - 1) % 2 + 1 ))/g" "$ROOT/hack/cluster/manifests/nodes.yaml.tpl"
  echo '---'
done | kubectl apply -f - >/dev/null

wait_for "nodes Ready" 90 bash -c "[ \$('$KUBE_BIN/kubectl' --kubeconfig '$KUBECONFIG_PATH' get nodes --no-headers 2>/dev/null | grep -cw Ready) -ge $NODE_COUNT ]" \
  || die "the fake nodes did not become Ready within 90s"
wait_for "default ServiceAccount created" 60 kubectl get serviceaccount default -n default \
  || die "the controller-manager did not create the default ServiceAccount within 60s"
# metrics-server starts once the apiserver answers (metrics-server-after-apiserver.sh); should it exit anyway,
# say so at once with its own message rather than waiting out the timeout.
ms_log="$KWOK_WORKDIR/clusters/$CLUSTER_NAME/logs/metrics-server.log"
wait_for "metrics-server answered or exited" 120 metrics_ready_or_server_gone \
  || die "metrics.k8s.io did not become Available within 120s (metrics-server log: $ms_log)"
metrics_server_running \
  || die "metrics-server exited: $(grep -m1 -E 'Error|panic' "$ms_log" 2>/dev/null | cut -c1-300 || echo 'no message in its log') (log: $ms_log)"
log "metrics.k8s.io available"

log "cluster ready in $((SECONDS - t0))s; kubeconfig:"
echo "$KUBECONFIG_PATH"
