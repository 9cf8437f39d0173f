#!/usr/bin/env bash
# npm run demo: brings up the local cluster (building its binaries on first use), makes sure Debian's prometheus is
# installed (hack/ci/system-packages.sh), and runs `kubeskippy demo` against the cluster: every seed scenario in the
# namespaces demo-*, the real Prometheus, the operator with its dashboard on http://127.0.0.1:18081, a live summary.
# Ctrl-C stops what the demo started and prints the report; DEMO_SECONDS=600 runs unattended for 10 minutes and then
# reports. The cluster keeps running (npm run cluster:down stops it). Only 127.0.0.1 is used. Extra arguments go to
# `kubeskippy demo` (e.g. --report out.json, --scenarios memory-leak,crash-loop).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/hack/cluster/lib.sh"
NODE=$ROOT/node_modules/.bin/node

"$ROOT/hack/cluster/up.sh" >/dev/null
"$ROOT/hack/cluster/status.sh"
echo
if ! command -v prometheus >/dev/null 2>&1; then
  log "prometheus is not installed: installing the Debian package (hack/ci/system-packages.sh)"
  "$ROOT/hack/ci/system-packages.sh" || log "could not install prometheus: the demo runs without it (the network scenario gets no latency data)"
fi

args=(demo --yes --local --kubeconfig "$KUBECONFIG_PATH" --state-dir "$STATE/demo")
[ -n "${DEMO_SECONDS:-}" ] && args+=(--duration "${DEMO_SECONDS}s")
exec "$NODE" "$ROOT/bin/kubeskippy.js" "${args[@]}" "$@"
