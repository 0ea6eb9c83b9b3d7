#!/usr/bin/env bash
# Build helm from Go modules into a cache outside the checkout, keyed by version.
# A warm cache makes this a no-op; prints the path of the helm binary.
#
#   deploy/build-helm.sh
#
# Env: KWS_CACHE_DIR (default ~/.cache/kube-webshell), HELM_VERSION (default below)
set -euo pipefail
HELM_VERSION=${HELM_VERSION:-v3.22.0}
die() { echo "deploy/build-helm: $*" >&2; exit 1; }
if ! command -v go >/dev/null; then
  [ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin" || die "Go is not installed (helm is built from Go modules; need Go >= 1.25)"
fi
cache=${KWS_CACHE_DIR:-$HOME/.cache/kube-webshell}
bindir="$cache/bin/helm-$HELM_VERSION"
if [ ! -x "$bindir/helm" ]; then
  mkdir -p "$bindir" "$cache/build"
  exec 9>"$cache/build/helm.lock"
  flock 9
  if [ ! -x "$bindir/helm" ]; then
    echo "deploy/build-helm: building helm $HELM_VERSION (cold build: a few minutes)" >&2
    GOFLAGS="-buildvcs=false -trimpath" GOBIN="$cache/build/helm-bin" \
      go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    mv "$cache/build/helm-bin/helm" "$bindir/helm.tmp" && mv "$bindir/helm.tmp" "$bindir/helm"
  fi
fi
echo "$bindir/helm"
