#!/usr/bin/env bash
# The main job: brings up the local cluster (building it on first use) and shows it.
# (The healing demo — failing apps, the operator and the dashboard — is added here as it lands.)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
kubeconfig=$("$ROOT/hack/cluster/up.sh")
"$ROOT/hack/cluster/status.sh"
cat <<MSG

The local cluster is running.
  export KUBECONFIG=$kubeconfig
  $ROOT/.cache/bin/kube-v$(. "$ROOT/hack/cluster/versions.sh"; echo "$KUBE_VERSION")/kubectl get nodes
Stop it with: npm run cluster:down
MSG
