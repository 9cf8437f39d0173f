#!/usr/bin/env bash
# Stops every process of the local cluster and removes its state (.cluster/). The binary cache stays.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if [ -x "$KWOK_BIN/kwokctl" ] && [ -d "$KWOK_WORKDIR/clusters/$CLUSTER_NAME" ]; then
  kwokctl delete cluster >&2 || log "kwokctl delete cluster failed; removing the state anyway"
fi
rm -rf "$STATE"
log "cluster down"
