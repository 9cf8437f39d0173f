#!/usr/bin/env bash
# Shows what the local cluster is running: versions, nodes, and the memory its processes use.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cluster_healthy || die "the cluster is not up (npm run cluster:up)"
echo "kubeconfig: $KUBECONFIG_PATH"
kubectl version 2>/dev/null | sed 's/^/  /'
kubectl get nodes -o wide
kubectl top nodes 2>/dev/null || true
# Resident memory of the cluster's processes (all started by kwokctl from our cache).
ps -eo rss=,args= | awk -v c="$CACHE/bin" -v w="$KWOK_WORKDIR" 'index($0, c) || index($0, w) {sum += $1; n++} END {printf "cluster processes: %d, resident memory: %.0f MiB\n", n, sum/1024}'
