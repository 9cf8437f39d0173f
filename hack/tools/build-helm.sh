#!/usr/bin/env bash
# Builds helm v3 from the Go module proxy into a git-ignored, version-keyed cache, with the conventions of
# hack/cluster/build.sh: .cache/bin/helm-v<ver>/helm counts as built only when its `.complete` marker exists and
# the binary runs `helm version`; anything else (a half-finished or corrupted build) is wiped and rebuilt.
# helm is needed only to render charts/kubeskippy in tests; the chart itself needs no build step.
# Usage: hack/tools/build-helm.sh            build if missing, print the path of the helm binary
#        hack/tools/build-helm.sh --check    exit 0 if helm is cached, 1 otherwise (builds nothing)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HELM_VERSION=${HELM_VERSION:-3.22.0}
CACHE=${KUBESKIPPY_CACHE_DIR:-$ROOT/.cache}
WORK=$CACHE/build
HELM_BIN=$CACHE/bin/helm-v$HELM_VERSION
# Bumped whenever the build recipe changes (e.g. link flags), so an older cached build is rebuilt.
RECIPE=2
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

is_complete() {
  [ -f "$HELM_BIN/.complete" ] && grep -qx "recipe=$RECIPE" "$HELM_BIN/.complete" &&
    [ -x "$HELM_BIN/helm" ] && "$HELM_BIN/helm" version --short >/dev/null 2>&1
}

if is_complete; then
  printf '%s\n' "$HELM_BIN/helm"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then log "not cached: helm v$HELM_VERSION"; exit 1; fi

command -v go >/dev/null || die "the Go toolchain is required to build helm (go not found on PATH)"
# Two test runs may race to fill the cache: the lock makes the second wait for the first and reuse its result.
mkdir -p "$CACHE/bin"
exec 9>"$CACHE/bin/.helm-v$HELM_VERSION.lock"
flock 9
if is_complete; then printf '%s\n' "$HELM_BIN/helm"; exit 0; fi

t0=$SECONDS
log "building helm v$HELM_VERSION (cache miss)"
if [ -e "$HELM_BIN" ]; then log "discarding incomplete or corrupted cache $HELM_BIN"; rm -rf "$HELM_BIN"; fi
mkdir -p "$HELM_BIN"
w=$WORK/helm-v$HELM_VERSION
rm -rf "$w"; mkdir -p "$w"; cd "$w"
# A wrapper module rather than `go install helm.sh/helm/v3/cmd/helm@v…`: it works even when a release's go.mod
# carries replace directives (which `go install pkg@version` refuses), and it matches hack/cluster/build.sh.
go mod init kubeskippy.local/helmbin >/dev/null 2>&1
go get "helm.sh/helm/v3@v$HELM_VERSION"
# Link flags as helm's own Makefile sets them: the version helm reports, and the Kubernetes version `helm template`
# and `helm lint` assume without a cluster (derived from the client-go helm uses; left unset it is v1.20, which a
# chart's kubeVersion constraint such as ">=1.30" refuses).
k8s_ver=$(go list -m -f '{{.Version}}' k8s.io/client-go)   # v0.35.1 -> Kubernetes 1.35
k8s_minor=$(cut -d. -f2 <<<"$k8s_ver")
ld="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ld="$ld -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
done
go build -trimpath -ldflags "$ld" -o "$HELM_BIN/helm" helm.sh/helm/v3/cmd/helm
"$HELM_BIN/helm" version --short >/dev/null || die "the helm binary just built does not run"
echo "recipe=$RECIPE" > "$HELM_BIN/.complete"
rm -rf "$w"
log "helm v$HELM_VERSION built in $((SECONDS - t0))s"
printf '%s\n' "$HELM_BIN/helm"
