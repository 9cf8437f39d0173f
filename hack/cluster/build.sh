#!/usr/bin/env bash
# Builds the local cluster's binaries from the Go module proxy into a git-ignored, version-keyed cache:
#   .cache/bin/kube-v<ver>/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   .cache/bin/etcd-v<ver>/etcd   .cache/bin/kwok-v<ver>/{kwok,kwokctl}   .cache/bin/metrics-server-v<ver>/metrics-server
# A component directory counts as built only when its `.complete` marker exists and every binary in it runs
# `--version`; anything else (a half-finished or corrupted build) is wiped and rebuilt.
# Usage: hack/cluster/build.sh            build what is missing, print the bin directories
#        hack/cluster/build.sh --check    exit 0 if everything is cached, 1 otherwise (builds nothing)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=versions.sh
. "$ROOT/hack/cluster/versions.sh"
CACHE=${KUBESKIPPY_CACHE_DIR:-$ROOT/.cache}
WORK=$CACHE/build
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local

KUBE_BIN=$CACHE/bin/kube-v$KUBE_VERSION
ETCD_BIN=$CACHE/bin/etcd-v$ETCD_VERSION
KWOK_BIN=$CACHE/bin/kwok-v$KWOK_VERSION
MS_BIN=$CACHE/bin/metrics-server-v$METRICS_SERVER_VERSION

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null || die "the Go toolchain is required to build the cluster binaries (go not found on PATH)"

# is_complete DIR BIN... — true when DIR holds a finished build whose binaries all start.
is_complete() {
  local dir=$1; shift
  [ -f "$dir/.complete" ] || return 1
  local b
  for b in "$@"; do
    [ -x "$dir/$b" ] || return 1
    # kubectl reports its version with `version --client`; every other binary here takes --version.
    # In an inner shell whose stderr is discarded, so a truncated binary's crash report stays off the terminal;
    # `timeout` keeps a hung binary from stalling us.
    bash -c 'timeout 20 "$1" --version || timeout 20 "$1" version --client; exit $?' _ "$dir/$b" >/dev/null 2>&1 || return 1
  done
}

# prepare DIR — wipe a stale or partial build so it is rebuilt from scratch.
prepare() {
  if [ -e "$1" ]; then log "discarding incomplete or corrupted cache $1"; rm -rf "$1"; fi
  mkdir -p "$1"
}

timed() { # timed NAME CMD... — run and report the duration
  local name=$1; shift; local t0=$SECONDS
  "$@"
  log "$name built in $((SECONDS - t0))s"
}

build_kube() {
  local v=$KUBE_VERSION s=0.${KUBE_VERSION#1.} minor; minor=$(cut -d. -f2 <<<"$KUBE_VERSION")
  local w=$WORK/kube-v$v
  prepare "$KUBE_BIN"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init kubeskippy.local/kubebins >/dev/null 2>&1
  go mod download k8s.io/kubernetes@v$v
  local mod; mod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$v.mod
  [ -f "$mod" ] || die "k8s.io/kubernetes v$v.mod not found in the module cache after download"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and maps them to ./staging with replace directives,
  # which only a main module may do. Our wrapper module replaces each one with its published tag v0.X.Y.
  local m
  for m in $(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$mod"); do go mod edit -replace="$m=$m@v$s"; done
  local gol; gol=$(awk '$1 == "go" {print $2; exit}' "$mod"); [ -n "$gol" ] && go mod edit -go="$gol"
  local gd; gd=$(awk '$1 == "godebug" && $2 ~ /^default=/ {print $2; exit}' "$mod"); [ -n "$gd" ] && go mod edit -godebug="$gd"
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  go get "k8s.io/kubernetes@v$v"
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=v$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local c
  for c in "${cmds[@]}"; do
    go build -trimpath -ldflags "$ld" -o "$KUBE_BIN/$c" "k8s.io/kubernetes/cmd/$c"
  done
  touch "$KUBE_BIN/.complete"
}

build_etcd() {
  local w=$WORK/etcd-v$ETCD_VERSION
  prepare "$ETCD_BIN"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init kubeskippy.local/etcdbin >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  # The module root is the etcd main package; without -o the binary would be called "v3".
  go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN/etcd" go.etcd.io/etcd/server/v3
  touch "$ETCD_BIN/.complete"
}

build_kwok() {
  local w=$WORK/kwok-v$KWOK_VERSION
  prepare "$KWOK_BIN"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init kubeskippy.local/kwokbin >/dev/null 2>&1
  go get "sigs.k8s.io/kwok@v$KWOK_VERSION"
  local ld="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION"
  go build -trimpath -ldflags "$ld" -o "$KWOK_BIN/kwok" sigs.k8s.io/kwok/cmd/kwok
  go build -trimpath -ldflags "$ld" -o "$KWOK_BIN/kwokctl" sigs.k8s.io/kwok/cmd/kwokctl
  touch "$KWOK_BIN/.complete"
}

build_metrics_server() {
  local w=$WORK/metrics-server-v$METRICS_SERVER_VERSION
  prepare "$MS_BIN"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init kubeskippy.local/msbin >/dev/null 2>&1
  go get "sigs.k8s.io/metrics-server@v$METRICS_SERVER_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$MS_BIN/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server
  touch "$MS_BIN/.complete"
}

missing=()
is_complete "$ETCD_BIN" etcd || missing+=(etcd)
is_complete "$KWOK_BIN" kwok kwokctl || missing+=(kwok)
is_complete "$MS_BIN" metrics-server || missing+=(metrics_server)
is_complete "$KUBE_BIN" kube-apiserver kube-controller-manager kube-scheduler kubectl || missing+=(kube)

if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] && exit 0
  log "not cached: ${missing[*]}"; exit 1
fi

total0=$SECONDS
for c in "${missing[@]}"; do
  log "building $c (cache miss)"
  timed "$c" "build_$c"
done
[ ${#missing[@]} -gt 0 ] && log "cold build of ${missing[*]} took $((SECONDS - total0))s"
printf '%s\n' "$KUBE_BIN" "$ETCD_BIN" "$KWOK_BIN" "$MS_BIN"
