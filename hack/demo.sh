#!/usr/bin/env bash
# The main job: brings up the local cluster (building it on first use), installs KubeSkippy's CRDs, deploys the
# demo's failing apps (hack/demo/apps.yaml) and their HealingPolicies (hack/demo/policies.yaml), and runs the operator
# against them for DEMO_SECONDS (default 420), printing every HealingAction as its phase changes and the pods' memory
# and CPU every 30 s. The cpu-api's load is shared by its pods (DEMO_CPU_API_LOAD_M, default 1700m): scaling it out
# lowers each pod's share. A minute in, it rolls out a bad release of the shop. Then it stops the operator and prints a
# summary. The cluster keeps running (npm run cluster:down stops it); the operator's log is in .cluster/demo-operator.log.
# Ctrl-C stops the operator at any time. Only 127.0.0.1 is used.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/hack/cluster/lib.sh"
DEMO_SECONDS=${DEMO_SECONDS:-420}
BAD_RELEASE_AT=${DEMO_BAD_RELEASE_AT:-60}
NS=demo-apps
NODE=$ROOT/node_modules/.bin/node
OPERATOR_LOG=$STATE/demo-operator.log

"$ROOT/hack/cluster/up.sh" >/dev/null
"$ROOT/hack/cluster/status.sh"
echo

say() { printf '[demo T+%3ss] %s\n' "$((SECONDS - t0))" "$*"; }
t0=$SECONDS

"$NODE" "$ROOT/bin/kubeskippy.js" install --kubeconfig "$KUBECONFIG_PATH"
if kubectl get namespace "$NS" >/dev/null 2>&1; then
  say "removing the previous run's $NS namespace"
  kubectl delete namespace "$NS" --wait=true --timeout=180s >/dev/null
fi
kubectl apply -f "$ROOT/hack/demo/apps.yaml"
for d in memory-leak-app cpu-api shop; do kubectl rollout status deployment/$d -n "$NS" --timeout=120s >/dev/null; done
kubectl apply -f "$ROOT/hack/demo/policies.yaml"
say "apps Ready, policies applied; starting the operator (log: $OPERATOR_LOG)"
say "watch it heal in a browser: http://127.0.0.1:18081 (the operator's live dashboard, while the demo runs)"

operator=
seen=$(mktemp)
CPU_API_LOAD_M=${DEMO_CPU_API_LOAD_M:-1700}
stop_operator() {
  if [ -n "$operator" ] && kill -0 "$operator" 2>/dev/null; then
    kill -TERM "$operator" 2>/dev/null || true
    wait "$operator" 2>/dev/null || true
  fi
}
trap 'rm -f "$seen" "$seen.new"; stop_operator' EXIT
trap 'echo; say "interrupted"; exit 130' INT TERM
"$NODE" "$ROOT/bin/kubeskippy.js" run --kubeconfig "$KUBECONFIG_PATH" --config "$ROOT/hack/demo/operator.yaml" >"$OPERATOR_LOG" 2>&1 &
operator=$!

# The cpu-api's total load (millicores) is shared by its pods, as behind a load balancer: scaling out lowers each
# pod's share. The simulation keeps a pod's usage where its annotation says, so the demo re-divides it.
spread_cpu_load() {
  local current n share
  current=$(kubectl get pods -n "$NS" -l app=cpu-api -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.annotations.sim\.kubeskippy\.io/cpu}{"\n"}{end}' 2>/dev/null) || return 0
  n=$(grep -c = <<<"$current" || true)
  [ "${n:-0}" -gt 0 ] || return 0
  share=$((CPU_API_LOAD_M / n))m
  while IFS== read -r pod cpu; do
    [ -n "$pod" ] && [ "$cpu" != "$share" ] || continue
    kubectl annotate --overwrite pod "$pod" -n "$NS" "sim.kubeskippy.io/cpu=$share" >/dev/null 2>&1 || true
  done <<<"$current"
}

# One line per HealingAction, single-spaced (kubectl pads columns to the widest value, which would make every line
# look new whenever a longer one appears). Fails when the API call does.
actions() {
  kubectl get healingactions -n "$NS" --no-headers \
    -o custom-columns='NAME:.metadata.name,ACTION:.spec.action.type,TARGET:.spec.targetResource.name,PHASE:.status.phase,REASON:.status.reason' 2>/dev/null \
    | tr -s ' ' | sort
}
usage() {
  kubectl top pods -n "$NS" --no-headers 2>/dev/null | awk '{printf "%s %s/%s  ", $1, $2, $3} END {print ""}' || true
}

released=false
next_usage=0
while [ $((SECONDS - t0)) -lt "$DEMO_SECONDS" ]; do
  kill -0 "$operator" 2>/dev/null || { tail -20 "$OPERATOR_LOG" >&2; die "the operator exited (log above)"; }
  if ! $released && [ $((SECONDS - t0)) -ge "$BAD_RELEASE_AT" ]; then
    kubectl patch deployment shop -n "$NS" --type merge -p \
      '{"spec":{"template":{"metadata":{"annotations":{"sim.kubeskippy.io/crash":"true","sim.kubeskippy.io/crash-after":"1s","sim.kubeskippy.io/backoff":"2s","sim.kubeskippy.io/ready":"false"}}}}}' >/dev/null
    say "rolled out a bad release of shop (revision 2 crash-loops)"
    released=true
  fi
  if [ $((SECONDS - t0)) -ge "$next_usage" ]; then
    line=$(usage)
    [ -n "${line// /}" ] && say "usage (CPU/memory): $line"
    next_usage=$((SECONDS - t0 + 30))
  fi
  spread_cpu_load
  # HealingActions are never deleted during the demo: a shorter listing is a failed read, not news.
  if actions >"$seen.new" && [ "$(wc -l <"$seen.new")" -ge "$(wc -l <"$seen")" ]; then
    # Print each HealingAction whose phase or reason changed since the last look.
    comm -13 "$seen" "$seen.new" | while read -r name action target phase reason; do
      reason=${reason/<none>/}
      say "HealingAction $name: $action $target -> ${phase/<none>/Pending}${reason:+ ($reason)}"
    done
    mv "$seen.new" "$seen"
  fi
  sleep 3
done

echo
say "done; stopping the operator"
stop_operator
echo
kubectl get healingpolicies -n "$NS"
echo
kubectl get healingactions -n "$NS"
echo
# The seed's memory story: a restart that brought the memory back, with the values before and after.
leak=$(kubectl get healingactions -n "$NS" -l kubeskippy.io/policy=memory-healing --sort-by=.metadata.creationTimestamp \
  -o jsonpath='{range .items[?(@.status.phase=="Succeeded")]}{.metadata.name}{"\n"}{end}' 2>/dev/null | awk 'NR == 1')
if [ -n "$leak" ]; then
  echo "memory story ($leak):"
  kubectl get healingaction "$leak" -n "$NS" \
    -o jsonpath='  trigger: {.spec.trigger.reason}{"\n"}  result:  {.status.message}{"\n"}  before:  {.status.result.metricsBefore.memory_usage_percent} of the limit{"\n"}  after:   {.status.result.metricsAfter.memory_usage_percent} of the limit{"\n"}'
fi
echo
echo "Phases: $(kubectl get healingactions -n "$NS" --no-headers -o custom-columns=P:.status.phase 2>/dev/null | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
cat <<MSG

The cluster is still running with the demo apps.
  export KUBECONFIG=$KUBECONFIG_PATH
  $KUBE_BIN/kubectl get healingactions -n $NS
  $KUBE_BIN/kubectl describe healingaction NAME -n $NS
Run the operator again (dashboard on http://127.0.0.1:18081): node_modules/.bin/node bin/kubeskippy.js run --kubeconfig \$KUBECONFIG --config hack/demo/operator.yaml
Stop the cluster: npm run cluster:down
MSG
