#!/usr/bin/env bash
# Build etcd, kube-apiserver and kwok from Go modules into a cache outside the
# checkout, keyed by version. A warm cache makes this a no-op.
#
#   localcluster/build.sh            # builds what is missing, prints the bin dir
#
# Env: KWS_CACHE_DIR (default ~/.cache/kube-webshell)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
# shellcheck source=k8s_build.sh
. "$here/k8s_build.sh"

die() { echo "localcluster/build: $*" >&2; exit 1; }
command -v go >/dev/null || die "Go is not installed (need Go >= 1.25 on PATH; Debian: install golang or put /usr/local/go/bin on PATH)"

cache=${KWS_CACHE_DIR:-$HOME/.cache/kube-webshell}
bindir="$cache/bin/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
mkdir -p "$bindir"
work="$cache/build"
mkdir -p "$work"
export GOFLAGS="-buildvcs=false -trimpath"
ld="-s -w"

build_kwok() {
  [ -x "$bindir/kwok" ] && return
  echo "localcluster/build: building kwok $KWOK_VERSION" >&2
  GOBIN="$work/kwok-bin" go install -ldflags "$ld" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mv "$work/kwok-bin/kwok" "$bindir/kwok.tmp" && mv "$bindir/kwok.tmp" "$bindir/kwok"
}

build_etcd() {
  [ -x "$bindir/etcd" ] && return
  echo "localcluster/build: building etcd $ETCD_VERSION" >&2
  local d="$work/etcd-$ETCD_VERSION"
  rm -rf "$d" && mkdir -p "$d" && cd "$d"
  go mod init kws.local/etcd-build >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  go build -ldflags "$ld" -o "$bindir/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$bindir/etcd.tmp" "$bindir/etcd"
}

build_apiserver() {
  [ -x "$bindir/kube-apiserver" ] && return
  echo "localcluster/build: building kube-apiserver $KUBERNETES_VERSION (cold build: 10-20 min)" >&2
  k8s_build kube-apiserver "$bindir/kube-apiserver"
}

copy_stages() {
  [ -d "$bindir/stages" ] && return
  local src
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  [ -d "$src" ] || go mod download "sigs.k8s.io/kwok@$KWOK_VERSION" >&2
  mkdir -p "$bindir/stages.tmp"
  cp "$src/node/fast/node-initialize.yaml" "$src/pod/fast/pod-ready.yaml" \
     "$src/pod/fast/pod-delete.yaml" "$bindir/stages.tmp/"
  mv "$bindir/stages.tmp" "$bindir/stages"
}

build_kwok
copy_stages
build_etcd
build_apiserver
echo "$bindir"
